"""Schemathesis against the served ``/openapi.json``: every check, a bounded number of
generated requests per operation, a real server on 127.0.0.1 over the seed index.

What the document promises (status codes, content types, response schemas, headers, that
schema-valid requests are accepted and invalid ones refused) is checked on live responses.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.test_serve import ROOT, start, stop

MAX_EXAMPLES = 40
SEED = 20241022


def test_schemathesis_all_checks_pass(seed_index, tmp_path):
    base, proc = start(seed_index)
    try:
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json", "--checks", "all",
             "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1", "--no-color",
             "--generation-database", "none", "--request-timeout", "30"],
            cwd=tmp_path, env=env, capture_output=True, text=True, encoding="utf-8", timeout=900,
        )
    finally:
        stop(proc)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert " passed" in result.stdout and "failed" not in result.stdout.split("SUMMARY")[-1], report

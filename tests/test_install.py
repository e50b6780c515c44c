"""The runtime lock installs as users install it: a fresh venv, the oldest supported pip (23.2).

pip 23.2 does not resolve extras spelled differently from their declaration (PEP 685), which
once left ``lxml_html_clean`` out and broke every HTML file; so after the install an HTML page
is indexed, and nothing may be installed that the lock does not pin.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_html_ingest import PAGE

ROOT = Path(__file__).resolve().parent.parent
OLDEST_PIP = "23.2.1"  # README, Quick start: pip 23.2 or newer


def _pinned(lock: Path) -> set[str]:
    """``name==version`` of every package the lock installs on this Python (markers evaluated)."""
    from packaging.markers import Marker

    pins = set()
    for line in lock.read_text("utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if match and (match[3] is None or Marker(match[3]).evaluate()):
            pins.add(f"{re.sub(r'[-_.]+', '-', match[1]).lower()}=={match[2]}")
    return pins


def _run(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.mark.network
def test_runtime_lock_installs_with_oldest_pip_and_ingests_html(tmp_path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"pip=={OLDEST_PIP}")
    assert _run(python, "-m", "pip", "--version").startswith(f"pip {OLDEST_PIP} ")
    _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(ROOT / "requirements.txt"))

    frozen = _run(python, "-m", "pip", "freeze", "--all", "--disable-pip-version-check").split()
    installed = {re.sub(r"[-_.]+", "-", line.split("==")[0]).lower() + "==" + line.split("==")[1] for line in frozen if "==" in line}
    installed -= {f"pip=={OLDEST_PIP}"} | {p for p in installed if p.startswith("setuptools==")}
    assert installed == _pinned(ROOT / "requirements.txt"), "installed packages differ from the runtime lock"

    page = tmp_path / "data" / "page.html"
    page.parent.mkdir()
    page.write_text(PAGE, "utf-8")
    out = _run(python, "-m", "search", "index", str(page.parent), "--index", str(tmp_path / "index"), "--quiet", cwd=ROOT)
    assert "indexed 1 / updated 0 / unchanged 0 / failed 0" in out
    hits = _run(python, "-m", "search", "query", "普京", "--index", str(tmp_path / "index"), "--json", cwd=ROOT)
    assert '"total": 1' in hits

"""Shared helpers for the reliability tests: a corpus of a few thousand articles, the CLI as a
subprocess, a real server on 127.0.0.1, and reading an index back for comparison.

The corpus is sampled (fixed seed) from the shared JSON Lines corpora when they are present
(``../shared/corpora``) and generated otherwise; it is written under the test's temporary
folder, never into the project. Every article carries a unique marker word (``zqaabx``…) so
a search can prove it is present exactly once.
"""

from __future__ import annotations

import json
import os
import random
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"
CORPORA = Path(os.environ.get("SEARCH_CORPORA") or SHARED)
STARTUP_WAIT = 30.0

#: Fields compared between the source records and the stored articles.
COMPARED = ("title", "body", "date", "source", "url", "dateline")


def marker(i: int) -> str:
    """A unique lower-case word per article: zqaaax, zqaabx, … (letters only, so it is one
    token; the final x keeps the English stemmer from merging two of them, as zqafy → zqafi)."""
    letters = string.ascii_lowercase
    word = ""
    n = i
    for _ in range(3):
        word = letters[n % 26] + word
        n //= 26
    return "zq" + word + "x"


def sample_records(count: int, *, seed: int = 20241126, body_chars: int = 700) -> list[dict]:
    """``count`` article records (half Chinese, half English), bodies cut to ``body_chars``."""
    rng = random.Random(seed)
    pools = []
    for name in ("xwlb.jsonl", "reuters21578.jsonl"):
        path = CORPORA / "jsonl" / name
        if path.is_file():
            with open(path, encoding="utf-8") as handle:
                lines = handle.readlines()
            pools.append([json.loads(line) for line in rng.sample(lines, min(len(lines), count))])
    records = []
    for i in range(count):
        if pools:
            source = pools[i % len(pools)][(i // len(pools)) % len(pools[i % len(pools)])]
            body = (source.get("body") or "")[:body_chars].strip() or "text"
            record = {
                "id": f"a{i:05d}",
                "title": source.get("title") or f"Article {i}",
                "body": body,
                "date": source.get("date"),
                "source": source.get("source"),
                "url": source.get("url"),
                "dateline": source.get("dateline"),
            }
        else:
            record = synthetic(i, rng)
        record["body"] = f"{record['body']}\n\n{marker(i)}"
        records.append({k: v for k, v in record.items() if v is not None})
    return records


def synthetic(i: int, rng: random.Random) -> dict:
    zh_words = ["经济", "合作", "发展", "会议", "国家", "主席", "普京", "习近平", "贸易", "农业", "科技", "长江"]
    en_words = ["trade", "talks", "market", "farmers", "harvest", "oil", "prices", "bank", "rates", "summit"]
    if i % 2:
        body = "，".join("".join(rng.choice(zh_words) for _ in range(4)) for _ in range(25)) + "。"
        title = "".join(rng.choice(zh_words) for _ in range(5))
    else:
        body = " ".join(rng.choice(en_words) for _ in range(120)) + "."
        title = " ".join(rng.choice(en_words) for _ in range(5)).title()
    return {"id": f"a{i:05d}", "title": title, "body": body, "date": f"20{10 + i % 15:02d}-0{1 + i % 9}-1{i % 10}T08:00:00+08:00", "source": "Synthetic"}


def write_files(records: list[dict], folder: Path, per_file: int) -> list[Path]:
    """Write ``records`` as JSONL files of ``per_file`` lines each (sorted names = record order)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for start in range(0, len(records), per_file):
        path = folder / f"part{start // per_file:04d}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[start : start + per_file]), "utf-8")
        paths.append(path)
    return paths


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SEARCH_INDEX"}
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(*args, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search", *map(str, args)],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def start_cli(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "search", *map(str, args)],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def finish(proc: subprocess.Popen, timeout: float = 180) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"process {proc.args} did not finish within {timeout} s:\n{out}\n{err}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 30):
    """(status, body bytes) for any status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


class Server:
    """``python -m search serve`` on 127.0.0.1 and a free port, stopped on exit."""

    def __init__(self, index_dir: str, *, threads: int | None = 8, host: str | None = "127.0.0.1", extra: tuple[str, ...] = ()) -> None:
        """``None`` for ``threads`` or ``host`` leaves that option out, as a user would; ``extra``: more options."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        where = (["--host", host] if host else []) + (["--threads", str(threads)] if threads else [])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "search", "serve", "--index", str(index_dir), *where, "--port", str(self.port), *extra],
            cwd=ROOT,
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def __enter__(self) -> "Server":
        deadline = time.monotonic() + STARTUP_WAIT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                status, _ = http_get(self.base + "/healthz", timeout=5)
                if status == 200:
                    return self
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"server did not answer /healthz within {STARTUP_WAIT:.0f} s")
            time.sleep(0.1)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err or ""

    def __exit__(self, *exc) -> None:
        self.stop()


def stored_articles(index_dir: str) -> list[dict]:
    """Every stored article of the index (one dict per live document, duplicates kept)."""
    from search.backends.whoosh.store import open_index

    ix = open_index(str(index_dir))
    try:
        with ix.searcher() as searcher:
            return [dict(fields) for fields in searcher.all_stored_fields()]
    finally:
        ix.close()


def public(fields: dict) -> dict:
    """The parts of a stored article that come from its record, as the record spells them."""
    return {
        "title": fields.get("title_zh") or fields.get("title_en"),
        "body": fields.get("body_zh") or fields.get("body_en"),
        "date": fields.get("date_iso"),
        "source": fields.get("source"),
        "url": fields.get("url"),
        "dateline": fields.get("dateline"),
    }


def expected(record: dict) -> dict:
    from datetime import datetime

    out = {key: (record.get(key).strip() if isinstance(record.get(key), str) else None) for key in COMPARED}
    out = {key: value or None for key, value in out.items()}
    if out["date"]:
        out["date"] = datetime.fromisoformat(out["date"]).isoformat()
    return out


# --- hostile articles (XSS) --------------------------------------------------------------------------

#: Payloads that run script if they ever reach a page unescaped: they call alert() (a dialog
#: in a browser) and set ``window.__xss`` (a canary the browser test reads).
XSS = {
    "script": "<script>window.__xss=1;alert(1)</script>",
    "img": '"><img src=x onerror="window.__xss=2;alert(2)">',
    "svg": "'><svg onload=\"window.__xss=3;alert(3)\">",
    "js_url": "javascript:window.__xss=4;alert(4)",
    "attr": '" autofocus onfocus="window.__xss=5;alert(5)" x="',
    "iframe": '<iframe srcdoc="<script>parent.__xss=6;alert(6)</script>"></iframe>',
}
XSS_IDS = ("xss-en", "xss-zh", 'xss-"><img src=x onerror=alert(7)>')


def xss_records() -> list[dict]:
    every = " ".join(XSS.values())
    return [
        {
            "id": XSS_IDS[0],
            "title": f"Putin {XSS['script']} meets {XSS['img']}",
            "body": f"Putin said {XSS['script']} trade {XSS['img']} talks.\n\nPutin {XSS['svg']} {XSS['attr']} {XSS['iframe']} {XSS['js_url']}",
            "date": "2024-10-22T08:00:00+08:00",
            "source": f"<b onmouseover=\"window.__xss=8\">Wire</b> {XSS['img']}",
            "url": XSS["js_url"],
            "dateline": XSS["script"],
        },
        {
            "id": XSS_IDS[1],
            "title": {"zh": f"普京{XSS['script']}会见{XSS['img']}", "en": f"Putin meets {XSS['svg']}"},
            "body": {"zh": f"俄罗斯总统普京表示，{XSS['script']}双方关系{XSS['img']}发展良好。{XSS['attr']}", "en": f"Putin said {every}"},
            "date": "2024-10-23T08:00:00+08:00",
            "source": "新华社",
            "url": "  JaVaScRiPt:window.__xss=9",
        },
        {"id": XSS_IDS[2], "title": "Putin and the hostile id", "body": f"Putin spoke. {XSS['img']}", "url": "https://example.com/\"><script>alert(10)</script>"},
    ]


def build_xss_index(base: Path) -> str:
    from search.indexer import Indexer

    data = base / "xss-data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "xss.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in xss_records()), "utf-8")
    index_dir = base / "xss-index"
    report = Indexer(str(index_dir)).run([str(data)])
    assert report.failed == 0, report.failures
    return str(index_dir)

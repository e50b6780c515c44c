from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from search.indexer import Indexer
from search.searcher import Engine

# A real OpenSearch node for the tests that ask for `opensearch_url`.
pytest_plugins = ["tests.opensearch_node"]

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "000_1797282344cdefbc.txt"
SHARED = ROOT.parent / "shared" / "corpora"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> str:
    """A real on-disk index holding the seed article plus a few small articles of our own."""
    folder = tmp_path_factory.mktemp("data")
    shutil.copy(SEED, folder / SEED.name)
    extra = [
        {"id": "zh-simplified-1", "title": "普京会见外国领导人", "body": "俄罗斯总统普京在莫斯科表示，双方关系发展良好。", "date": "2023-05-01T10:00:00+08:00", "source": "测试"},
        {"id": "en-only-1", "title": "Markets rally on trade hopes", "body": "Stocks rose on Monday as investors cheered cooperation between trading partners.", "date": "2021-01-04T09:00:00+00:00", "source": "Test Wire"},
        {"id": "xi-only-1", "title": "Xi visits farm", "body": "Xi Jinping visited a farm and spoke with farmers about the harvest.", "source": "Test Wire"},
    ]
    (folder / "extra.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in extra) + "\n", "utf-8")
    index_dir = str(tmp_path_factory.mktemp("index"))
    report = Indexer(index_dir).run([str(folder)])
    assert report.failed == 0, report.failures
    return index_dir


@pytest.fixture(scope="session")
def engine(seed_index) -> Engine:
    return Engine(seed_index)


def articles_engine(folder: Path, articles: list[dict]) -> Engine:
    """An engine over ``articles`` (JSON Lines records), indexed by one writer process into ``folder``."""
    data = folder / "articles.jsonl"
    data.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), "utf-8")
    index_dir = str(folder / "index")
    Indexer(index_dir, procs=1).run([str(data)])
    return Engine(index_dir)


def articles_fixture(articles: list[dict], name: str):
    """A module-scoped ``engine`` fixture over ``articles`` (:func:`articles_engine`):
    ``engine = articles_fixture(ARTICLES, "rerank")`` in a test module."""

    @pytest.fixture(scope="module")
    def engine(tmp_path_factory):
        engine = articles_engine(tmp_path_factory.mktemp(name), articles)
        yield engine
        engine.close()

    return engine


def shared_corpus(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Debian's Chromium, headless, with nothing that reaches for the network (Playwright cannot
# download its own browser here).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


_BROWSER_SKIPPED: list[str] = []


def _skip_browser(reason: str):
    _BROWSER_SKIPPED.append(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One real Chromium for the browser tests; skipped with the reason when it is not available."""
    if not Path(CHROMIUM).exists():
        _skip_browser(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; `make test` installs it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_browser("the playwright package is not installed (pip install -r tests/requirements.txt)")
    playwright = sync_playwright().start()
    try:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # a browser that cannot start here is an environment limit, not a test failure
            _skip_browser(f"Chromium at {CHROMIUM} could not be launched: {str(exc).splitlines()[0]}")
        yield browser
        browser.close()
    finally:
        playwright.stop()


def pytest_terminal_summary(terminalreporter):
    """Say loudly, at the end, that the browser tests did not run (a skip line is easy to miss)."""
    if _BROWSER_SKIPPED:
        reason = _BROWSER_SKIPPED[0]
        count = sum(1 for report in terminalreporter.stats.get("skipped", []) if reason in str(report.longrepr))
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(f"{count} browser tests did not run: {reason}", red=True, bold=True)


@pytest.fixture
def client(app):
    """A Flask test client of the module's ``app`` fixture."""
    return app.test_client()

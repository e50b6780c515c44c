from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from search.indexer import Indexer
from search.searcher import Engine

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


def shared_corpus(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path

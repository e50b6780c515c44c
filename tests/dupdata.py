"""A small real index of copies of the seed article: in simplified script only, in English
only, re-filed with a corrected line, plus related coverage and unrelated stories."""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from pathlib import Path

import opencc

from search.backends.base import BackendConfig
from search.indexer import Indexer
from search.ingest import load_file
from tests.webdata import web_app

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "000_1797282344cdefbc.txt"
SEED_ID = "000_1797282344cdefbc"


def seed_article():
    return load_file(str(SEED)).articles[0][1]


def records() -> list[dict]:
    seed = seed_article()
    t2s = opencc.OpenCC("t2s")
    en_body = seed.body["en"]
    return [
        {"id": "copy-hans", "title": t2s.convert(seed.title["zh"]), "body": t2s.convert(seed.body["zh"]),
         "date": "2024-10-23T09:30:00+08:00", "source": "简体转载"},
        {"id": "copy-en", "title": seed.title["en"], "body": en_body, "date": "2024-10-22T22:00:00+00:00", "source": "Wire"},
        {"id": "copy-en-corrected", "title": seed.title["en"] + " (corrected)",
         "body": en_body.replace("Tuesday", "on Tuesday in Kazan", 1), "date": "2024-10-23T01:00:00+00:00", "source": "Wire"},
        # Related coverage, not a copy: another story about the same meeting and summit.
        {"id": "related-en", "title": "Putin and Xi meet in Kazan at BRICS summit",
         "body": "Russian President Vladimir Putin met Chinese President Xi Jinping in Kazan on the sidelines of the BRICS summit. "
                 "The two leaders discussed relations between China and Russia, cooperation among neighboring major countries "
                 "and the situation in Ukraine. Xi said the two countries should deepen strategic coordination.",
         "date": "2024-10-23T12:00:00+00:00", "source": "Other Wire"},
        {"id": "related-zh", "title": "金砖国家领导人喀山会晤 中俄元首谈合作",
         "body": "在喀山举行的金砖国家领导人会晤期间，中国国家主席习近平会见俄罗斯总统普京。两国元首就中俄关系、战略协作和乌克兰局势交换意见。",
         "date": "2024-10-23T20:00:00+08:00", "source": "测试"},
        # The same wording a year later is another story (outside the date window).
        {"id": "copy-hans-next-year", "title": t2s.convert(seed.title["zh"]), "body": t2s.convert(seed.body["zh"]),
         "date": "2025-10-23T09:30:00+08:00", "source": "简体转载"},
        {"id": "unrelated-en", "title": "Cocoa harvest improves in Bahia",
         "body": "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought and improving prospects for the harvest.",
         "date": "2024-10-21T10:00:00+00:00", "source": "Wire"},
    ]


def build(folder: Path, index_dir: str) -> str:
    shutil.copy(SEED, folder / SEED.name)
    (folder / "copies.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records()) + "\n", "utf-8")
    report = Indexer(index_dir).run([str(folder)])
    assert report.failed == 0, report.failures
    return index_dir

#: The seed article and its copies: one story.
COPIES = {SEED_ID, "copy-hans", "copy-en", "copy-en-corrected"}


@contextmanager
def dup_web_app(tmp_path_factory, name: str):
    """The web app over an index of the seed article, its copies and other stories."""
    index_dir = build(tmp_path_factory.mktemp(name), str(tmp_path_factory.mktemp(f"{name}-index")))
    with web_app(index_dir) as app:
        yield app


def stored_groups(config: BackendConfig) -> set[frozenset[str]]:
    """The groups the index stores, as sets of article ids."""
    by_group: dict[str, set[str]] = {}
    if config.backend == "whoosh":
        from search.backends.whoosh.groups import group_numbers
        from search.backends.whoosh.store import open_index

        with open_index(config.index_dir).searcher() as searcher:
            reader = searcher.reader()
            numbers, _ = group_numbers(reader)
            for docnum in reader.all_doc_ids():
                by_group.setdefault(int(numbers[docnum]), set()).add(searcher.stored_fields(docnum)["id"])
    else:
        from opensearchpy import OpenSearch, helpers

        client = OpenSearch(hosts=list(config.urls))
        client.indices.refresh(index=config.index_name)
        for hit in helpers.scan(client, index=config.index_name, query={"_source": ["id", "dup_group"]}):
            by_group.setdefault(hit["_source"]["dup_group"], set()).add(hit["_source"]["id"])
        client.close()
    return {frozenset(ids) for ids in by_group.values()}

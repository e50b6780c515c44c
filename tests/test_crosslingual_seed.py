"""Cross-language search on the seed article split into a Chinese-only and an English-only article.

The index (built once for this module in a temporary folder) holds three
articles made from the seed page: its Chinese half, its English half, and the
page itself (both languages).
"""

from __future__ import annotations

import json
import re

import pytest

from search.cli import main as cli_main
from search.filters import SearchFilters
from search.indexer import Indexer
from search.ingest import load_file
from search.searcher import Engine
from tests.conftest import SEED

MARK = re.compile(r"<mark>(.*?)</mark>")
ZH, EN, BOTH = "seed-zh", "seed-en", "seed-both"
# Every article: the bilingual seed and its halves are one story (search/dedup.py), listed apart here.
EVERY = SearchFilters(collapse=False)
OFF = SearchFilters(translate=False, collapse=False)


@pytest.fixture(scope="module")
def split_index(tmp_path_factory) -> str:
    loaded = load_file(str(SEED))
    assert not loaded.errors
    article = loaded.articles[0][1]
    records = [
        {"id": ZH, "title": article.title["zh"], "body": article.body["zh"], "source": "新華網"},
        {"id": EN, "title": article.title["en"], "body": article.body["en"], "source": "Xinhua"},
        {"id": BOTH, "title": {"zh": article.title["zh"], "en": article.title["en"]}, "body": {"zh": article.body["zh"], "en": article.body["en"]}},
    ]
    folder = tmp_path_factory.mktemp("split")
    data = folder / "seed-halves.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", "utf-8")
    index_dir = str(folder / "index")
    report = Indexer(index_dir).run([str(data)])
    assert report.failed == 0, report.failures
    return index_dir


@pytest.fixture(scope="module")
def split_engine(split_index) -> Engine:
    engine = Engine(split_index)
    yield engine
    engine.close()


def marked(hit, lang: str) -> list[str]:
    return [m for s in hit.snippets[lang] for m in MARK.findall(s)]


def hit_of(result, doc_id):
    hits = [h for h in result.hits if h.id == doc_id]
    assert hits, f"{doc_id} not found for {result.query!r}: {[h.id for h in result.hits]}"
    return hits[0]


def test_the_halves_are_monolingual(split_engine):
    assert split_engine.article(ZH).get("body_en") in (None, "")
    assert split_engine.article(EN).get("body_zh") in (None, "")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("BRICS", "金磚"),
        ("Belt and Road", "一帶一路"),
        ("Kazan", "喀山"),
        ("Shanghai Cooperation Organization", "上海合作組織"),
        ("strategic coordination", "戰略協作"),
    ],
)
def test_english_query_finds_and_marks_the_chinese_article(split_engine, query, expected):
    result = split_engine.search(query, filters=EVERY)
    hit = hit_of(result, ZH)
    assert expected in marked(hit, "zh")
    assert ZH not in [h.id for h in split_engine.search(query, filters=OFF).hits]


def test_chinese_query_finds_and_marks_the_english_article(split_engine):
    result = split_engine.search("普京 会晤", filters=EVERY)
    assert "Putin" in marked(hit_of(result, EN), "en")
    assert EN not in [h.id for h in split_engine.search("普京 会晤", filters=OFF).hits]


def test_traditional_chinese_query_is_translated_too(split_engine):
    result = split_engine.search("喀山 金磚", filters=EVERY)
    assert {"Kazan", "BRICS"} <= set(marked(hit_of(result, EN), "en"))


@pytest.mark.parametrize("query, original, translated", [("BRICS", EN, ZH), ("Kazan", EN, ZH), ("普京 会晤", ZH, EN), ("喀山", ZH, EN)])
def test_both_languages_rank_above_original_above_translated(split_engine, query, original, translated):
    ids = [h.id for h in split_engine.search(query, filters=EVERY).hits]
    assert ids == [BOTH, original, translated]


def test_interpretation_lists_each_term_and_its_translations(split_engine):
    result = split_engine.search("BRICS Belt and Road 習近平")
    by_term = {t["term"]: t for t in result.interpreted.translations}
    assert set(by_term) == {"BRICS", "Belt and Road", "習近平"}
    assert {"金砖", "金砖国家"} <= set(by_term["BRICS"]["translations"])
    assert by_term["Belt and Road"]["translations"] == ["一带一路"]
    assert by_term["習近平"]["converted"] == "习近平"
    assert by_term["習近平"]["lang"] == "zh"
    assert "Xi Jinping" in by_term["習近平"]["translations"]
    payload = result.to_dict()["interpreted"]
    assert payload["translations"] == result.interpreted.translations
    assert {"normalized", "terms", "phrases", "excluded", "fields", "warnings"} <= set(payload)
    assert split_engine.search("BRICS", filters=OFF).interpreted.translations == []


def test_translation_does_not_change_the_original_terms(split_engine):
    on = split_engine.search("BRICS 普京")
    off = split_engine.search("BRICS 普京", filters=OFF)
    assert on.interpreted.terms == off.interpreted.terms
    assert on.interpreted.phrases == off.interpreted.phrases


def test_quoted_phrase_is_translated_only_as_a_whole(split_engine):
    result = split_engine.search('"Belt and Road"')
    assert "一帶一路" in marked(hit_of(result, ZH), "zh")
    # 一路一带 is no dictionary phrase: no word-by-word translation of a quoted phrase
    assert split_engine.search('"一路一带"').total == 0


def test_excluded_term_excludes_its_translation(split_engine):
    # Without translation the English half has BRICS and no 普京; with it, "Putin" is 普京 too.
    assert {h.id for h in split_engine.search("BRICS -普京", filters=OFF).hits} == {EN}
    assert split_engine.search("BRICS -普京").total == 0


def test_cli_explain_prints_terms_and_translations(split_index, capsys):
    assert cli_main(["query", "BRICS 喀山", "--index", split_index, "--explain", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "BRICS (en) → 金砖国家, 金砖" in out or "BRICS (en) → 金砖, 金砖国家" in out
    assert "喀山 (zh) → Kazan" in out
    assert cli_main(["query", "BRICS", "--index", split_index, "--explain", "--no-translate"]) == 0
    assert "translation: off" in capsys.readouterr().out

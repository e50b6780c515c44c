"""The reference behaviours on the seed article (traditional Chinese + English)."""

from __future__ import annotations

import re

import pytest

SEED_ID = "000_1797282344cdefbc"
MARK = re.compile(r"<mark>(.*?)</mark>")


def marked(hit, lang):
    return [m for s in hit.snippets[lang] for m in MARK.findall(s)]


def seed_hit(result):
    hits = [h for h in result.hits if h.id == SEED_ID]
    assert hits, f"seed not found for {result.query!r}: {[h.id for h in result.hits]}"
    return hits[0]


@pytest.mark.parametrize("query", ["習近平", "习近平"])
def test_xi_in_either_script_highlights_the_traditional_original(engine, query):
    result = engine.search(query)
    assert result.interpreted.terms["zh"] == ["习近平"]
    hit = seed_hit(result)
    assert "習近平" in marked(hit, "zh")
    assert result.hits[0].id == SEED_ID


def test_mixed_script_query_behaves_like_either_script(engine):
    a = engine.search("習近平 普京")
    b = engine.search("习近平 普京")
    assert [h.id for h in a.hits] == [h.id for h in b.hits]
    assert a.hits[0].id == SEED_ID  # the only article with both words ranks first


def test_putin_in_chinese_and_english(engine):
    zh = engine.search("普京")
    assert {h.id for h in zh.hits} >= {SEED_ID, "zh-simplified-1"}
    assert "普京" in marked(seed_hit(zh), "zh")
    en = engine.search("Putin")
    assert "Putin" in marked(seed_hit(en), "en")


def test_chinese_phrase_matches_and_highlights_whole_phrase(engine):
    result = engine.search('"一带一路"')
    hit = seed_hit(result)
    assert "一帶一路" in marked(hit, "zh")
    assert result.interpreted.phrases == [["一带", "一路"]]


def test_phrase_in_wrong_order_does_not_match(engine):
    assert engine.search('"一路一带"').total == 0


def test_subword_finds_compound(engine):
    jz = seed_hit(engine.search("金砖"))
    assert "金磚" in marked(jz, "zh")
    gx = seed_hit(engine.search("关系"))
    assert "關係" in marked(gx, "zh")


def test_english_acronym_and_stemming(engine):
    assert "BRICS" in marked(seed_hit(engine.search("BRICS")), "en")
    hit = seed_hit(engine.search("cooperating"))
    assert any(m.lower().startswith("cooperat") for m in marked(hit, "en"))


def test_not_excludes_the_article(engine):
    result = engine.search("Xi NOT Putin")
    ids = [h.id for h in result.hits]
    assert SEED_ID not in ids
    assert "xi-only-1" in ids
    assert engine.search("-Putin Xi").total == result.total


def test_multiword_english_name(engine):
    result = engine.search("Shanghai Cooperation Organization")
    hit = seed_hit(result)
    assert {"Shanghai", "Cooperation", "Organization"} <= set(marked(hit, "en"))
    phrase = seed_hit(engine.search('"Shanghai Cooperation Organization"'))
    assert "Shanghai Cooperation Organization" in marked(phrase, "en")


def test_one_unknown_word_does_not_empty_the_result(engine):
    result = engine.search("普京 完全不存在的词语zzzqqq")
    assert result.total + result.total_partial >= 2  # complete matches, then partial ones
    assert result.hits[0].id in {SEED_ID, "zh-simplified-1"}


def test_all_words_rank_before_some_words(engine):
    result = engine.search("Xi farmers")
    assert result.hits[0].id == "xi-only-1"
    assert SEED_ID in [h.id for h in result.hits]


def test_title_field_restriction(engine):
    assert {h.id for h in engine.search("title:普京").hits} == {SEED_ID, "zh-simplified-1"}
    assert engine.search("title:莫斯科").total == 0
    assert engine.search("莫斯科").total == 1


def test_or_and_parentheses(engine):
    ids = {h.id for h in engine.search("(farm OR rally) NOT Putin").hits}
    assert ids == {"xi-only-1", "en-only-1"}
    both = engine.search("farm AND rally")
    assert both.total == 0


@pytest.mark.parametrize("query", ['"unbalanced', "(a b", "a)", "NOT", "AND OR", "((((", '""', "-", "title:", "习近平)))"])
def test_malformed_queries_never_fail(engine, query):
    result = engine.search(query)
    assert result.total >= 0


def test_snippets_escape_html_and_mark_only_terms(engine):
    hit = seed_hit(engine.search("Putin"))
    for snippet in hit.snippets["en"] + hit.snippets["zh"]:
        without_marks = snippet.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in without_marks and ">" not in without_marks

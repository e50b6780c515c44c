"""What a user sees for the queries of issue 15, on a real Whoosh index: honest totals for all
words, dropped words named, partial Chinese strings found and marked exactly, proximity."""

from __future__ import annotations


import pytest

from tests.conftest import articles_fixture

ARTICLES = [
    {"id": "xi", "title": "習近平會見普京", "body": "國家主席習近平在北京會見俄羅斯總統普京。中俄關係持續發展。"},
    {"id": "zinc", "title": "锌价", "body": "近日锌价走平。平均价格接近去年，近一周平稳。"},
    {"id": "both", "title": "普京谈乌克兰", "body": "普京表示，乌克兰问题需要政治解决。"},
    {"id": "putin", "title": "普京访问印度", "body": "普京访问印度，会见印度总理。"},
    {"id": "kyiv", "title": "乌克兰局势", "body": "乌克兰东部局势紧张。"},
    # The far-apart article comes first without proximity: climate and change in its title, more often.
    {"id": "far", "title": "CBT volume down", "body": "Climate: the interest rate climate was uncertain as contracts kept changing hands; rates change, changes, climate worries."},
    {"id": "near", "title": "Summit talks", "body": "Leaders discussed climate change at the summit in Paris."},
    {"id": "bai", "title": "球员简介", "body": "白岳峰，中国足球运动员，现效力于天津泰达球队。"},
    {"id": "xu", "title": "球员简介", "body": "徐晓飞，中国足球运动员，现效力于日本横滨球队。"},
]


engine = articles_fixture(ARTICLES, "allwords")


def test_total_counts_only_articles_with_both_words(engine):
    result = engine.search("普京 乌克兰")
    assert result.total == 1 and result.hits[0].id == "both"
    assert result.total_partial == 3  # xi and putin (普京), kyiv (乌克兰), listed after it
    assert {hit.id for hit in result.hits[1:]} == {"xi", "putin", "kyiv"}
    assert result.interpreted.dropped == []
    assert sum(year["count"] for year in result.facets["years"]) <= 1  # facets count the complete matches


def test_a_word_no_article_holds_is_reported_as_dropped(engine):
    result = engine.search("普京 火星")
    assert result.interpreted.dropped == ["火星"]
    assert result.total == 3 and result.total_partial == 0
    assert result.to_dict()["interpreted"]["dropped"] == ["火星"]


@pytest.mark.parametrize("text, marked", [("近平", "習<mark>近平</mark>"), ("俄关", "中<mark>俄關</mark>係")])
def test_part_of_a_word_finds_the_article_and_marks_exactly_that(engine, text, marked):
    result = engine.search(text)
    assert result.hits and result.hits[0].id == "xi"
    assert marked in " ".join(result.hits[0].snippets["zh"])


def test_part_of_a_name_ranks_above_incidental_characters(engine):
    ids = [hit.id for hit in engine.search("近平").hits]
    assert ids[0] == "xi" and ("zinc" not in ids or ids.index("zinc") > 0)


def test_single_characters_still_search_words(engine):
    assert [hit.id for hit in engine.search("近").hits] == ["zinc"]


def test_words_standing_together_rank_above_words_far_apart(engine, monkeypatch):
    assert [hit.id for hit in engine.search("climate change").hits][:2] == ["near", "far"]
    from search.query import build

    monkeypatch.setattr(build, "PROXIMITY_BOOST", 0.0)  # without the bonus, the far-apart article wins
    assert [hit.id for hit in engine.search("climate change").hits][:2] == ["far", "near"]


def test_a_question_finds_a_name_jieba_read_with_the_next_character(engine):
    # The question's words are 白岳峰现 (name and the 现 of 现效力), 效力, 球队; the article has the
    # name as a word (白岳峰): it holds every word of the question, and is counted so.
    result = engine.search("白岳峰现效力于什么球队？")
    assert result.total == 1 and result.hits[0].id == "bai"
    assert [hit.id for hit in result.hits] == ["bai", "xu"]


# A pasted Chinese headline is a sentence, not keywords: its complete matches hold every word in
# Chinese; an English article holding a translation of each word (here the generic "open", "model",
# "mode") is a partial match, ranked by score with the English report of the story.
BILINGUAL = [
    {"id": "zh-rain", "title": "北京今天开启降雨模式", "body": "北京今天开启降雨模式，市民出行请带伞。"},
    {"id": "en-rain", "title": "Rain in Beijing", "body": "Heavy rain arrived in Beijing today, and more is expected this week."},
    {"id": "en-generic", "title": "Beijing opens a model farm", "body": "Beijing today opened a model farm that measures rainfall with a new mode of sensing."},
    {"id": "en-putin", "title": "Putin on Ukraine", "body": "Putin spoke about Ukraine on Tuesday."},
    {"id": "zh-putin", "title": "普京访问印度", "body": "普京访问印度。"},
]

bilingual = articles_fixture(BILINGUAL, "sentence")


def test_a_pasted_headline_is_complete_in_its_own_language_only(bilingual, monkeypatch):
    result = bilingual.search("北京今天开启降雨模式")  # 北京 今天 开启 降雨 模式: five words
    assert result.interpreted.terms["zh"] == ["北京", "今天", "开启", "降雨", "模式"]
    assert result.total == 1 and result.total_partial == 2
    assert result.hits[0].id == "zh-rain" and {hit.id for hit in result.hits[1:]} == {"en-rain", "en-generic"}
    from search.query import build

    monkeypatch.setattr(build, "SENTENCE_WORDS", 6)  # read as keywords, the generic translations count
    keywords = bilingual.search("北京今天开启降雨模式")
    assert keywords.total == 2 and keywords.total_partial == 1 and keywords.hits[-1].id == "en-rain"


def test_a_few_words_typed_together_stay_complete_through_their_translations(bilingual):
    result = bilingual.search("普京乌克兰")  # two words, no space: keywords
    assert result.total == 1 and result.hits[0].id == "en-putin"
    assert [hit.id for hit in result.hits] == ["en-putin", "zh-putin"] and result.total_partial == 1

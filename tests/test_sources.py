"""Pasted page titles: the site names ending them (``… - 新华网``, ``… | Reuters``) rank the
articles holding them first, and no article must hold them to be a complete match."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.filters import SearchFilters
from search.query.parse import parse, source_names
from tests.conftest import articles_fixture


@pytest.mark.parametrize(
    "text, head, names",
    [
        ("黑土地“种”出农业现代化-新华网", "黑土地“种”出农业现代化", ["新华网"]),
        ("奖励5万元 湖北恩施表扬沙子坝滑坡“预警第一人” - 中新网", "奖励5万元 湖北恩施表扬沙子坝滑坡“预警第一人”", ["中新网"]),
        ("大型融媒体行动《走村直播看脱贫》出发 - 今日要闻 - 湖南日报网 - 华声在线", "大型融媒体行动《走村直播看脱贫》出发", ["今日要闻", "湖南日报网", "华声在线"]),
        ("国务院常务会议部署稳就业工作_网易新闻", "国务院常务会议部署稳就业工作", ["网易新闻"]),
        # 〇 (a year written in characters) is Chinese text, as the analyzer reads it
        ("国家统计局发布经济数据二〇二〇-新华网", "国家统计局发布经济数据二〇二〇", ["新华网"]),
        ("Kanye West says he can beat Joe Biden | Reuters", "Kanye West says he can beat Joe Biden", ["Reuters"]),
        ("200-Plus Firefighters Respond To Karen Fire In Jurupa Valley - CBS Los Angeles", "200-Plus Firefighters Respond To Karen Fire In Jurupa Valley", ["CBS Los Angeles"]),
        # a dash touching the name excludes a word, but not after a title, for a news site's name
        ("内蒙古自治区乌海市委原巡视员白金海被开除党籍 -中新网", "内蒙古自治区乌海市委原巡视员白金海被开除党籍", ["中新网"]),
        ("習近平同俄羅斯總統普京舉行會晤 -新華網", "習近平同俄羅斯總統普京舉行會晤", ["新華網"]),
        # a long part after the dash is the title's own (only the site name after it is read)
        ("AP blasts press secretary - but reporters keep asking political questions - RT USA News",
         "AP blasts press secretary - but reporters keep asking political questions", ["RT USA News"]),
    ],
)
def test_a_page_titles_site_names_are_read_apart(text, head, names):
    assert source_names(text) == (head, names)
    assert parse(text).sources == names


@pytest.mark.parametrize(
    "text",
    [
        "Biden - Putin",  # too short to be a title
        "普京 乌克兰 - 俄罗斯",
        "COVID-19 vaccine rollout in Europe stalls",  # a hyphen inside a Latin word
        "climate change policy in europe - policy",  # a Latin name starts with a capital
        "习近平会见普京 - \"新华网\"",  # quoted: the user asks for it
        "俄罗斯总统普京访问中国 -新华社记者",  # -word excludes (not a site's name)
        "习近平会见外国领导人讲话全文 -视频",
        "普京 -新华网",  # no title before it
        "俄罗斯总统普京访问中国 - title:新华网",
        "中国国家主席习近平会见俄罗斯总统普京 - 人民日报评论员文章说中俄关系持续发展",  # too long for a name
        "俄罗斯总统普京访问中国 - 新华网 OR 人民网",
    ],
)
def test_other_queries_keep_every_word(text):
    assert source_names(text) == (text, [])
    assert parse(text).sources == []


ARTICLES = [
    {"id": "cctv", "title": "习近平会见普京", "body": "央视北京电 国家主席习近平在北京会见俄罗斯总统普京。两国元首举行会谈。"},
    {"id": "copy", "title": "习近平会见普京", "body": "新华网北京电 国家主席习近平在北京会见俄罗斯总统普京。两国元首举行会谈。"},
    {"id": "other", "title": "天气", "body": "新华网消息：明天多云。"},
    {"id": "en", "title": "Xi meets Putin", "body": "Tass - Chinese President Xi Jinping met Russian President Vladimir Putin in Beijing for talks on trade."},
    {"id": "en-reuters", "title": "Xi meets Putin", "body": "Reuters - Chinese President Xi Jinping met Russian President Vladimir Putin in Beijing for talks on trade."},
]


#: The copies are near-duplicates: listed apart here, not as one story.
APART = SearchFilters(collapse=False)


engine = articles_fixture(ARTICLES, "sources")


def test_an_article_without_the_site_name_is_a_complete_match(engine):
    result = engine.search("国家主席习近平在北京会见俄罗斯总统普京-新华网", filters=APART)
    zh = [hit.id for hit in result.hits if hit.id in {"cctv", "copy", "other"}]
    assert result.interpreted.sources == ["新华网"] and result.interpreted.dropped == []
    assert zh[:2] == ["copy", "cctv"]  # both complete; the one holding the name first
    plain = {hit.id: hit.score for hit in engine.search("国家主席习近平在北京会见俄罗斯总统普京", filters=APART).hits}
    assert plain["cctv"] >= plain["copy"]  # without the name, the copy does not lead
    assert "other" not in zh  # holding only the site name is no match
    assert result.to_dict()["interpreted"]["sources"] == ["新华网"]


def test_required_when_typed_as_a_word(engine):
    result = engine.search("国家主席习近平在北京会见俄罗斯总统普京 新华网", filters=APART)
    assert result.interpreted.sources == []
    complete = [hit.id for hit in result.hits[: result.total]]
    assert "copy" in complete and "cctv" not in complete


def test_english_titles_too(engine):
    result = engine.search("Xi Jinping met Vladimir Putin in Beijing - Reuters", filters=APART)
    assert result.interpreted.sources == ["Reuters"]
    ids = [hit.id for hit in result.hits]
    assert ids[:2] == ["en-reuters", "en"] and result.total >= 2


def test_only_site_names_search_them(engine):
    # Nothing before the names is searchable (a stopword): the names are the query.
    result = engine.search("的的的的的的的的的 - 新华网")
    assert {hit.id for hit in result.hits} >= {"copy", "other"}


han = st.text(alphabet=st.sampled_from(list("习近平会见俄罗斯总统普京北京长江经济带发展绿色生态优先")), min_size=13, max_size=30)  # longer than any name
name = st.text(alphabet=st.sampled_from(list("新华网中央视在线日报人民")), min_size=2, max_size=12)


@settings(max_examples=200, deadline=None)
@given(han, name, st.sampled_from(["-", " - ", "_", " | ", "｜", " — "]))
def test_a_title_searches_the_same_words_with_or_without_its_site_name(title, site, separator):
    parsed = parse(title + separator + site)
    assert parsed.sources == [site]
    assert parsed.node == parse(title).node


def test_a_dash_touching_a_sites_name_does_not_exclude_the_sites_own_article(engine):
    # The copy names its site (新华网北京电): as ``-word`` the name would exclude it.
    result = engine.search("国家主席习近平在北京会见俄罗斯总统普京 -新华网", filters=APART)
    assert result.interpreted.sources == ["新华网"] and result.interpreted.excluded == []
    assert {"copy", "cctv"} <= {hit.id for hit in result.hits[: result.total]}
    excluding = engine.search("国家主席习近平在北京会见俄罗斯总统普京 -北京电", filters=APART)
    assert "copy" not in {hit.id for hit in excluding.hits}  # any other word is still excluded

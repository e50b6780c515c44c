"""What users type, on a real Whoosh index: typos corrected, pinyin read, stopwords explained.

One table row per behaviour of the issue: the query, what the user must see in
``interpreted`` and which articles come back.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from search.filters import SearchFilters
from search.indexer import Indexer
from search.query.parse import parse
from search.query.rewrite import read, stopwords_only, typed_words
from search.searcher import Engine
from tests.webdata import ROOT, web_app

ARTICLES = [
    {"id": "putin-1", "title": "Putin meets Ukraine envoy", "body": "President Putin met the envoy of Ukraine in Moscow on Tuesday.", "date": "2024-01-02"},
    {"id": "putin-2", "title": "Putin speaks on trade", "body": "Putin said trade with Ukraine and Kazakhstan would grow.", "date": "2024-01-03"},
    {"id": "kaz-typo", "title": "Kazakstan grain", "body": "Kazakstan grain exports rose, the ministry said.", "date": "2024-01-04"},
    {"id": "climate-1", "title": "Climate change talks", "body": "Delegates discussed climate change and emissions.", "date": "2024-01-05"},
    {"id": "xi-1", "title": "习近平会见外宾", "body": "国家主席习近平在北京会见外宾。我们愿同各国加强合作。", "date": "2024-01-06"},
    {"id": "xi-2", "title": "习近平出席峰会", "body": "习近平出席峰会并发表讲话，强调共建一带一路。", "date": "2024-01-07"},
    {"id": "nord-1", "title": "北溪管道爆炸调查", "body": "北溪天然气管道爆炸事件调查仍在进行。", "date": "2024-01-08"},
    {"id": "nord-2", "title": "北溪事件", "body": "多国呼吁就北溪事件开展国际调查。", "date": "2024-01-09"},
    {"id": "bri-1", "title": "一带一路合作", "body": "一带一路倡议提出十周年，合作成果丰硕。", "date": "2024-01-10"},
    {"id": "women-1", "title": "Women in science", "body": "More women are working in science, the report said.", "date": "2024-01-11"},
    {"id": "bp-1", "title": "BP shares rise", "body": "Shares of BP rose on Monday.", "date": "2024-01-12"},
    {"id": "santa-1", "title": "Santa Fe railway earnings", "body": "Santa Fe said earnings rose.", "date": "2024-01-14"},
    {"id": "santa-2", "title": "三塔寺修缮完工", "body": "大理三塔修缮完工。", "date": "2024-01-15"},
    {"id": "code-zh", "title": "项目代号公布", "body": "代号为zqabcx的项目今天公布。", "date": "2024-01-16"},
    {"id": "code-en", "title": "Project code", "body": "The project zqabdx was announced.", "date": "2024-01-17"},
    {"id": "work-1", "title": "衣服没干", "body": "天气潮湿，衣服没干。", "date": "2024-01-13"},
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("typed")
    data = folder / "articles.jsonl"
    data.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), "utf-8")
    index = folder / "index"
    report = Indexer(str(index)).run([str(data)])
    assert report.failed == 0, report.failures
    return str(index)


@pytest.fixture(scope="module")
def engine(index_dir):
    found = Engine(index_dir)
    yield found
    found.close()


def ids(result) -> set[str]:
    return {hit.id for hit in result.hits}


# --- typos ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, corrected, expected",
    [
        ("Pution", "Putin", {"putin-1", "putin-2"}),  # one deletion, 6 letters
        ("ukriane", "ukraine", {"putin-1", "putin-2"}),  # one swap of neighbours, 7 letters
        ("Kazahkstan", "Kazakhstan", {"putin-2"}),  # 10 letters: two edits allowed
    ],
)
def test_a_word_the_index_lacks_is_corrected_and_the_correction_shown(engine, query, corrected, expected):
    result = engine.search(query)
    assert result.interpreted.corrections == [{"typed": query, "corrected": corrected}]
    assert result.interpreted.corrected_query == corrected
    assert result.interpreted.verbatim_query == f'"{query}"'
    assert ids(result) == expected


def test_a_quoted_word_is_searched_as_typed(engine):
    result = engine.search('"Pution"')
    assert result.interpreted.corrections == [] and result.total == 0


def test_a_word_the_index_holds_is_never_corrected(engine):
    # "Kazakstan" is one edit from the more frequent "Kazakhstan", but the index holds it.
    result = engine.search("Kazakstan")
    assert result.interpreted.corrections == []
    assert ids(result) == {"kaz-typo"}


def test_a_latin_word_held_only_by_a_chinese_article_is_not_corrected(engine):
    result = engine.search("zqabcx")
    assert result.interpreted.corrections == [] and ids(result) == {"code-zh"}


def test_short_words_and_other_words_of_the_query_are_left_alone(engine):
    assert engine.search("Putn").interpreted.corrections == []  # 4 letters: no edit allowed
    result = engine.search("Pution trade")
    assert result.interpreted.corrections == [{"typed": "Pution", "corrected": "Putin"}]
    assert result.interpreted.corrected_query == "Putin trade"
    assert result.hits[0].id == "putin-2"  # all words first


def test_a_word_two_edits_away_is_not_corrected_when_short(engine):
    assert engine.search("Pytion").interpreted.corrections == []  # 6 letters, two edits from putin


def test_english_function_words_are_never_corrected_nor_read_as_pinyin(engine):
    # Measured on Tatoeba (English queries, Chinese index): "being" became "heing", "me an" 没干.
    assert engine.search("being late").interpreted.corrections == []  # stem "be", not "bp" (as "bping")
    assert engine.search("lend me an umbrella").interpreted.pinyin == []  # not 没干


def test_no_correction_without_translation_assistance(engine):
    result = engine.search("Pution", filters=SearchFilters(translate=False))
    assert result.interpreted.corrections == [] and result.total == 0


# --- pinyin --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, words, expected",
    [
        ("xijinping", ["习近平"], {"xi-1", "xi-2"}),
        ("xi jinping", ["习近平"], {"xi-1", "xi-2"}),
        ("Xi JinPing", ["习近平"], {"xi-1", "xi-2"}),
        ("beixi", ["北溪"], {"nord-1", "nord-2"}),
        ("yidaiyilu", ["一带一路"], {"xi-2", "bri-1"}),  # the index holds 一带 and 一路: a dictionary word of them
    ],
)
def test_pinyin_finds_the_chinese_words_it_spells(engine, query, words, expected):
    result = engine.search(query)
    assert result.interpreted.pinyin == [{"typed": query, "words": words}]
    assert ids(result) == expected
    assert result.interpreted.corrections == []


def test_english_words_that_spell_pinyin_stay_english(engine):
    # women is 我们 in pinyin, and the index holds 我们: an English word is still searched as English.
    result = engine.search("women")
    assert result.interpreted.pinyin == []
    assert ids(result) == {"women-1"}


def test_an_english_word_of_the_index_as_common_as_its_pinyin_reading_stays_english(engine):
    # SANTA spells 三塔 (found among 1,500 Reuters titles on the benchmark index): the index's English is as common.
    result = engine.search("SANTA")
    assert result.interpreted.pinyin == [] and ids(result) == {"santa-1"}


def test_pinyin_within_a_longer_query(engine):
    result = engine.search("beixi 调查")
    assert result.interpreted.pinyin == [{"typed": "beixi", "words": ["北溪"]}]
    assert ids(result) == {"nord-1", "nord-2"}


# --- stopwords and words as typed ----------------------------------------------------------------


@pytest.mark.parametrize("query", ["的", "the", "of the"])
def test_a_query_of_stopwords_only_says_why_nothing_is_found(engine, query):
    result = engine.search(query)
    assert result.total == 0
    assert f"{query} is too common to search on its own; try a phrase" in result.interpreted.warnings


def test_stopwords_beside_other_words_need_no_warning():
    assert stopwords_only(parse("the Putin").node) is None
    assert stopwords_only(parse("的 -习近平").node) == "的"


def test_english_words_are_shown_as_typed_not_as_stems(engine):
    result = engine.search("climate change")
    assert result.interpreted.terms["en"] == ["climat", "chang"]  # what the index matches
    assert result.interpreted.words == {"zh": [], "en": ["climate", "change"]}
    assert typed_words(parse('習近平 "Climate change" -trade').node) == {"zh": ["习近平"], "en": ["Climate", "change"]}


def test_reading_leaves_the_tree_alone_without_assistance(engine):
    parsed = parse("Pution")
    reading = read(parsed, "Pution", engine.backend.view(), assist=False)
    assert reading.parsed is parsed and reading.corrections == []


# --- what the user sees ------------------------------------------------------------------------------


def test_the_page_shows_the_correction_and_links_to_the_word_as_typed(index_dir):
    with web_app(index_dir) as app:
        client = app.test_client()
        page = client.get("/", query_string={"q": "Pution"}).get_data(as_text=True)
        assert "Showing results for <strong" in page and ">Putin</strong>" in page
        assert 'search instead for <a href="/?q=%22Pution%22" class="verbatim"' in page
        assert "English words" in page and "English stems" not in page
        assert 'href="/articles/putin-1?q=Putin"' in page  # the article marks what was searched
        assert "too common to search on its own" in client.get("/", query_string={"q": "的"}).get_data(as_text=True)
        pinyin = client.get("/", query_string={"q": "xijinping"}).get_data(as_text=True)
        assert '<dd class="pinyin"><span class="term">xijinping → <span lang="zh-Hans">习近平</span>' in pinyin
        body = client.get("/api/search", query_string={"q": "Pution"}).get_json()
        assert body["interpreted"]["corrections"] == [{"typed": "Pution", "corrected": "Putin"}]
        assert body["interpreted"]["verbatim_query"] == '"Pution"'
        literal = client.get("/api/search", query_string={"q": '"Pution"'}).get_json()
        assert literal["total"] == 0 and literal["interpreted"]["corrections"] == []


def test_the_cli_says_what_it_corrected_and_read_as_pinyin(index_dir):
    def run(query: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "search", "query", query, "--index", index_dir, "--limit", "1"],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "showing results for 'Putin' · search instead for '\"Pution\"'" in run("Pution")
    assert "pinyin: beixi → 北溪" in run("beixi")
    assert "(en: climate change)" in run("climate change")

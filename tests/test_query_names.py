"""Names and regional vocabulary across scripts, regions and languages, as a user types them.

Each row of the table is a query and its counterpart (the mainland, Chinese or
English form): the query must find the articles its counterpart finds, with
the counterpart's form highlighted in the article as published.
"""

from __future__ import annotations

import json
import re

import pytest

from search.indexer import Indexer
from search.searcher import Engine

ARTICLES = [
    # people quoted in Chinese-only stories (mainland usage, as CCTV writes)
    ("putin-1", "普京表示，俄方愿同中方加强合作。"),
    ("putin-2", "俄罗斯总统普京当天表示，双方关系处于历史最好水平。"),
    ("putin-3", "普京在会谈中说，能源合作很重要。"),
    ("trump-1", "美国总统特朗普表示，将对进口商品加征关税。"),
    ("trump-2", "特朗普当天说，谈判取得进展。"),
    ("liqiang-1", "国务院总理李强表示，要扩大高水平对外开放。"),
    ("liqiang-2", "李强强调，要稳住经济大盘。"),
    ("liqiang-3", "李强在会见时指出，双方要深化合作。"),
    ("zelensky-1", "乌克兰总统泽连斯基表示，希望尽快停火。"),
    ("zelensky-2", "泽连斯基当天说，乌方需要更多援助。"),
    ("peskov-1", "俄总统新闻秘书佩斯科夫表示，克宫对此不予置评。"),
    ("peskov-2", "佩斯科夫说，会谈的时间尚未确定。"),
    ("network-1", "我国网络基础设施建设加快，网络覆盖所有行政村。"),
    ("network-2", "网络安全是国家安全的重要组成部分。"),
    ("software-1", "国产软件企业收入增长，软件出口保持稳定。"),
    ("software-2", "工业软件是制造业数字化的关键。"),
    ("mouse-1", "这款鼠标采用无线连接，鼠标和键盘可同时使用。"),
    ("merkel-1", "德国总理默克尔表示，欧盟必须团结一致。"),
    ("erdogan-1", "土耳其总统埃尔多安表示，愿意为和谈提供场地。"),
    ("starmer-1", "英国首相斯塔默表示，将增加国防开支。"),
    ("netanyahu-1", "以色列总理内塔尼亚胡表示，军事行动将继续。"),
    # names that sound like the ones above, and must not be taken for them
    ("mccaul-1", "美国众议员麦考尔表示，将推动相关法案。"),
    ("hagari-1", "以军发言人哈加里表示，空袭目标是军事设施。"),
    # distractors: other people, other senses, the Taiwan forms of nothing relevant
    ("lipeng-1", "李鹏表示，要加强农业。"),
    ("shili-1", "市里表示，将修建一条新路。"),
    ("mollusc-1", "章鱼是一种软体动物。"),
    ("other-1", "今年粮食产量再创新高。"),
]
ENGLISH = [
    ("putin-en", "Russian President Vladimir Putin said on Tuesday that ties with China were strong."),
    ("trump-en", "President Donald Trump said the talks were going well."),
    ("merkel-en", "German Chancellor Angela Merkel said Europe had to stand together."),
    ("erdogan-en", "Turkish President Tayyip Erdogan said Turkey was ready to host talks."),
]

#: query → (counterpart query, the form that must be highlighted, articles that must be found)
TABLE = {
    "Li Qiang": ("李强", "李强", {"liqiang-1", "liqiang-2", "liqiang-3"}),
    "Zelensky": ("泽连斯基", "泽连斯基", {"zelensky-1", "zelensky-2"}),
    "Peskov": ("佩斯科夫", "佩斯科夫", {"peskov-1", "peskov-2"}),
    "普丁": ("普京", "普京", {"putin-1", "putin-2", "putin-3"}),
    "川普": ("特朗普", "特朗普", {"trump-1", "trump-2"}),
    "網路": ("网络", "网络", {"network-1", "network-2"}),
    "軟體": ("软件", "软件", {"software-1", "software-2"}),
    "滑鼠": ("鼠标", "鼠标", {"mouse-1"}),
    # Taiwan's transliterations, which no dictionary here lists, matched by sound and spelling
    # to the names the index holds
    "澤倫斯基": ("泽连斯基", "泽连斯基", {"zelensky-1", "zelensky-2"}),
    "梅克爾": ("默克尔", "默克尔", {"merkel-1"}),
    "艾爾段": ("埃尔多安", "埃尔多安", {"erdogan-1"}),
    "史塔默": ("斯塔默", "斯塔默", {"starmer-1"}),
    "納坦雅胡": ("内塔尼亚胡", "内塔尼亚胡", {"netanyahu-1"}),
}


@pytest.fixture(scope="module")
def names_engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("names")
    rows = [{"id": i, "title": "", "body": text} for i, text in ARTICLES + ENGLISH]
    (folder / "docs.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    index_dir = str(folder / "index")
    Indexer(index_dir).run([str(folder / "docs.jsonl")])
    engine = Engine(index_dir)
    yield engine
    engine.close()


def ids(result) -> list[str]:
    return [hit.id for hit in result.hits]


@pytest.mark.parametrize("query", list(TABLE))
def test_query_finds_what_its_counterpart_finds_highlighted_in_the_original(names_engine, query):
    counterpart, form, expected = TABLE[query]
    got = names_engine.search(query, size=10)
    theirs = names_engine.search(counterpart, size=10)
    assert expected <= set(ids(got)), (query, ids(got), got.interpreted)
    shared = set(ids(got)) & set(ids(theirs))
    assert len(shared) >= 0.8 * len(set(ids(theirs))), (ids(got), ids(theirs))
    for hit in got.hits:
        if hit.id in expected:
            marked = re.findall(r"<mark>(.*?)</mark>", " ".join(hit.snippets["zh"]))
            assert form in marked, (hit.id, hit.snippets)
    mapped = {t for entry in got.interpreted.translations for t in entry["translations"]}
    assert form in mapped, got.interpreted.translations  # interpreted says what was mapped


def test_li_qiang_is_not_read_as_words(names_engine):
    got = ids(names_engine.search("Li Qiang", size=10))
    assert "lipeng-1" not in got and "shili-1" not in got


def test_mainland_form_finds_the_english_name_too(names_engine):
    assert "putin-en" in ids(names_engine.search("普丁", size=10))


def test_sound_match_is_limited_to_names_the_index_holds(names_engine):
    # a name the index does not hold is not guessed into another one
    result = names_engine.search("Zakharova", size=10)
    assert result.total == 0


@pytest.mark.parametrize("query, english", [("梅克爾", "merkel-en"), ("艾爾段", "erdogan-en")])
def test_a_regional_transliteration_finds_the_english_name_too(names_engine, query, english):
    assert english in ids(names_engine.search(query, size=10))


@pytest.mark.parametrize("query, other", [("梅克爾", "mccaul-1"), ("賀錦麗", "hagari-1"), ("蘇利文", "hagari-1")])
def test_a_regional_transliteration_is_not_taken_for_a_name_that_only_sounds_alike(names_engine, query, other):
    # 梅克爾 (Merkel) and 麦考尔 (McCaul) share their sound classes, not their spelling; Taiwan's
    # 賀錦麗 is Harris, whose mainland name 哈里斯 sounds nothing like it: no guess either way
    assert other not in ids(names_engine.search(query, size=10))


def test_a_name_the_index_holds_is_not_cut_into_sound_alike_pieces(names_engine):
    # 埃尔多安 is held whole; its first three characters are not another name's sound
    result = names_engine.search("埃尔多安", size=10)
    assert set(ids(result)) == {"erdogan-1", "erdogan-en"}
    mapped = [t for entry in result.interpreted.translations for t in entry["translations"]]
    assert mapped and not any(re.search(r"[\u4e00-\u9fff]", t) for t in mapped), mapped  # its English only

"""The news-page layout: the seed article's fields one by one, and its variants."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from search.ingest import load_file
from search.ingest.loader import with_speakers
from search.ingest.text import parse_text
from tests.conftest import SEED

SEED_TEXT = SEED.read_text("utf-8")


def seed_article():
    loaded = load_file(str(SEED))
    assert not loaded.errors and not loaded.warnings
    ((_, article),) = loaded.articles
    return article


def test_seed_titles():
    a = seed_article()
    assert a.id == "000_1797282344cdefbc"
    assert a.title == {
        "zh": "習近平同俄羅斯總統普京舉行會晤",
        "en": "Xi says China, Russia find right way for neighboring major countries to get along with each other",
    }


def test_seed_publication_time_source_editor():
    a = seed_article()
    assert a.date == datetime(2024, 10, 23, 8, 59, 26, tzinfo=timezone(timedelta(hours=8)))
    assert a.source == "新華網"
    assert a.meta["editor"] == "張芃芃"
    assert "author" not in a.meta  # "作者:" is empty on the page


def test_seed_dateline_reporters_place():
    a = seed_article()
    assert a.dateline == "新華社俄羅斯喀山10月22日電(記者\u2002郝薇薇\u2002黃河)"
    assert a.meta["reporters"] == ["郝薇薇", "黃河"]
    assert a.meta["dateline_place"] == "俄羅斯喀山"
    assert a.meta["dateline_date"] == "2024-10-22"
    assert a.meta["dateline_place_en"] == "Kazan, Russia"
    assert a.meta["dateline_date_en"] == "2024-10-22"


def test_seed_captions_are_their_own_field_not_body():
    a = seed_article()
    captions = a.captions["zh"].split("\n\n")
    assert len(captions) == 2 and all(c.endswith("攝") for c in captions)
    assert "丁海濤 攝" not in a.body["zh"] and "翟健嵐 攝" not in a.body["zh"]
    assert a.meta["photographers"] == ["丁海濤", "翟健嵐"]


def test_seed_bodies_are_kept_apart():
    a = seed_article()
    zh, en = a.body["zh"], a.body["en"]
    assert zh.startswith("新華社俄羅斯喀山10月22日電") and zh.endswith("蔡奇、王毅等參加會晤。")
    assert en.startswith("KAZAN, Russia, Oct. 22 (Xinhua) --") and en.endswith("■")
    assert "Putin" not in zh and "習近平" not in en
    assert "首頁" not in zh  # the breadcrumb is dropped


def test_seed_speakers_are_exactly_xi_and_putin():
    a = seed_article()
    assert [s.id for s in a.speakers] == ["xi-jinping", "vladimir-putin"]
    xi, putin = a.speakers
    assert xi.names == {"zh": "习近平", "en": "Xi Jinping"}
    assert putin.names == {"zh": "普京", "en": "Vladimir Putin"}
    assert xi.quotes > putin.quotes > 1


SIMPLIFIED = """首页 > 时政

李强出席经济论坛

发布时间:2025-03-02 10:15:00 | 来源:新华网 | 责任编辑:王明

新华社北京3月1日电(记者 张三)国务院总理李强1日在北京出席论坛并致辞。李强表示，中国经济长期向好。

李强在论坛上致辞。新华社记者 李四 摄
"""


def test_simplified_variant_without_english_half():
    a, warnings = parse_text(SIMPLIFIED, "s1")
    assert warnings == []
    assert a.title == {"zh": "李强出席经济论坛"}
    assert a.date.isoformat() == "2025-03-02T10:15:00+08:00"
    assert a.source == "新华网" and a.meta["editor"] == "王明"
    assert a.meta["reporters"] == ["张三"] and a.meta["dateline_date"] == "2025-03-01"
    assert a.captions == {"zh": "李强在论坛上致辞。新华社记者 李四 摄"}
    assert "en" not in a.body


def test_english_half_only_without_headline_keeps_title_null():
    text = "BEIJING, March 1 (Xinhua) -- Chinese Premier Li Qiang said Saturday that the economy is sound.\n\nHe added that reforms will continue."
    a, _ = parse_text(text, "e1")
    assert a.title == {}  # no headline on the page: none is invented
    assert a.body["en"].startswith("BEIJING, March 1 (Xinhua)")
    assert [(s.id, s.quotes) for s in with_speakers(a).speakers] == [("li-qiang", 2)]  # "he added" counts


def test_unknown_layout_is_plain_text_with_a_warning():
    a, warnings = parse_text("just some words\nand more words here, nothing like a news page", "p1")
    assert a.body and len(warnings) == 1 and "plain text" in warnings[0]


def test_garbage_lines_never_crash():
    noise = "發佈時間:\n來源:\n新華社月日電(\n(記者\n攝\n■\n|||\n" + "\x00\ufffd" * 3
    a, _ = parse_text(noise + "\n正文在這裡。", "g1")
    assert "正文在這裡。" in a.body["zh"]

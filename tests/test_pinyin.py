"""Chinese words by their pinyin: readings, syllable runs, cuts into words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from search.lexicon.pinyin import MAX_READINGS, PinyinTable, is_pinyin, readings, syllables


def test_readings_ignore_tones_and_cover_every_reading_of_a_character():
    assert readings("习近平")[0] == "xijinping"  # the usual reading first (平 is also pian, beng)
    assert "xijinbing" in readings("习近平")  # a word the phrase table does not know: every reading
    # A word the phrase table knows is read as it reads it: 重庆 is chongqing (重 alone is
    # usually zhong), and 角落 is not also "lula" (角 lu, 落 la), so the name Lula is not "corner".
    assert readings("重庆") == ["chongqing"] and readings("角落") == ["jiaoluo"]
    assert readings("绿色")[0] == "lvse"  # ü is typed v
    assert len(readings("行长行长")) <= MAX_READINGS
    assert readings("A股") == []  # not all Chinese characters


def test_a_run_of_syllables_is_pinyin_and_other_words_are_not():
    assert all(is_pinyin(word) for word in ("xijinping", "XiJinPing", "beixi", "yidaiyilu", "zhongguo", "women"))
    assert not any(is_pinyin(word) for word in ("Putin", "trade", "xi-jinping", "北溪", "", "ng"))


def test_the_table_holds_words_of_two_characters_or_more():
    table = PinyinTable.build(["北溪", "悲喜", "北", "一带", "一路", "Putin"])
    assert table.words("beixi") == ["北溪", "悲喜"] and table.words("bei") == []
    assert table.split("beixi") == [[["北溪", "悲喜"]]]
    assert table.split("yidaiyilu") == [[["一带"], ["一路"]]]  # the fewest pieces
    assert table.split("putin") == [] and table.split("beixibeixibeixibeixi") == []  # at most 3 pieces


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", max_size=30))
def test_any_cut_is_made_of_syllables(text):
    table = PinyinTable.build(["北溪", "一带", "一路", "习近平", "中国"])
    for cut in table.split(text):
        assert all(words for words in cut)
    assert is_pinyin(text) == (bool(text) and _segments(text))


def _segments(text: str) -> bool:
    if not text:
        return True
    return any(text[:n] in syllables() and _segments(text[n:]) for n in range(1, min(6, len(text)) + 1))

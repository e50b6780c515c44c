"""Names matched by sound: an English spelling against a Chinese transliteration."""

from __future__ import annotations

import pytest

from search.lexicon.sound import THRESHOLD, best_match, similarity


@pytest.mark.parametrize(
    "english, chinese",
    [("Zelensky", "泽连斯基"), ("Peskov", "佩斯科夫"), ("Lula", "卢拉"), ("Orban", "欧尔班"), ("Guterres", "古特雷斯"), ("Parly", "帕利"), ("Landray", "马丁·兰德雷")],
)
def test_transliterations_sound_alike(english, chinese):
    assert similarity(english, chinese) >= THRESHOLD


@pytest.mark.parametrize("english, chinese", [("Peskov", "李强"), ("Zelensky", "卢拉"), ("Lula", "佩斯科夫"), ("Orban", "古特雷斯")])
def test_other_names_do_not(english, chinese):
    assert similarity(english, chinese) < THRESHOLD


def test_best_match_only_among_the_names_given():
    names = ["泽连斯基", "佩斯科夫", "卢拉"]
    assert best_match("Peskov", names) == [("佩斯科夫", pytest.approx(similarity("Peskov", "佩斯科夫")))]
    assert best_match("Zakharova", names) == []  # not held: never guessed into another name

"""Names matched by sound: an English spelling against a Chinese transliteration."""

from __future__ import annotations

import pytest

from search.lexicon.sound import THRESHOLD, best_match, similarity, spellable


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


def test_only_words_spelled_like_english_are_matched_by_sound():
    from search.lexicon.people import people

    pairs = people().spelling
    for name in ("Zelensky", "Peskov", "Guterres", "Orban", "Sanchez", "Mladić"):
        assert spellable(name.lower().replace("ć", "c"), pairs), name
    # codes and markers: no English word starts with zq or holds qx
    for token in ("zqanjx", "zqbbhx", "xqzt", "qxanchez"):
        assert not spellable(token, pairs), token


def test_an_id_like_token_is_not_translated_into_a_name():
    from search.lexicon.entities import learned
    from search.query.translate import sources_of, translate_run

    learned.learn({"zh-桑切斯": {"names": {"zh": "桑切斯", "en": None}}})
    assert any(c.candidates for c in translate_run(sources_of("Sanchez"), text="Sanchez"))  # a name: matched by sound
    concepts = translate_run(sources_of("zqanjx"), text="zqanjx")
    assert not any(c.candidates for c in concepts), concepts


def _pairwise(english: str, names: list[str]) -> list[tuple[str, float]]:
    """SoundIndex.match one name at a time, as it was written before the arrays."""
    import re

    from search.lexicon.sound import _similarity, en_sounds, zh_sounds

    x = en_sounds(english)
    scored = [(n, _similarity(x, zh_sounds(re.split(r"[·•]", n)[-1]), THRESHOLD)) for n in names] if x else []
    scored = [(n, s) for n, s in scored if s >= THRESHOLD]
    top = max((s for _, s in scored), default=None)
    return sorted([(n, s) for n, s in scored if s >= top - 1e-9]) if scored else []


def test_the_index_matches_as_the_pairwise_similarity_does():
    """Same names, same scores (exactly), over the lexicon's transliterated names: real
    surnames, typos of them, English words and random letters."""
    import random

    from search.lexicon.people import people
    from search.lexicon.sound import SoundIndex

    table = people()
    names = sorted(zh for zh in table.by_zh if table.transliterated(zh))
    assert len(names) > 400
    index = SoundIndex(names)
    rng = random.Random(7)
    english = sorted({p.en.split()[-1] for p in table.by_zh.values() if p.en})
    words = rng.sample(english, 150) + ["Zelensky", "Zelenskyy", "Peskov", "hyponex", "overland", "amtr", "brewiing", "iranian", "Sanchez", "Xi", "a", "ya"]
    words += ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 12))) for _ in range(150)]
    matched = 0
    for word in words:
        found = index.match(word)
        assert found == _pairwise(word, names), word
        matched += bool(found)
    assert matched > 50  # the comparison covers words that match, not only misses


def _compared_with_every_name(index, name: str, spelled: float) -> list[tuple[str, float]]:
    """``SoundIndex.match_chinese`` one name at a time, every name compared by sound (the pairwise
    similarity, not the index's arrays) and then by spelling."""
    from rapidfuzz.distance import Levenshtein

    from search.lexicon.sound import _best, _last_part, _pinyin, _similarity, zh_sounds

    found = []
    x = zh_sounds(_last_part(name))
    for other in index.names:
        if x and other != name and _similarity(x, zh_sounds(_last_part(other)), THRESHOLD) >= THRESHOLD:
            alike = Levenshtein.normalized_similarity(_pinyin(name), _pinyin(other))
            if alike >= spelled:
                found.append((other, round(alike, 4)))
    return _best(found)


def test_names_spelled_too_long_or_short_are_not_compared_and_nothing_is_lost():
    """``match_chinese`` compares a word by sound only with names whose pinyin length allows it to
    be spelled alike (and none for a word whose pinyin has too many letters for every name): it
    gives what comparing every name gives, for words of every length made of the names' own
    characters and others."""
    import random

    from search.lexicon.sound import CLOSELY_SPELLED, SPELLED, SoundIndex, _fewest_letters, _pinyin

    names = ["泽连斯基", "佩斯科夫", "默克尔", "内塔尼亚胡", "马克龙", "亚历山德罗维奇", "谢尔盖·拉夫罗夫", "卢拉", "安东尼奥·古特雷斯", "朔尔茨"]
    index = SoundIndex(names)
    rng = random.Random(3)
    pool = "".join(names).replace("·", "") + "赵乐际同赞比亚国民议会议长举行会谈澤倫斯基梅克爾納坦雅胡阿二长"
    words = ["澤倫斯基", "梅克爾", "納坦雅胡", "佩斯可夫", "赵乐际同赞比亚国民议会议长举行会谈"]
    words += ["".join(rng.choice(pool) for _ in range(rng.randint(2, 20))) for _ in range(400)]
    found = skipped = 0
    for spelled in (SPELLED, CLOSELY_SPELLED):
        for word in words:
            fast = index.match_chinese(word, spelled=spelled)
            assert fast == _compared_with_every_name(index, word, spelled), word
            found += bool(fast)
            skipped += _fewest_letters(word) * spelled > max(len(_pinyin(n)) for n in names)  # none compared
            assert _fewest_letters(word) <= len(_pinyin(word))
    assert index.match_chinese("澤倫斯基")[0][0] == "泽连斯基"
    assert found >= 4 and skipped > 100  # both kinds of word are there

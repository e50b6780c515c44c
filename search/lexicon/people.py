"""One identity per person across scripts and languages.

习近平 = 習近平 = Xi Jinping = Xi; 普京 = 普丁 = Putin = Vladimir Putin. Links come
from data: the curated ``people.tsv`` (for what data cannot link), CC-CEDICT's
person entries (``普京 … /Vladimir Putin (1952-), president of Russia/``) and
the pinyin of Chinese names (李强 → Li Qiang).

>>> person = people().from_chinese("習近平")
>>> person.id, person.zh, person.en
('xi-jinping', '习近平', 'Xi Jinping')
>>> people().from_english("Putin").id
'vladimir-putin'
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from search.analysis.convert import to_simplified
from search.lexicon.entities import PERSON, PLACE, Entity, Form, WORD, entities, fold_ascii, letter_pairs

_HERE = Path(__file__).parent


#: Characters that are common in transliterations and rare in Chinese given names (卢拉, 莱希).
_FOREIGN_MARKS = frozenset("斯尔夫基克娃娜蒂耶埃契茨兹伊索拉尼科罗普特卡维诺什谢亚姆赫茹努")


@dataclass(frozen=True)
class Person:
    id: str
    zh: str | None
    en: str | None


def slug(name: str) -> str:
    """``Vladimir Putin`` → ``vladimir-putin`` (accents folded)."""
    folded = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")


class People:
    """The name tables; build once with :func:`people`."""

    def __init__(self) -> None:
        self.by_zh: dict[str, Person] = {}
        self.by_en: dict[str, Person] = {}  # lowercase full English name or alias
        self.by_surname: dict[str, set[Person]] = {}  # lowercase last (or Chinese first) name
        self.places_zh: set[str] = set()  # simplified place names: never a speaker
        self.places_en: set[str] = set()  # lowercase English place names
        self.forms: dict[str, list[Form]] = {}  # person id → every form, with its source
        #: the entity lexicon's kinds and forms (kept here so the cached tables carry them)
        self.entities = entities()
        self.surnames = self._load_surnames()
        self.places_en |= _countries_and_cities()
        self._load_cedict()
        self._load_curated()
        self.translit_chars = self._transliteration_characters()
        #: marks of foreign spelling no Chinese person of the lexicon has in a given name (契, 兹:
        #: not 娜 or 克, which Chinese given names use)
        self.strong_marks = _FOREIGN_MARKS - {ch for zh, person in self.by_zh.items() if zh == person.zh and self._looks_chinese(person) for ch in zh[1:]}
        #: letter pairs of English spelling: the dictionary's words and every name above
        names = " ".join([*self.by_en, *self.places_en])
        self.spelling = self.entities.spelling | letter_pairs(WORD.findall(fold_ascii(names)))
        #: lowercase given names (gender-guesser's table: parsing it takes 2.5 s, a set in this
        #: cache 50 ms; every English article's speaker extraction asks it)
        self.given_names = _given_names()

    @staticmethod
    def _load_surnames() -> dict[str, str]:
        out = {}
        for line in (_HERE / "surnames.tsv").read_text("utf-8").splitlines():
            if line and not line.startswith("#"):
                zh, en = line.split("\t")
                out[zh] = en
        return out

    def _add(self, person: Person, zh_names: list[str], en_names: list[str], source: str) -> None:
        forms = self.forms.setdefault(person.id, [])
        for k, name in enumerate(zh_names):
            self.by_zh[to_simplified(name)] = person
            variant = "hans" if name == to_simplified(name) else "hant"
            if source == "curated" and k > 0 and variant == "hans":
                variant = "tw"  # 普丁, 川普: the curated file's other forms are Taiwan/HK usage
            if not any(f.text == name and f.lang == "zh" for f in forms):
                forms.append(Form(name, "zh", variant, source))
        for k, name in enumerate(en_names):
            self.by_en[name.lower()] = person
            if not any(f.text == name and f.lang == "en" for f in forms):
                forms.append(Form(name, "en", "en" if k == 0 or " " in name else "short", source))
        if person.en:
            parts = person.en.split()
            if len(parts) > 1:
                for key in {parts[-1].lower(), parts[0].lower()} if self._looks_chinese(person) else {parts[-1].lower()}:
                    self.by_surname.setdefault(key, set()).add(person)

    def _transliteration_characters(self) -> frozenset[str]:
        """Characters used to spell foreign names (普京, 古特雷斯, 佩斯科夫), learned from the
        lexicon's foreign people: a run of them after a title is a name."""
        counts: dict[str, int] = {}
        for zh, person in self.by_zh.items():
            if person.en and zh == person.zh and not self._looks_chinese(person):
                for ch in zh:
                    counts[ch] = counts.get(ch, 0) + 1
        table = "".join(
            line.strip() for line in (_HERE / "translit.txt").read_text("utf-8").splitlines() if line and not line.startswith("#")
        )
        return frozenset(table) | frozenset(ch for ch, n in counts.items() if n >= 3)

    def _looks_chinese(self, person: Person) -> bool:
        return bool(person.zh) and person.en is not None and slug(person.en) == slug(pinyin_name(person.zh, self.surnames) or "")

    def _load_cedict(self) -> None:
        """People, places and other proper nouns of CC-CEDICT, through the entity lexicon."""
        lex = self.entities
        for simplified, english in lex.person_en.items():
            person = self.by_zh.get(simplified) or Person(slug(english), simplified, english)
            self._add(person, [simplified, lex.traditional.get(simplified, simplified)], [english], "cedict")
        self.places_zh |= {word for word, kind in lex.kind.items() if kind == PLACE}
        self.places_en |= lex.places_en

    def _load_curated(self) -> None:
        for line in (_HERE / "people.tsv").read_text("utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            pid, zh_field, en_field = line.split("\t")
            zh_names = [n for n in zh_field.split("|") if n]
            en_names = [n for n in en_field.split("|") if n]
            person = Person(pid, zh_names[0] if zh_names else None, en_names[0] if en_names else None)
            self._add(person, zh_names, en_names, "curated")

    def from_chinese(self, name: str) -> Person:
        """The person a Chinese name (any script) refers to; pinyin gives the English form."""
        simplified = to_simplified(name)
        known = self.by_zh.get(simplified)
        if known:
            return known
        if self.transliterated(simplified):
            # 泽连斯基 is not "Ze Liansiji": without a known English form, no English name.
            return Person(f"zh-{simplified}", simplified, None)
        english = pinyin_name(simplified, self.surnames)
        same = self.by_en.get(english.lower()) if english else None
        if same:
            return same
        return Person(slug(english) if english else f"zh-{simplified}", simplified, english)

    def entity(self, name: str) -> Entity | None:
        """The person a name refers to (any script, any language), with every form the lexicon has
        and where it came from; ``None`` for a name the lexicon does not know.

        >>> [(f.text, f.variant, f.source) for f in people().entity("普丁").forms if f.lang == "zh"]
        [('普京', 'hans', 'cedict'), ('普丁', 'hans', 'cedict'), ('蒲亭', 'tw', 'curated')]
        """
        person = self.by_zh.get(to_simplified(name)) or self.by_en.get(" ".join(name.split()).lower())
        if person is None:
            return None
        forms = sorted(self.forms.get(person.id, []), key=lambda f: f.text not in (person.zh, person.en))  # display names first
        return Entity(person.id, PERSON, forms)

    def transliterated(self, name: str) -> bool:
        """A foreign name spelled in Chinese characters (佩斯科夫, 卢拉, 通伦·西苏里), not a Chinese name."""
        plain = name.replace("·", "")
        if not plain:
            return False
        if not all(ch in self.translit_chars for ch in plain):
            # A surname-like first character, then a given name spelled as only foreign names
            # are (武契奇 is Vučić, not "Wu Qiqi"; 李娜娜 stays Li Nana).
            given = plain[1:]
            return len(plain) == 3 and all(ch in self.translit_chars for ch in given) and any(ch in self.strong_marks for ch in given)
        if "·" in name or len(plain) >= 4:
            return True
        surname = plain[:1] in self.entities.surnames or plain[:1] in self.surnames
        return not surname or any(ch in _FOREIGN_MARKS for ch in plain[1:])

    def from_english(self, name: str, context: list[Person] = ()) -> Person:
        """The person an English name refers to; a bare surname resolves through ``context``
        (people already named in the article), then through the name tables when unambiguous."""
        clean = " ".join(name.split())
        key = clean.lower()
        known = self.by_en.get(key)
        if known:
            return known
        if " " not in clean:
            for person in context:
                if person.en and key in {p.lower() for p in person.en.split()}:
                    return person
            candidates = self.by_surname.get(key, set())
            if len(candidates) == 1:
                return next(iter(candidates))
        for person in context:
            if person.en and person.en.lower().endswith(" " + key.split()[-1]) and key.split()[0] == person.en.lower().split()[0]:
                return person
        return Person(slug(clean), None, clean)

    def lookup(self, text: str) -> list[Person]:
        """Every person a user-typed name may mean (for filters and autocomplete)."""
        text = " ".join(text.split())
        if not text:
            return []
        if any("\u3400" <= ch <= "\u9fff" for ch in text):
            return [self.from_chinese(text)]
        key = text.lower()
        if key in self.by_en:
            return [self.by_en[key]]
        if " " not in key and key in self.by_surname:
            return sorted(self.by_surname[key], key=lambda p: p.id)
        return [self.from_english(text)]


def surname_aliases(directory: dict[str, dict]) -> dict[str, str]:
    """Speakers known only by an English surname → the person of the collection quoted under that
    surname in full: ``Baker`` → ``James Baker`` when he is the only Baker quoted in full, or quoted
    at least three times as often as any other.

    >>> surname_aliases({"baker": {"names": {"zh": None, "en": "Baker"}, "count": 43},
    ...                  "james-baker": {"names": {"zh": None, "en": "James Baker"}, "count": 56}})
    {'baker': 'james-baker'}
    """
    full: dict[str, list[tuple[int, str]]] = {}
    for sid, entry in directory.items():
        words = (entry["names"].get("en") or "").split()
        if len(words) >= 2:
            full.setdefault(words[-1].lower(), []).append((entry["count"], sid))
    out: dict[str, str] = {}
    for sid, entry in directory.items():
        en = entry["names"].get("en") or ""
        if not en or " " in en or entry["names"].get("zh"):
            continue
        candidates = sorted(full.get(en.lower(), []), reverse=True)
        if candidates and (len(candidates) == 1 or candidates[0][0] >= 3 * candidates[1][0]):
            out[sid] = candidates[0][1]
    return out


def pinyin_name(name: str, surnames: dict[str, str] | None = None) -> str | None:
    """``李强`` → ``Li Qiang``, ``欧阳修`` → ``Ouyang Xiu``; ``None`` if not Han characters."""
    from search.lexicon.readings import reading  # pypinyin's readings, without importing it

    if not name or not all("\u3400" <= ch <= "\u9fff" for ch in name):
        return None
    table = surnames if surnames is not None else people().surnames
    if name[:2] in table and len(name) > 2:
        family, given = table[name[:2]], name[2:]
    elif name[:1] in table:
        family, given = table[name[:1]], name[1:]
    else:
        family, given = reading(name[:1]).capitalize(), name[1:]
    given_py = reading(given).replace("ü", "u")
    family = family.replace("ü", "u")
    return f"{family} {given_py.capitalize()}" if given_py else family


def _countries_and_cities() -> set[str]:
    """English country names (ISO 3166) and major cities, from the tz database's tables."""
    from importlib import resources

    names: set[str] = set()
    try:
        folder = resources.files("tzdata").joinpath("zoneinfo")
        iso = folder.joinpath("iso3166.tab").read_text("utf-8")
        zones = folder.joinpath("zone1970.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - tzdata is pinned
        return names
    for line in iso.splitlines():
        if line and not line.startswith("#"):
            country = line.split("\t")[1]
            names.add(country.lower())
            names.add(country.split(" (")[0].split(",")[0].lower())
    for line in zones.splitlines():
        if line and not line.startswith("#"):
            city = line.split("\t")[2].split("/")[-1].replace("_", " ")
            names.add(city.lower())
    names |= {"britain", "russia", "america", "united states", "soviet union", "europe", "asia", "africa", "iran", "syria", "venezuela", "bolivia", "tanzania", "vietnam", "laos", "micronesia", "moldova", "taiwan", "south korea", "north korea"}
    return names


def _given_names() -> frozenset[str]:
    import gender_guesser.detector

    return frozenset(gender_guesser.detector.Detector(case_sensitive=False).names)


def _fingerprint() -> str:
    """What the tables are built from: this code, its data files and the packages it reads."""
    from importlib.metadata import version

    from search.lexicon.cedict import data_fingerprint

    h = hashlib.sha256(data_fingerprint().encode())
    for path in (Path(__file__), _HERE / "entities.py", _HERE / "people.tsv", _HERE / "surnames.tsv", _HERE / "translit.txt"):
        h.update(path.read_bytes())
    h.update(",".join(version(name) for name in ("pypinyin", "rjieba", "OpenCC", "tzdata", "gender-guesser")).encode())
    return h.hexdigest()[:20]


@lru_cache(maxsize=1)
def people() -> People:
    """The name tables, read from the cache when current (building them takes about 2 s, reading
    them 50 ms: every ``index`` run starts with them), else built and cached. The cache is the
    query lexicon's folder (``$SEARCH_CACHE_DIR``...); an unwritable one costs the build only."""
    from search.lexicon import cache_dir

    path = cache_dir() / f"people-{_fingerprint()}.pickle"
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        pass
    built = People()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(temp, "wb") as handle:
            pickle.dump(built, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, path)  # a reader sees the old file or the whole new one
        for old in path.parent.glob("people-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return built

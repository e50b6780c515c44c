"""Pinyin of short Chinese strings (given names) from a cached table, without importing pypinyin.

Importing pypinyin and training its phrase segmenter takes ~0.33 s, and an indexing run paid it
at its first unknown Chinese name, while the other processes waited for the first articles (a
twentieth of the 6,000-article sample's whole command). The readings a name needs (each
character's, and each two-character phrase's) are computed once by pypinyin itself, kept in
a SQLite table in the cache folder, and read one name at a time.

>>> reading("薇薇"), reading("长青")
('weiwei', 'changqing')
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from functools import lru_cache
from pathlib import Path

#: Bump when what the table holds changes (the cache file's name carries it).
TABLE_VERSION = 1


def _build_rows() -> list[tuple[str, str]]:
    """Every character pypinyin reads, and every two-character phrase of its dictionary, with
    ``"".join(lazy_pinyin(text, style=NORMAL, v_to_u=True))``."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

    keys = [chr(code) for code in PINYIN_DICT] + [phrase for phrase in PHRASES_DICT if len(phrase) == 2]
    return [(key, "".join(lazy_pinyin(key, style=Style.NORMAL, v_to_u=True))) for key in keys]


def _fingerprint() -> str:
    from importlib.metadata import version

    return hashlib.sha256(f"{TABLE_VERSION}|pypinyin-{version('pypinyin')}".encode()).hexdigest()[:16]


class _Table:
    """The cached table, opened once per process (a forked process opens its own)."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._db: sqlite3.Connection | None = None
        self._failed = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._failed:
            return None
        if self._db is not None and self._pid == os.getpid():
            return self._db
        from search.lexicon import cache_dir

        path = cache_dir() / f"readings-{_fingerprint()}.sqlite"
        try:
            if not path.exists():
                _write(path)
            # A URI, percent-encoded: a cache folder named with a space, '#' or '?' is still that folder.
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            self._db.execute("SELECT reading FROM readings LIMIT 1").fetchall()  # a foreign file fails here
            self._pid = os.getpid()
        except (OSError, sqlite3.Error):
            self._failed = True  # an unwritable cache: pypinyin answers (see reading)
            return None
        return self._db

    def get(self, text: str) -> str | None:
        db = self._connect()
        if db is None:
            return None
        row = db.execute("SELECT reading FROM readings WHERE text = ?", (text,)).fetchone()
        return row[0] if row else None


def _write(path: Path) -> None:
    """Build the table into a temporary file and move it in whole (a concurrent run sees the
    old state or the complete table)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(f".{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    db = sqlite3.connect(temp)
    try:
        db.execute("CREATE TABLE readings (text TEXT PRIMARY KEY, reading TEXT NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT OR REPLACE INTO readings VALUES (?, ?)", _build_rows())
        db.commit()
    finally:
        db.close()
    os.replace(temp, path)
    for old in path.parent.glob("readings-*.sqlite"):
        if old != path:
            old.unlink(missing_ok=True)


_table = _Table()


@lru_cache(maxsize=65_536)
def reading(text: str) -> str:
    """``"".join(lazy_pinyin(text, style=Style.NORMAL, v_to_u=True))`` for a string of one or two
    characters, from the table (a two-character string that is no phrase of pypinyin's is read
    a character at a time, as pypinyin reads it); anything else, or a character the table lacks,
    or no table at all, from pypinyin itself."""
    if 1 <= len(text) <= 2:  # without a table every lookup is None: pypinyin answers
        found = _table.get(text)
        if found is not None:
            return found
        if len(text) == 2:
            first, second = _table.get(text[0]), _table.get(text[1])
            if first is not None and second is not None:
                return first + second
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.NORMAL, v_to_u=True))


__all__ = ["reading"]

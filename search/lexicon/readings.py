"""Pinyin of Chinese strings (given names) from a cached table, without importing pypinyin.

Importing pypinyin and training its phrase segmenter takes ~0.33 s, and an indexing run paid it
at its first unknown Chinese name, while the other processes waited for the first articles (a
twentieth of the 6,000-article sample's whole command). The readings a name needs (each
character's, each phrase's of pypinyin's dictionary) and the prefixes of those phrases are
computed once by pypinyin itself, kept in a SQLite table in the cache folder, and read one name
at a time; a string of three or more characters is cut as pypinyin cuts it (the longest prefix
of a dictionary phrase, again and again), each piece read as a phrase or a character at a time.

>>> reading("薇薇"), reading("长青"), reading("莫尼同")
('weiwei', 'changqing', 'monitong')
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from functools import lru_cache
from pathlib import Path

#: Bump when what the table holds changes (the cache file's name carries it).
TABLE_VERSION = 2


def _build_rows() -> list[tuple[str, str | None]]:
    """Every character pypinyin reads and every phrase of its dictionary, with ``"".join(
    lazy_pinyin(text, style=NORMAL, v_to_u=True))``; and without a reading (``None``), every
    other string its segmenter knows as the beginning of a phrase."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

    keys = [chr(code) for code in PINYIN_DICT] + list(PHRASES_DICT)
    rows: dict[str, str | None] = {key: "".join(lazy_pinyin(key, style=Style.NORMAL, v_to_u=True)) for key in keys}
    for phrase in PHRASES_DICT:  # the beginnings its segmenter is trained on (mmseg.PrefixSet)
        for end in range(2, len(phrase)):
            rows.setdefault(phrase[:end], None)
    return list(rows.items())


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
        """The reading of a character or a phrase (``None``: neither, or no table)."""
        row = self.row(text)
        return row[0] if row else None

    def row(self, text: str) -> tuple[str | None] | None:
        """``(reading,)`` of a character or phrase, ``(None,)`` of another beginning of a
        phrase, ``None`` for anything else (or without a table)."""
        db = self._connect()
        if db is None:
            return None
        return db.execute("SELECT reading FROM readings WHERE text = ?", (text,)).fetchone()


def _write(path: Path) -> None:
    """Build the table into a temporary file and move it in whole (a concurrent run sees the
    old state or the complete table)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(f".{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    db = sqlite3.connect(temp)
    try:
        db.execute("CREATE TABLE readings (text TEXT PRIMARY KEY, reading TEXT) WITHOUT ROWID")
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
    """``"".join(lazy_pinyin(text, style=Style.NORMAL, v_to_u=True))`` of a Han string, from the
    table; a string with a character the table lacks, or without a table, from pypinyin itself."""
    found = _read(text) if text else None
    if found is not None:
        return found
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.NORMAL, v_to_u=True))


def _read(text: str) -> str | None:
    """What pypinyin's segmenter (``mmseg``, strict) does with a string: scan the beginnings of
    the rest that begin a phrase of its dictionary; read the longest that is a phrase as that
    phrase, or else the first character alone (or, when the whole rest begins a phrase without
    being one, every character alone), and go on (``None``: a character without a reading, or
    no table)."""
    out = []
    while text:
        longest, phrase = 0, ""  # the longest beginning that is a phrase, its reading
        size = 1  # the longest that begins one (or the first character)
        while size < len(text):
            row = _table.row(text[: size + 1])
            if row is None:
                break
            size += 1
            if row[0] is not None:
                longest, phrase = size, row[0]
        if longest:
            out.append(phrase)
            text = text[longest:]
            continue
        alone = text if size == len(text) else text[0]
        for ch in alone:
            found = _table.get(ch)
            if found is None:
                return None
            out.append(found)
        text = text[len(alone) :]
    return "".join(out)


__all__ = ["reading"]

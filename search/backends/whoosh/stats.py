"""What is in an index: article counts by language and year, size on disk, versions.

Used by ``GET /api/stats`` (``Engine.stats()``); reads through the :class:`WhooshBackend`
so the numbers follow the index as it is updated (deleted articles are not counted).
"""

from __future__ import annotations

import os

from whoosh import query as wq

from search.model import LANGS
from search.backends.whoosh.store import versions


def index_size(index_dir: str) -> int:
    """Bytes on disk of every file in the index folder."""
    total = 0
    for entry in os.scandir(index_dir):
        if entry.is_file(follow_symlinks=False):
            try:
                total += entry.stat(follow_symlinks=False).st_size
            except OSError:  # a segment merged away while we looked
                pass
    return total


def index_stats(engine, counted: dict | None = None) -> dict:
    """Counts and facts about the index behind ``engine``; ``counted``: the counts of
    :func:`index_counts`, kept from an earlier call for the same index generation."""
    counted = counted if counted is not None else index_counts(engine)
    return {**counted, "index_bytes": index_size(engine.index_dir), **versions()}


def index_counts(engine) -> dict:
    """Articles by language and year (a walk over every document: 145 ms for 38,637)."""
    s = engine.searcher()
    reader = s.reader()
    languages = {lang: sum(1 for _ in wq.Term("lang", lang).docs(s)) for lang in LANGS}
    years: dict[int, int] = {}
    undated = 0
    for day in _column_values(reader, "day"):
        # An undated article reads as the column's default (0, or 2**32 - 1 for this unsigned field).
        if day and 10000101 <= day <= 99991231:
            years[day // 10000] = years.get(day // 10000, 0) + 1
        else:
            undated += 1
    return {
        "articles": s.doc_count(),
        "languages": languages,
        "years": [{"year": year, "count": count} for year, count in sorted(years.items(), reverse=True)],
        "undated": undated,
    }


def _column_values(reader, name: str):
    """The column's value for every live document, segment by segment.

    Whoosh's multi-segment column reader skips segments that lack the column
    (no document there had a value) but keeps the others' offsets, so looking
    up a document of a skipped segment fails; reading per segment avoids that.
    """
    for sub, _offset in reader.leaf_readers():
        column = sub.column_reader(name) if sub.has_column(name) else None
        for docnum in sub.all_doc_ids():
            yield column[docnum] if column is not None else None


__all__ = ["index_counts", "index_size", "index_stats"]

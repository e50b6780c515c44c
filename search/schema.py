"""The Whoosh schema: per-language text fields, stored originals, metadata.

Every article has the same fields; a monolingual article leaves the other
language's fields empty. Titles get a BM25F field boost.
"""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from search.analysis.analyzer import BilingualAnalyzer

#: Bump when fields change (stored in the index beside the analyzer version).
SCHEMA_VERSION = 1

TITLE_BOOST = 2.5

TEXT_FIELDS = ("title_zh", "title_en", "body_zh", "body_en")


def build_schema() -> Schema:
    analyzer = BilingualAnalyzer()

    def text(boost: float = 1.0) -> TEXT:
        return TEXT(analyzer=analyzer, phrase=True, stored=True, field_boost=boost)

    return Schema(
        id=ID(stored=True, unique=True),
        version_key=ID(),  # "<id>\x1f<content hash>": an unchanged article is a term lookup
        path=ID(stored=True),
        title_zh=text(TITLE_BOOST),
        title_en=text(TITLE_BOOST),
        body_zh=text(),
        body_en=text(),
        date=DATETIME(stored=False, sortable=True),
        date_iso=STORED(),
        source=ID(stored=True),
        url=STORED(),
        dateline=STORED(),
        lang=KEYWORD(stored=True, lowercase=True),
    )

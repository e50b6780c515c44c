"""The Whoosh schema: per-language text fields, stored originals, metadata.

Every article has the same fields; a monolingual article leaves the other
language's fields empty. Titles get a BM25F field boost.
"""

from __future__ import annotations

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from search.analysis.analyzer import BilingualAnalyzer

#: Bump when fields change (stored in the index beside the analyzer version).
SCHEMA_VERSION = 2

TITLE_BOOST = 2.5
CAPTION_BOOST = 0.5

TEXT_FIELDS = ("title_zh", "title_en", "body_zh", "body_en", "captions_zh", "captions_en")


def build_schema() -> Schema:
    analyzer = BilingualAnalyzer()

    def text(boost: float = 1.0) -> TEXT:
        return TEXT(analyzer=analyzer, phrase=True, stored=True, field_boost=boost)

    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        version_key=ID(),  # "<id>\x1f<content hash>": an unchanged article is a term lookup
        path=ID(stored=True),
        title_zh=text(TITLE_BOOST),
        title_en=text(TITLE_BOOST),
        body_zh=text(),
        body_en=text(),
        captions_zh=text(CAPTION_BOOST),
        captions_en=text(CAPTION_BOOST),
        date=DATETIME(stored=False, sortable=True),
        day=NUMERIC(int, bits=32, signed=False, sortable=True),  # YYYYMMDD in the article's own time zone
        date_iso=STORED(),
        speakers=KEYWORD(commas=True, lowercase=False, scorable=False),  # canonical speaker ids
        speakers_data=STORED(),  # [{"id", "names": {"zh", "en"}, "quotes"}]
        speakers_column=COLUMN(VarBytesColumn()),  # the same as JSON bytes, for cheap facet counts
        meta=STORED(),  # editor, reporters, dateline place, encoding...
        source=ID(stored=True),
        url=STORED(),
        dateline=STORED(),
        lang=KEYWORD(stored=True, lowercase=True),
    )

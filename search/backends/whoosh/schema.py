"""The Whoosh schema: per-language text fields, stored originals, metadata.

Every article has the same fields; a monolingual article leaves the other
language's fields empty. Titles get a BM25F field boost.
"""

from __future__ import annotations

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from search.backends.whoosh.analyzer import BigramAnalyzer, BilingualAnalyzer
from search.query.plan import CAPTION_BOOST, TITLE_BOOST

#: Bump when fields change (stored in the index beside the analyzer version).
SCHEMA_VERSION = 7  # 7: Chinese bigram fields (title_bigrams, body_bigrams, captions_bigrams)




class BilingualText(TEXT):
    """A ``TEXT`` field analyzed by :class:`BilingualAnalyzer`, indexed without Whoosh tokens.

    Whoosh's ``TEXT.index`` runs the analyzer through reusable ``Token`` objects and
    its posting format's ``word_values``; this builds the same ``(term, frequency,
    weight, positions)`` postings straight from the analysis pipeline, which is where
    most of the per-word indexing time went. Queries still use the analyzer.
    """

    def index(self, value, **kwargs):
        if not isinstance(value, str) or not isinstance(self.analyzer, BilingualAnalyzer):
            yield from super().index(value, **kwargs)
            return
        positions: dict[str, list[int]] = {}
        for token in self.analyzer.tokens(value):
            found = positions.get(token.term)
            if found is None:
                positions[token.term] = [token.pos]
            else:
                found.append(token.pos)
        boost = self.format.field_boost
        encode = self.format.encode
        for term, found in positions.items():
            yield term.encode("utf-8"), len(found), float(len(found)) * boost, encode(found)


def build_schema() -> Schema:
    analyzer = BilingualAnalyzer()

    def text(boost: float = 1.0) -> TEXT:
        return BilingualText(analyzer=analyzer, phrase=True, stored=True, field_boost=boost)

    def pairs(boost: float = 1.0) -> TEXT:
        # Not stored: the text is the Chinese field's.
        return BilingualText(analyzer=BigramAnalyzer(), phrase=True, stored=False, field_boost=boost)

    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        digest=COLUMN(VarBytesColumn()),  # content hash: an unchanged article is skipped
        path=ID(),  # the source file, for --prune (not shown: stored would cost 1.5 MB per 40k articles)
        title_zh=text(TITLE_BOOST),
        title_en=text(TITLE_BOOST),
        body_zh=text(),
        body_en=text(),
        captions_zh=text(CAPTION_BOOST),
        captions_en=text(CAPTION_BOOST),
        title_bigrams=pairs(TITLE_BOOST),
        body_bigrams=pairs(),
        captions_bigrams=pairs(CAPTION_BOOST),
        day=NUMERIC(int, bits=32, signed=False, sortable=True),  # YYYYMMDD in the article's own time zone
        date_iso=STORED(),
        speakers=KEYWORD(commas=True, lowercase=False, scorable=False),  # canonical speaker ids
        speakers_column=COLUMN(VarBytesColumn()),  # [{"id", "names": {"zh", "en"}, "quotes"}] as JSON
        meta=STORED(),  # editor, reporters, dateline place, encoding...
        source=ID(stored=True),
        url=STORED(),
        dateline=STORED(),
        lang=KEYWORD(stored=True, lowercase=True),
        # Near-duplicates (search/dedup.py): the group's id, and the MinHash signatures it was found with.
        dup_group=ID(stored=True, sortable=True),
        dup_sig=COLUMN(VarBytesColumn()),
    )

"""The engine's BM25F: Whoosh's, with Lucene's IDF on the Chinese character-pair fields.

Whoosh's IDF, ``log(N / (n + 1)) + 1``, never falls below 1, which suits words. A pair
is a fragment (国家, 中国, 一个 stand in most Chinese articles) and most of a question's
pairs are such fragments; Lucene's IDF, ``log(1 + (N - n + 0.5) / (n + 0.5))`` (what
OpenSearch computes for every field), tends to 0 as a pair nears every article. On the
word fields it lowered Tatoeba en→zh (translations) by 0.006, so they keep Whoosh's.
"""

from __future__ import annotations

from math import log

from whoosh.scoring import BM25F

from search.query.plan import BIGRAM_FIELDS

_PAIR_FIELDS = frozenset(BIGRAM_FIELDS.values())


def idf(fieldname: str, doc_count: int, df: float) -> float:
    """The IDF of a term held by ``df`` of ``doc_count`` documents in ``fieldname``."""
    if fieldname in _PAIR_FIELDS:
        return log(1 + (doc_count - df + 0.5) / (df + 0.5))
    return log(doc_count / (df + 1)) + 1


class EngineBM25F(BM25F):
    """Whoosh's BM25F with :func:`idf` (Whoosh's own searcher scores with it too)."""

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        return idf(fieldname, parent.doc_count_all(), parent.doc_frequency(fieldname, text))

"""The set of documents a query matches, from whole posting lists at once.

A result page needs the ten best documents (Whoosh's scored search), but the
total and the facets need *every* matching document. Whoosh finds those by
walking its matcher tree one posting at a time in Python, which took most of
a search's time for common words. Here each term's posting list is read a
block at a time into a set (cached per index generation, shared by threads),
and the query's structure becomes set algebra: OR is a union, AND an
intersection, NOT a difference. Phrases and ranges, which need positions or
numeric tiers, are asked of Whoosh, restricted to their candidates.

>>> DocSets(searcher).of(query)  # doctest: +SKIP
{12, 40, 41}
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from itertools import accumulate

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher

from search.query.synonyms import SynonymSet, WeightedSynonyms

#: Document numbers kept in the shared term cache (about 40 bytes each).
CACHE_IDS = 2_000_000


class TermCache:
    """Posting sets by (field, term) for one index generation; least recently used go first."""

    def __init__(self, generation: object, limit: int = CACHE_IDS) -> None:
        self.generation = generation
        self.limit = limit
        self._sets: OrderedDict[tuple, frozenset[int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> frozenset[int] | None:
        with self._lock:
            found = self._sets.get(key)
            if found is not None:
                self._sets.move_to_end(key)
            return found

    def put(self, key: tuple, docs: frozenset[int]) -> None:
        if len(docs) > self.limit // 4:
            return  # one huge list would evict everything else
        with self._lock:
            if key in self._sets:
                return
            self._sets[key] = docs
            self._size += len(docs)
            while self._size > self.limit and self._sets:
                _, old = self._sets.popitem(last=False)
                self._size -= len(old)


class DocSets:
    """Evaluate queries to document sets against one searcher (global document numbers)."""

    def __init__(self, searcher, cache: TermCache) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.cache = cache
        self._all: frozenset[int] | None = None

    def of(self, q: wq.Query | None) -> frozenset[int]:
        """Every live document ``q`` matches (``None``: none)."""
        if q is None:
            return frozenset()
        return self._eval(q)

    def all(self) -> frozenset[int]:
        if self._all is None:
            self._all = frozenset(self.reader.all_doc_ids())
        return self._all

    def _eval(self, q: wq.Query) -> frozenset[int]:
        if q is wq.NullQuery or isinstance(q, wq.NullQuery.__class__):
            return frozenset()
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, WeightedSynonyms):
            return _union([self.term(q.fieldname, text) for text, _ in q.terms_weights])
        if isinstance(q, wq.Every):
            return self.all()
        if isinstance(q, wq.AndNot):
            return self._eval(q.a) - self._eval(q.b)
        if isinstance(q, wq.AndMaybe):
            return self._eval(q.a)
        if isinstance(q, wq.Not):
            return self.all() - self._eval(q.query)
        if isinstance(q, wq.And):
            parts = sorted((self._eval(sub) for sub in q.subqueries), key=len)
            if not parts:
                return frozenset()
            out = parts[0]
            for part in parts[1:]:
                if not out:
                    break
                out = out & part
            return out
        if isinstance(q, (wq.Or, wq.DisjunctionMax, SynonymSet)):
            return _union([self._eval(sub) for sub in q.subqueries])
        if isinstance(q, wq.Phrase):
            candidates = self._eval(wq.And([wq.Term(q.fieldname, word) for word in q.words]))
            return self._whoosh(q, candidates) if candidates else frozenset()
        return self._whoosh(q, None)

    def term(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        found = self.cache.get(key)
        if found is None:
            found = self._read_term(fieldname, text)
            self.cache.put(key, found)
        return found

    def _read_term(self, fieldname: str, text: str) -> frozenset[int]:
        """The live documents of one term, read a block of postings at a time."""
        field = self.reader.schema[fieldname]
        tbytes = field.to_bytes(text)
        ids: list[int] = []
        for sub, offset in self.reader.leaf_readers():
            if (fieldname, tbytes) not in sub:
                continue
            matcher = sub._terms.matcher(fieldname, tbytes, field.format)
            if isinstance(matcher, W3LeafMatcher):
                local = _block_ids(matcher)
            else:
                local = list(matcher.all_ids())
            deleted = sub.deleted_docs_set if sub.has_deletions() else None
            if deleted:
                local = [d for d in local if d not in deleted]
            ids.extend(local if not offset else [d + offset for d in local])
        return frozenset(ids)

    def _whoosh(self, q: wq.Query, candidates: frozenset[int] | None) -> frozenset[int]:
        """Ask Whoosh (phrases, ranges, anything else), unscored, within ``candidates``."""
        results = self.searcher.search(q, limit=None, filter=set(candidates) if candidates is not None else None, scored=False, terms=False)
        return frozenset(results.docs())


def _block_ids(matcher: W3LeafMatcher) -> list[int]:
    """All document numbers of a posting list, decoded a block at a time."""
    out: list[int] = []
    while not matcher._atend:
        if matcher._data is None:
            matcher._read_data()
        out.extend(accumulate(matcher._data[0]))
        matcher._next_block()
    return out


def _union(sets: list[frozenset[int]]) -> frozenset[int]:
    if not sets:
        return frozenset()
    if len(sets) == 1:
        return sets[0]
    return frozenset().union(*sets)

"""Whoosh queries for a synonym set: the translations of one query word, weighted as one term.

Structured query translation (Pirkola 1998) searches the translations of a
source word as *one* term, not as a bag: otherwise a word with eight
translations outweighs a word with one, and a document that repeats several
translations of one word outscores a document matching two different words.

- :class:`WeightedSynonyms` (single-word translations in one field) is
  Pirkola's ``#syn`` with translation weights, after the probabilistic
  structured queries of Darwish & Oard (2003): the set is one BM25 term whose
  term frequency is ``Σ wᵢ·tfᵢ`` (``wᵢ`` relative to the best translation, so
  the best counts one-for-one) and whose document frequency is the expected
  ``Σ pᵢ·dfᵢ`` (``pᵢ = wᵢ / Σw``). A common translation lowers the whole set's
  idf instead of adding a cheap match; a rare, unlikely one adds little tf.
  (Measured on Tatoeba and WMT22 against a disjunction-max of the translations
  and against a plain OR: see ``bench/crosslingual.py`` and the README.)
- :class:`SynonymSet` joins alternatives that cannot share term statistics
  (a phrase translation beside the single words): it scores the best of them
  (disjunction-max), never their sum.
"""

from __future__ import annotations

from whoosh import matching
from whoosh import query as wq
from whoosh.matching.wrappers import WrappingMatcher
from whoosh.util import make_binary_tree

from search.backends.whoosh import internals
from search.backends.whoosh.weighting import idf as weighting_idf


class _MaxMatcher(matching.DisjunctionMaxMatcher):
    """Whoosh's disjunction-max matcher with ``replace`` fixed.

    Whoosh 2.7's version returns a null matcher once *either* side is
    exhausted (``not (a_active and b_active)``), silently dropping the other
    side's remaining documents whenever the collector prunes by quality.
    """

    def replace(self, minquality=0):
        a, b = self.a, self.b
        if not a.is_active():
            return b.replace(minquality)
        if not b.is_active():
            return a.replace(minquality)
        if minquality and max(a.max_quality(), b.max_quality()) < minquality:
            return matching.NullMatcher()
        a2, b2 = a.replace(minquality), b.replace(minquality)
        if not a2.is_active():
            return b2
        if not b2.is_active():
            return a2
        if a2 is not a or b2 is not b:
            return self.__class__(a2, b2, tiebreak=self.tiebreak)
        return self


class SynonymSet(wq.DisjunctionMax):
    """Alternatives for one concept: matches any, scores the best one."""

    def _matcher(self, subs, searcher, context):
        reader = searcher.reader()
        return self._tree_matcher(subs, _MaxMatcher, searcher, context, lambda q: q.estimate_size(reader), tiebreak=self.tiebreak)


class WeightedSynonyms(wq.Query):
    """Single-word translations in one field, scored as one BM25 term (see the module doc).

    ``terms`` are ``(text, weight)`` with weights relative to the best
    translation (1.0): a document with the best translation has the set's full
    term frequency, one with a weaker translation proportionally less.
    """

    def __init__(self, fieldname: str, terms: list[tuple[str, float]] | tuple, boost: float = 1.0) -> None:
        self.fieldname = fieldname
        self.terms_weights = tuple((text, float(w)) for text, w in terms)
        self.boost = boost

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and self.fieldname == other.fieldname
            and self.terms_weights == other.terms_weights
            and self.boost == other.boost
        )

    def __hash__(self):
        return hash((type(self).__name__, self.fieldname, self.terms_weights, self.boost))

    def __repr__(self):
        return f"{type(self).__name__}({self.fieldname!r}, {list(self.terms_weights)!r}, boost={self.boost})"

    __str__ = __repr__

    def has_terms(self):
        return True

    def terms(self, phrases=False):
        for text, _ in self.terms_weights:
            yield self.fieldname, text

    def tokens(self, boost=1.0):
        return iter(())

    def estimate_size(self, ixreader):
        return sum(ixreader.doc_frequency(self.fieldname, text) for text, _ in self.terms_weights)

    def normalize(self):
        if not self.terms_weights:
            return wq.NullQuery
        if len(self.terms_weights) == 1:
            return wq.Term(self.fieldname, self.terms_weights[0][0], boost=self.boost)
        return self

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        total = sum(w for _, w in self.terms_weights) or 1.0
        subs = []
        for text, weight in self.terms_weights:
            if (self.fieldname, text) in reader:
                # WrappingMatcher scales weight() (the term frequency) by the translation's weight.
                subs.append(WrappingMatcher(reader.postings(self.fieldname, text), boost=weight))
        if not subs:
            return matching.NullMatcher()
        union = subs[0] if len(subs) == 1 else make_binary_tree(matching.UnionMatcher, subs)
        weighting = context.weighting if context is not None else searcher.weighting
        if weighting is None:  # an unscored (boolean) search: matching is all that is needed
            return union
        parent = searcher.get_parent()
        df = sum(weight / total * parent.doc_frequency(self.fieldname, text) for text, weight in self.terms_weights)
        idf = weighting_idf(self.fieldname, parent.doc_count_all(), df)
        avgfl = parent.avg_field_length(self.fieldname) or 1
        b, field_b, k1 = internals.bm25f_parameters(weighting)  # fails loudly on another weighting
        b = field_b.get(self.fieldname, b)
        return _SynonymMatcher(union, reader, self.fieldname, idf, avgfl, b, k1, self.boost)


class _SynonymMatcher(WrappingMatcher):
    """BM25 over the union's summed (weighted) term frequency."""

    def __init__(self, child, reader, fieldname, idf, avgfl, b, k1, boost=1.0):
        super().__init__(child, boost=boost)
        self._reader = reader
        self._fieldname = fieldname
        self._idf = idf
        self._avgfl = avgfl
        self._b = b
        self._k1 = k1

    def _replacement(self, newchild):
        return self.__class__(newchild, self._reader, self._fieldname, self._idf, self._avgfl, self._b, self._k1, self.boost)

    def copy(self):
        return self._replacement(self.child.copy())

    def replace(self, minquality=0):
        child = self.child.replace(0)  # no quality bounds: never prune by them
        if not child.is_active():
            return matching.NullMatcher()
        return self if child is self.child else self._replacement(child)

    def supports_block_quality(self):
        return False

    # Parents prune with these bounds even when block quality is off, so they must be true bounds:
    # a BM25 term score never exceeds idf·(k1 + 1).
    def max_quality(self):
        return self.boost * self._idf * (self._k1 + 1)

    def block_quality(self):
        return self.max_quality()

    def skip_to_quality(self, minquality):
        if self.max_quality() >= minquality:
            return 0
        skipped = 0
        while self.child.is_active():  # nothing here can reach minquality
            self.child.next()
            skipped += 1
        return skipped

    def weight(self):
        return self.child.weight()

    def score(self):
        tf = self.child.weight()
        fl = self._reader.doc_field_length(self.child.id(), self._fieldname, 1) or 1
        k1, b = self._k1, self._b
        return self.boost * self._idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / self._avgfl))

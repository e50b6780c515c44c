"""Match and score a query over whole posting lists at once (numpy), as Whoosh would.

Whoosh evaluates a query one posting at a time through a tree of Python
matcher objects; for a common word and its translations across six fields
that is tens of thousands of method calls, and the total and the facets need
every match, not only the best ten. Here each term's posting list is read a
block at a time into arrays (cached per index generation, shared by threads)
and the query tree becomes array arithmetic over all documents: OR sums the
scores of its parts, AND keeps documents every part matches, AND-MAYBE adds
the optional part, disjunction-max takes the best, NOT removes.

Scores are Whoosh's own: BM25F with the IDF of :mod:`search.backends.whoosh.weighting`
(what Whoosh's searcher computes with the engine's weighting), average field lengths and
byte-quantized document lengths, the same formula in the same order of
operations, query boosts where Whoosh applies them, and the weighted
synonym sets of :mod:`search.backends.whoosh.synonyms`. A phrase is checked on the
positions of the documents holding all its words and scored as Whoosh's
``SpanNear2`` scores it. Ranges and anything else are asked of Whoosh. A query
shape this module cannot score raises :class:`Unsupported` and the engine
falls back to Whoosh's searcher; ``tests/test_ranking.py`` compares the two on
every query shape the planner builds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.fields import ID, KEYWORD, TEXT
from whoosh.matching import ListMatcher

from search.backends.whoosh.synonyms import SynonymSet, WeightedSynonyms
from search.backends.whoosh import internals
from search.backends.whoosh.internals import W3LeafMatcher
from search.backends.whoosh.schema import VarintPositions
from search.backends.whoosh.weighting import EngineBM25F, idf
from search.query.plan import BIGRAM_FIELDS

_WORD_FIELD = {bigrams: words for words, bigrams in BIGRAM_FIELDS.items()}

#: Postings kept in the shared term cache (12 bytes each: document number and weight).
CACHE_POSTINGS = 8_000_000
#: Positions (and documents) kept decoded for phrase checks, and how common a word must
#: be to have its positions kept (rarer words are decoded for the documents asked about).
CACHE_POSITIONS = 16_000_000
CACHE_POSITIONS_MIN_DF = 1000
#: Phrases whose matching documents are remembered per generation.
CACHE_PHRASES = 20_000
#: Term statistics remembered per generation before the memo starts over.
CACHE_TERM_STATS = 500_000


class Unsupported(Exception):
    """A query shape that only Whoosh's own searcher evaluates."""


@dataclass(frozen=True)
class TermPostings:
    docs: np.ndarray  # global document numbers, ascending, live documents only
    weights: np.ndarray  # float64 copies of Whoosh's stored (float32) weights


class _LRU:
    """A map shared by threads that keeps its most recently used values while their total
    size (``size(value)``: postings, positions…) stays within ``limit``; a value larger
    than a quarter of the limit is returned but not kept."""

    def __init__(self, limit: int, size=lambda value: 1) -> None:
        self.limit, self._sizeof = limit, size
        self.size = 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key):
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def get_or_load(self, key, load):
        """The value of ``key``, from ``load()`` (run outside the lock) if it is not kept."""
        found = self.get(key)
        if found is None:
            found = load()
            self.put(key, found)
        return found

    def snapshot(self) -> list:
        """``(key, value)`` of every kept value, least recently used first."""
        with self._lock:
            return list(self._items.items())

    def put(self, key, value) -> None:
        size = self._sizeof(value)
        with self._lock:
            if key in self._items or size > self.limit // 4:
                return
            self._items[key] = value
            self.size += size
            while self.size > self.limit and self._items:
                _, old = self._items.popitem(last=False)
                self.size -= self._sizeof(old)


class Generation:
    """What every search of one index generation shares: posting arrays, field lengths, live documents."""

    def __init__(self, reader, limit: int = CACHE_POSTINGS) -> None:
        self.count = reader.doc_count_all()
        # (segment id, first document number, documents) of each segment, in order.
        self.layout = tuple((sub.segment().segment_id(), offset, sub.doc_count_all()) for sub, offset in reader.leaf_readers())
        self.live = np.ones(self.count, dtype=bool)
        for sub, offset in reader.leaf_readers():
            if sub.has_deletions():
                dead = np.fromiter(sub.deleted_docs_set, dtype=np.int64)
                self.live[dead + offset] = False
        self._postings = _LRU(limit, lambda found: len(found.docs))
        self._lengths: dict[str, np.ndarray] = {}
        self._df: dict[tuple[str, object], int] = {}  # terms asked of Whoosh, remembered (bounded)
        self._lexicon: dict[tuple[str, str], int] = {}  # every term of the fields in _complete
        self._complete: frozenset[str] = frozenset()  # fields whose whole lexicon is in _lexicon
        self._infos: dict[tuple[str, bytes], list] = {}
        self._positions = _LRU(CACHE_POSITIONS, lambda found: found.size)
        self._phrases = _LRU(CACHE_PHRASES)
        self._asked: set[tuple[str, bytes]] = set()  # terms whose positions a phrase check asked for

    def positions(self, reader, fieldname: str, tbytes: bytes, infos) -> TermPositions:
        """All positions of a common term, decoded once and kept while the cache has room:
        a phrase check asks for the same common words ("year", 国内) query after query."""
        return self._positions.get_or_load((fieldname, tbytes), lambda: _decode_positions(reader, fieldname, tbytes, infos, None))

    def kept_positions(self, fieldname: str, tbytes: bytes) -> TermPositions | None:
        """The term's positions if they are kept (:meth:`positions`), else ``None``."""
        return self._positions.get((fieldname, tbytes))

    def asked_before(self, fieldname: str, tbytes: bytes) -> bool:
        """Whether a phrase check asked for this term's positions before (and notes that it did)."""
        key = (fieldname, tbytes)
        if key in self._asked:
            return True
        if len(self._asked) >= CACHE_TERM_STATS:
            self._asked = set()
        self._asked.add(key)
        return False

    def term_infos(self, reader, fieldname: str, tbytes: bytes) -> list:
        """Where the term's postings are: ``[(segment number, Whoosh term info)]``, remembered
        (a phrase check reads the positions of the same words again and again). Term infos
        are read-only; each thread opens its own matchers on them."""
        key = (fieldname, tbytes)
        found = self._infos.get(key)
        if found is None:
            found = _term_infos(reader.leaf_readers(), fieldname, tbytes)
            if len(self._infos) >= CACHE_TERM_STATS:
                self._infos = {}
            self._infos[key] = found
        return found

    def phrase_docs(self, key: tuple[str, tuple[str, ...]]) -> np.ndarray | None:
        """The live documents holding phrase ``(field, words)``, if a search of this generation
        has checked it: checking reads the positions of every document that has all the
        words, and translations bring the same phrases ("start school") again and again."""
        return self._phrases.get(key)

    def remember_phrase(self, key: tuple[str, tuple[str, ...]], docs: np.ndarray) -> None:
        self._phrases.put(key, docs)

    def doc_frequency(self, reader, fieldname: str, text) -> int:
        """How many documents hold the term (deleted ones included, as Whoosh counts); 0 if
        none or the field does not exist. Remembered: query planning asks for the same
        terms (each word's sub-words and translations, in every field) again and again,
        and each lookup is a hash-table probe per segment in Python. After :meth:`warm`
        the whole lexicon of the text fields is known and nothing is asked of Whoosh."""
        key = (fieldname, text)
        if fieldname in self._complete:
            return self._lexicon.get(key, 0)
        found = self._df.get(key)
        if found is None:
            try:
                found = reader.doc_frequency(fieldname, text) if fieldname in reader.schema else 0
            except ValueError:  # text the field cannot encode (a word in a numeric field)
                found = 0
            if len(self._df) >= CACHE_TERM_STATS:
                self._df = {}
            self._df[key] = found
        return found

    def warm(self, reader, min_df: int, pause=None) -> int:
        """Learn the lexicon of the text fields (every term's document frequency) and read
        every posting list of ``min_df`` documents or more into the cache (long lists are
        what a first query pays for most), largest first while the cache has room; returns
        how many postings it holds. A server calls this before it starts answering.
        ``pause()``, if given, is called after each list read (a background warm-up yields there)."""
        totals: dict[tuple[str, bytes], int] = {}
        for sub, _ in reader.leaf_readers():
            for key, info in internals.term_items(sub):
                totals[key] = totals.get(key, 0) + info.doc_frequency()
        schema = reader.schema
        # The words' fields, not the bigrams' (three times as many terms, asked only as a typed
        # chunk's pairs): on the full corpus the words' lexicon fits, both together did not.
        textual = {name for name in schema.names() if isinstance(schema[name], (TEXT, ID, KEYWORD)) and name not in BIGRAM_FIELDS.values()}
        lexicon = {(fieldname, tbytes.decode("utf-8")): df for (fieldname, tbytes), df in totals.items() if fieldname in textual}
        if len(lexicon) < CACHE_TERM_STATS:
            self._lexicon, self._complete = lexicon, frozenset(textual)
        wanted = sorted((df, key) for key, df in totals.items() if df >= min_df)
        for df, (fieldname, tbytes) in reversed(wanted):
            if self._postings.size + df > self._postings.limit:
                continue
            self.postings(reader, fieldname, tbytes)
            if pause is not None:
                pause()
        # The positions of the commonest words, for phrase checks (translations are full of
        # phrases of common words: "compared with the same period of the previous year").
        for df, (fieldname, tbytes) in reversed(wanted):
            if df < CACHE_POSITIONS_MIN_DF or self._positions.size > self._positions.limit * 3 // 4:
                break
            if _positional(schema, fieldname):
                self.positions(reader, fieldname, tbytes, self.term_infos(reader, fieldname, tbytes))
                if pause is not None:
                    pause()
        return self._postings.size

    def postings(self, reader, fieldname: str, tbytes: bytes) -> TermPostings:
        return self._postings.get_or_load(
            (fieldname, tbytes), lambda: _read_postings(reader, fieldname, tbytes, self.live, self.term_infos(reader, fieldname, tbytes))
        )

    def lengths(self, reader, fieldname: str) -> np.ndarray:
        """Each document's length of ``fieldname`` as Whoosh's scorer reads it (quantized; 0 → 1)."""
        found = self._lengths.get(fieldname)
        if found is None:
            found = self._lengths[fieldname] = _field_lengths(reader.leaf_readers(), fieldname)
        return found

    def inherit(self, reader, previous: "Generation", pause=None) -> bool:
        """Fill the caches from those of ``previous``, the generation this one follows, as far
        as both hold the same segments: a commit adds a segment (and maybe merges the
        newest ones) but leaves the older segments, files and numbering alike, so only the
        segments after them are read. ``False`` (nothing done) when no segment is shared.
        A new generation warmed this way is ready in seconds, not the minute a whole
        :meth:`warm` takes on a large index, and the searches served meanwhile keep the CPU."""
        common = 0
        for before, now in zip(previous.layout, self.layout):
            if before != now:
                break
            common += 1
        if not common:
            return False
        end = self.layout[common - 1][1] + self.layout[common - 1][2]  # documents below it: shared segments
        later = reader.leaf_readers()[common:]
        kept_postings, kept_positions = previous._postings.snapshot(), previous._positions.snapshot()
        # Where the cached terms are in the new segments: one pass over their (small) term
        # tables instead of a lookup per cached term and segment.
        wanted = {key for key, _ in kept_postings} | {key for key, _ in kept_positions}
        where: dict[tuple[str, bytes], list] = {}
        # Only segments were added: the lexicon known is the previous one plus theirs (same pass).
        lexicon = dict(previous._lexicon) if common == len(previous.layout) and previous._complete else None
        for number, (sub, _) in enumerate(later, common):
            for key, info in internals.term_items(sub):
                if key in wanted:
                    where.setdefault(key, []).append((number, info))
                if lexicon is not None and key[0] in previous._complete:
                    text = (key[0], key[1].decode("utf-8"))
                    lexicon[text] = lexicon.get(text, 0) + info.doc_frequency()
        if lexicon is not None and len(lexicon) < CACHE_TERM_STATS:
            self._lexicon, self._complete = lexicon, previous._complete
        for fieldname, found in list(previous._lengths.items()):
            self._lengths[fieldname] = np.concatenate([found[:end], _field_lengths(later, fieldname)]) if later else found[:end]
        for (fieldname, tbytes), found in kept_postings:
            kept = int(np.searchsorted(found.docs, end))
            docs, weights = found.docs[:kept], found.weights[:kept]
            alive = self.live[docs]
            if not alive.all():
                docs, weights = docs[alive], weights[alive]
            infos = where.get((fieldname, tbytes))
            if infos:
                added = _read_postings(reader, fieldname, tbytes, self.live, infos)
                docs, weights = np.concatenate([docs, added.docs.astype(docs.dtype)]), np.concatenate([weights, added.weights])
            self._postings.put((fieldname, tbytes), TermPostings(docs, weights))
            if pause is not None:
                pause()
        for (fieldname, tbytes), found in kept_positions:
            infos = where.get((fieldname, tbytes))
            added = _decode_positions(reader, fieldname, tbytes, infos, None) if infos else None
            self._positions.put((fieldname, tbytes), found.below(end).followed_by(added))
            if pause is not None:
                pause()
        return True


def _field_lengths(leaves, fieldname: str) -> np.ndarray:
    parts = []
    for sub, _ in leaves:
        count = sub.doc_count_all()
        known = internals.field_lengths(sub, fieldname)
        parts.append(np.array([known[d] for d in range(count)] if known is not None else [0] * count, dtype=np.float64))
    found = np.concatenate(parts) if parts else np.zeros(0)
    found[found == 0] = 1  # Whoosh asks doc_field_length(..., default=1)
    return found


def _read_postings(reader, fieldname: str, tbytes: bytes, live: np.ndarray, infos=None) -> TermPostings:
    docs: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for offset, matcher in _leaf_postings(reader, fieldname, tbytes, infos):
        if isinstance(matcher, W3LeafMatcher):
            for ids, block_weights, _ in _blocks_with(matcher, None):
                docs.append(ids + offset)
                # Whoosh stores a block of equal weights as one float, of 1.0 as None.
                if block_weights is None or isinstance(block_weights, float):
                    weights.append(np.full(len(ids), 1.0 if block_weights is None else block_weights))
                else:
                    weights.append(np.asarray(block_weights, dtype=np.float64))
        else:
            ids, ws = [], []
            while matcher.is_active():
                ids.append(matcher.id() + offset)
                ws.append(matcher.weight())
                matcher.next()
            docs.append(np.asarray(ids, dtype=np.int64))
            weights.append(np.asarray(ws, dtype=np.float64))
    doc_array = (np.concatenate(docs) if docs else np.zeros(0)).astype(np.int32 if live.size < 2**31 else np.int64)
    weight_array = np.concatenate(weights) if weights else np.zeros(0)
    keep = live[doc_array]
    if not keep.all():
        doc_array, weight_array = doc_array[keep], weight_array[keep]
    return TermPostings(doc_array, weight_array)


def _leaf_postings(reader, fieldname: str, tbytes: bytes, infos=None):
    """``(document offset, raw posting matcher)`` of the term in each segment that has it
    (deleted documents included: callers filter them). ``infos``: the term's
    ``[(segment number, term info)]`` if known (:meth:`Generation.term_infos`)."""
    format_ = reader.schema[fieldname].format
    leaves = reader.leaf_readers()
    if infos is None:
        infos = _term_infos(leaves, fieldname, tbytes)
    for number, info in infos:
        sub, offset = leaves[number]
        yield offset, internals.postings_reader(sub, fieldname, tbytes, info, format_)


def _term_infos(leaves, fieldname: str, tbytes: bytes) -> list:
    if not leaves or fieldname not in leaves[0][0].schema:
        return []
    found = ((n, internals.term_info(sub, fieldname, tbytes)) for n, (sub, _) in enumerate(leaves))
    return [(n, info) for n, info in found if info is not None]


@dataclass(frozen=True)
class TermPositions:
    """A term's positions in some documents: ``docs`` ascending (global numbers), and for
    ``docs[i]`` the positions ``positions[starts[i] : starts[i] + lengths[i]]``."""

    docs: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    positions: np.ndarray

    def of(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(documents, positions)``, one entry per position, of the ``wanted`` documents
        (ascending) that hold the term."""
        if not len(self.docs) or not len(wanted):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.docs, wanted), len(self.docs) - 1)
        chosen = at[self.docs[at] == wanted]
        lengths = self.lengths[chosen]
        # Indices of the chosen documents' positions, range after range.
        before = np.cumsum(lengths) - lengths
        gather = np.arange(int(lengths.sum())) - np.repeat(before - self.starts[chosen], lengths)
        return np.repeat(self.docs[chosen], lengths), self.positions[gather].astype(np.int64)

    @property
    def size(self) -> int:
        return len(self.positions) + len(self.docs)

    def below(self, end: int) -> "TermPositions":
        """Those of documents numbered below ``end``."""
        kept = int(np.searchsorted(self.docs, end))
        if kept == len(self.docs):
            return self
        cut = int(self.starts[kept]) if kept else 0
        return TermPositions(self.docs[:kept], self.starts[:kept], self.lengths[:kept], self.positions[:cut])

    def followed_by(self, more: "TermPositions | None") -> "TermPositions":
        """These, then ``more`` (documents numbered above these)."""
        if more is None or not len(more.docs):
            return self
        return TermPositions(
            np.concatenate([self.docs, more.docs]),
            np.concatenate([self.starts, more.starts + len(self.positions)]).astype(np.int32),
            np.concatenate([self.lengths, more.lengths]),
            np.concatenate([self.positions, more.positions]),
        )


def _decode_positions(reader, fieldname: str, tbytes: bytes, infos, wanted: np.ndarray | None) -> TermPositions:
    """The term's positions in the ``wanted`` documents (global numbers, ascending), or in
    all its documents (``None``). Only blocks whose document range holds a wanted
    document are decompressed (a block's header gives its last document); a block's
    position lists are decoded in one pass (:func:`_varint_lists`)."""
    docs: list[int] = []
    values_found: list[bytes] = []
    for offset, matcher in _leaf_postings(reader, fieldname, tbytes, infos):
        if isinstance(matcher, ListMatcher):  # a term inlined in the term index
            ids, values = internals.inlined_postings(matcher)
            blocks = [(np.asarray(ids, dtype=np.int64), None, values)]
        elif isinstance(matcher, W3LeafMatcher):
            blocks = _blocks_with(matcher, None if wanted is None else wanted - offset)
        else:
            raise Unsupported("postings not in Whoosh 3 blocks")
        for ids, _, values in blocks:
            if wanted is None:
                found = np.arange(len(ids))
            else:
                local = wanted[(wanted >= offset + ids[0]) & (wanted <= offset + ids[-1])] - offset
                at = np.searchsorted(ids, local)
                found = at[ids[at] == local]
            if len(found):
                docs.extend((ids[found] + offset).tolist())
                values_found.extend([values[i] for i in found.tolist()])
    lengths, deltas = _varint_lists(values_found)
    starts = np.cumsum(lengths) - lengths
    # Positions are stored as deltas per document: a running sum restarted at each document.
    running = np.cumsum(deltas)
    keep = lengths > 0
    base = np.zeros(len(values_found), dtype=np.int64)
    base[keep] = running[starts[keep]] - deltas[starts[keep]]
    positions = (running - np.repeat(base, lengths)).astype(np.int32)
    return TermPositions(np.asarray(docs, dtype=np.int64), starts.astype(np.int32), lengths.astype(np.int32), positions)


def _blocks_with(matcher: W3LeafMatcher, wanted: np.ndarray | None):
    """``(document numbers, weights, values)`` of each block of ``matcher`` (segment-local
    numbers; weights and values as the block stores them) whose range holds one of the
    ``wanted`` local numbers (ascending; ``None``: every block); the others are skipped
    unread."""
    previous = -1  # the last document of the previous block
    for last, read in internals.blocks(matcher):
        first = 0 if wanted is None else int(np.searchsorted(wanted, previous, side="right"))
        if wanted is None or (first < len(wanted) and wanted[first] <= last):
            deltas, weights, values = read()
            yield np.cumsum(np.asarray(deltas, dtype=np.int64)), weights, values
        previous = last


def _positional(schema, fieldname: str) -> bool:
    """Whether the field's postings hold positions this module decodes (:class:`VarintPositions`)."""
    return fieldname in schema and type(schema[fieldname].format) is VarintPositions


def _varint_lists(values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, deltas)`` of several :class:`VarintPositions` values: how many positions
    each holds, and all their position deltas one after the other (int64 arrays)."""
    sizes = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    data = np.frombuffer(b"".join(values), dtype=np.uint8)
    last = data < 0x80  # the last byte of each varint
    if last.all():  # every delta below 128: one byte each
        return sizes, data.astype(np.int64)
    ends = np.flatnonzero(last)
    firsts = np.empty_like(ends)
    firsts[0] = 0
    firsts[1:] = ends[:-1] + 1
    shifts = 7 * (np.arange(len(data)) - np.repeat(firsts, ends - firsts + 1))
    deltas = np.add.reduceat((data & 0x7F).astype(np.int64) << shifts, firsts)
    seen = np.concatenate(([0], np.cumsum(last)))  # varints ended before each byte
    bounds = np.cumsum(sizes)
    return seen[bounds] - seen[bounds - sizes], deltas


class Ranker:
    """Evaluate queries against one searcher: boolean masks and BM25F scores over all documents."""

    def __init__(self, searcher, generation: Generation) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.gen = generation
        self.count = generation.count
        weighting = searcher.weighting
        self._bm25 = type(weighting) is EngineBM25F  # a subclass may score otherwise
        if self._bm25:
            self._b, self._field_b, self._k1 = internals.bm25f_parameters(weighting)
        self._memo: dict[tuple, tuple[np.ndarray, np.ndarray | None]] = {}
        self._keep: list[wq.Query] = []

    # --- matching ------------------------------------------------------------------------------

    def match(self, q: wq.Query | None) -> np.ndarray:
        """The live documents ``q`` matches, as a boolean array."""
        if q is None:
            return self._none()
        return self._eval(q, scored=False)[0]

    def scores(self, q: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """``(matches, scores)`` of ``q``; raises :class:`Unsupported` for shapes only Whoosh scores."""
        if not self._bm25:
            raise Unsupported("only BM25F is computed here")
        return self._eval(q, scored=True)

    def _none(self) -> np.ndarray:
        return np.zeros(self.count, dtype=bool)

    def _eval(self, q: wq.Query, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """``(mask, scores)`` of ``q``, each node once per search: the primary and fallback
        queries share their parts (a phrase bonus is in both). Callers must not modify the arrays."""
        if isinstance(q, wq.Term):
            # By value: a phrase's words are terms of their own (and often terms of the query too).
            key: tuple = (q.fieldname, q.text, q.boost)
        else:
            key = (id(q),)
        found = self._memo.get(key + (scored,))
        if found is None and not scored:
            found = self._memo.get(key + (True,))  # a scored evaluation has the mask too
        if found is None:
            found = self._memo[key + (scored,)] = self._evaluate(q, scored)
            self._keep.append(q)  # ids stay unique while the memo lives
        return found

    def _evaluate(self, q: wq.Query, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return self._none(), (np.zeros(self.count) if scored else None)
        if isinstance(q, wq.Term):
            return self._term(q.fieldname, q.text, q.boost, scored)
        if isinstance(q, WeightedSynonyms):
            return self._synonyms(q, scored)
        if isinstance(q, wq.AndNot):
            mask, scores = self._eval(q.a, scored)
            mask = mask & ~self._eval(q.b, False)[0]
            return mask, (scores * mask if scored else None)
        if isinstance(q, wq.AndMaybe):
            mask, scores = self._eval(q.a, scored)
            if not scored:
                return mask, None
            _, extra = self._eval(q.b, True)
            return mask, scores + extra * mask
        if isinstance(q, (wq.And, wq.Or, wq.DisjunctionMax)):
            return self._compound(q, scored)
        if isinstance(q, wq.Every) and (not scored or q.fieldname is None):
            # Whoosh scores every live document with the query's boost (``*``, filter-only searches).
            return self.gen.live, (self.gen.live * float(q.boost) if scored else None)
        if isinstance(q, wq.Not) and not scored:
            return self.gen.live & ~self._eval(q.query, False)[0], None
        if isinstance(q, wq.Phrase):
            if q.slop == 1 and len(q.words) > 1 and self._positional(q.fieldname):
                return self._phrase(q, scored)
            words = [wq.Term(q.fieldname, word) for word in q.words]
            candidates = self._eval(wq.And(words), False)[0] if len(words) > 1 else None
            return self._whoosh(q, candidates, scored)
        if scored:
            raise Unsupported(type(q).__name__)
        return self._whoosh(q, None, False)

    def _compound(self, q, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        subs = q.subqueries
        if not subs:
            return self._none(), (np.zeros(self.count) if scored else None)
        if len(subs) == 1:  # Whoosh ignores a one-child compound's own boost
            return self._eval(subs[0], scored)
        if isinstance(q, wq.Or) and (q.minmatch or q.scale):
            raise Unsupported("Or with minmatch/scale")
        if isinstance(q, wq.DisjunctionMax) and q.tiebreak:
            raise Unsupported("DisjunctionMax with a tiebreak")
        parts = [self._eval(sub, scored) for sub in subs]
        if isinstance(q, wq.And):
            mask = parts[0][0].copy()
            for part_mask, _ in parts[1:]:
                mask &= part_mask
        else:
            mask = parts[0][0].copy()
            for part_mask, _ in parts[1:]:
                mask |= part_mask
        if not scored:
            return mask, None
        if isinstance(q, wq.DisjunctionMax) or isinstance(q, SynonymSet):
            scores = parts[0][1].copy()
            for _, part in parts[1:]:
                np.maximum(scores, part, out=scores)
        else:
            scores = parts[0][1].copy()
            for _, part in parts[1:]:
                scores += part
        if isinstance(q, wq.And):
            scores *= mask  # a copy already; np.where(mask, scores, 0.0) is ten times slower
        if q.boost != 1.0:
            scores *= q.boost  # a copy
        return mask, scores

    def _postings(self, fieldname: str, text) -> TermPostings | None:
        schema = self.reader.schema
        if fieldname not in schema:
            return None
        if not self.gen.doc_frequency(self.reader, fieldname, text):
            return None
        tbytes = schema[fieldname].to_bytes(text)
        return self.gen.postings(self.reader, fieldname, tbytes)

    def _term(self, fieldname: str, text, boost: float, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        mask = self._none()
        found = self._postings(fieldname, text)
        if found is not None:
            mask[found.docs] = True
        if not scored:
            return mask, None
        scores = np.zeros(self.count)
        if found is None or not len(found.docs):
            return mask, scores
        if not self.reader.schema[fieldname].scorable:
            raise Unsupported("unscorable field")
        s = self.searcher
        idf = self._idf(fieldname, text)
        avgfl = s.avg_field_length(fieldname) or 1
        b = self._field_b.get(fieldname, self._b)
        k1 = self._k1
        tf = found.weights
        fl = self.gen.lengths(self.reader, fieldname)[found.docs]
        values = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))
        if boost != 1.0:
            values = values * boost
        scores[found.docs] = values
        return mask, scores

    def _idf(self, fieldname: str, text) -> float:
        """The weighting's IDF (:func:`~search.backends.whoosh.weighting.idf`) from the generation's
        remembered document frequencies: asking the reader probes every segment's term table, each time."""
        return idf(fieldname, self.count, self.gen.doc_frequency(self.reader, fieldname, text))

    def _synonyms(self, q: WeightedSynonyms, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """:class:`WeightedSynonyms` as its matcher scores it: BM25 of the weighted summed tf."""
        mask = self._none()
        tf = np.zeros(self.count)
        for text, weight in q.terms_weights:
            found = self._postings(q.fieldname, text)
            if found is None:
                continue
            mask[found.docs] = True
            if scored:
                tf[found.docs] += found.weights * weight
        if not scored:
            return mask, None
        scores = np.zeros(self.count)
        if not mask.any():
            return mask, scores
        parent = self.searcher.get_parent()
        total = sum(w for _, w in q.terms_weights) or 1.0
        df = sum(weight / total * self.gen.doc_frequency(self.reader, q.fieldname, text) for text, weight in q.terms_weights)
        weight = idf(q.fieldname, parent.doc_count_all(), df)
        avgfl = parent.avg_field_length(q.fieldname) or 1
        b = self._field_b.get(q.fieldname, self._b)
        k1 = self._k1
        docs = np.flatnonzero(mask)
        t = tf[docs]
        fl = self.gen.lengths(self.reader, q.fieldname)[docs]
        scores[docs] = q.boost * weight * (t * (k1 + 1)) / (t + k1 * ((1 - b) + b * fl / avgfl))
        return mask, scores

    def _positional(self, fieldname: str) -> bool:
        return _positional(self.reader.schema, fieldname)

    def _phrase(self, q: wq.Phrase, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """A phrase as Whoosh matches and scores it (``SpanNear2``, adjacent words in order): the
        documents where the words stand at consecutive positions, scored as the sum of the
        words' BM25 scores in that field, times the phrase's boost."""
        terms = [self._eval(wq.Term(q.fieldname, word), scored) for word in q.words]
        mask = terms[0][0].copy()
        for word_mask, _ in terms[1:]:
            mask &= word_mask
        key = (q.fieldname, tuple(q.words))
        found = self.gen.phrase_docs(key)
        if found is not None:
            mask[:] = False
            mask[found] = True
        else:
            known = self._holding_the_word(q, mask)
            candidates = np.flatnonzero(mask if known is None else mask & ~known)
            if len(candidates):
                # A document holds the phrase where word i stands at p + i for some p: shift
                # each word's positions back by i and intersect (document, position) keys.
                # Rarest word first, and each next word read only in the documents still in
                # the running: "compared with the same period of the previous year" narrows
                # thousands of candidates at its first two words.
                common = None
                order = sorted(range(len(q.words)), key=lambda i: int(np.count_nonzero(terms[i][0])))
                for i in order:
                    docs, positions = self._positions(q.fieldname, q.words[i], candidates)
                    keys = (docs << 32) | (positions - i)
                    keys = np.unique(keys[positions >= i])
                    common = keys if common is None else np.intersect1d(common, keys, assume_unique=True)
                    candidates = np.unique(common >> 32)
                    if not len(candidates):
                        break
            mask[:] = False if known is None else known
            mask[candidates] = True
            self.gen.remember_phrase(key, np.flatnonzero(mask))
        if not scored:
            return mask, None
        scores = terms[0][1].copy()
        for _, word_scores in terms[1:]:
            scores += word_scores
        scores *= mask
        if q.boost != 1.0:
            scores *= q.boost  # a copy
        return mask, scores

    def _holding_the_word(self, q: wq.Phrase, candidates: np.ndarray) -> np.ndarray | None:
        """For the bigrams of one string in a bigram field (自然 然灾 灾害), the candidates whose
        Chinese field has the string as a jieba word (自然灾害): both fields index the same
        simplified runs, so such a document holds the bigrams in a row and needs no position
        check. ``None`` for other phrases, or when no document has the word."""
        words = q.words
        word_field = _WORD_FIELD.get(q.fieldname)
        if word_field is None or not all(len(w) == 2 for w in words) or any(a[1] != b[0] for a, b in zip(words, words[1:])):
            return None
        string = words[0] + "".join(w[1] for w in words[1:])
        if not self.gen.doc_frequency(self.reader, word_field, string):
            return None
        return self._eval(wq.Term(word_field, string), False)[0] & candidates

    def _positions(self, fieldname: str, word: str, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(documents, positions)``: every position of ``word`` in each of the ``wanted``
        documents (global numbers, ascending) that holds it, one entry per position.

        A common word's positions are decoded once per generation and kept
        (:meth:`Generation.positions`); a rarer word's are decoded for the wanted
        documents only (:func:`_decode_positions`).
        """
        tbytes = self.reader.schema[fieldname].to_bytes(word)
        kept = self.gen.kept_positions(fieldname, tbytes)
        if kept is not None:
            return kept.of(wanted)
        infos = self.gen.term_infos(self.reader, fieldname, tbytes)
        df = self.gen.doc_frequency(self.reader, fieldname, word)
        # A common word's positions are decoded whole and kept from the second time a phrase
        # check asks (or when most of its documents are wanted): asked once, decoding only the
        # wanted documents costs a search a fraction of the whole (12 ms for a common word).
        if df >= CACHE_POSITIONS_MIN_DF and (len(wanted) * 4 >= df or self.gen.asked_before(fieldname, tbytes)):
            return self.gen.positions(self.reader, fieldname, tbytes, infos).of(wanted)
        return _decode_positions(self.reader, fieldname, tbytes, infos, wanted).of(wanted)

    def _whoosh(self, q: wq.Query, candidates: np.ndarray | None, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Ask Whoosh (phrases, ranges, anything else) within ``candidates``."""
        mask = self._none()
        scores = np.zeros(self.count) if scored else None
        if candidates is not None and not candidates.any():
            return mask, scores
        allowed = set(np.flatnonzero(candidates).tolist()) if candidates is not None else None
        results = self.searcher.search(q, limit=None, filter=allowed, scored=scored, terms=False)
        if scored:
            for docnum, score in ((hit.docnum, hit.score) for hit in results):
                mask[docnum] = True
                scores[docnum] = score
        else:
            docs = np.fromiter(results.docs(), dtype=np.int64)
            mask[docs] = True
        return mask, scores


def ranked(mask: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best matching documents and their scores, as arrays: score descending, then
    document number ascending (Whoosh's order)."""
    docs = np.flatnonzero(mask)
    if not len(docs) or k <= 0:
        return docs[:0], np.zeros(0)
    values = scores[docs]
    if len(docs) > 4 * k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= kth
        docs, values = docs[keep], values[keep]
    order = np.lexsort((docs, -values))[:k]
    return docs[order], values[order].astype(np.float64, copy=False)


def top(mask: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """:func:`ranked` as ``(docnum, score)`` pairs."""
    docs, values = ranked(mask, scores, k)
    return list(zip(docs.tolist(), values.tolist()))

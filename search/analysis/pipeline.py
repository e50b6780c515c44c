"""The one analysis pipeline, used for documents and queries alike.

``analyze(text)`` → tokens whose ``start``/``end`` index the original text and
whose ``term`` is the indexed form: simplified Chinese word, stemmed lowercase
English word, number, or lowercase word of another script.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Iterator

import numpy as np

from search.analysis.convert import to_simplified, to_simplified_lines
from search.analysis.english import STOPWORDS_EN, normalize_word, stem
from search.analysis.scripts import script_runs, script_texts, span_in_original
from search.analysis.segment import BY_END as _END, BY_START as _START, segment, segment_pieces
from search.analysis.tokens import Token

#: Bump on every change that alters the terms produced for some text; the index
#: stores it and refuses to open with a different value (re-index needed).
ANALYZER_VERSION = 1


def _load_zh_stopwords() -> frozenset[str]:
    path = Path(__file__).with_name("stopwords_zh.txt")
    words = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return frozenset(w for w in words if w)


STOPWORDS_ZH = _load_zh_stopwords()


def analyze(text: str, *, subwords: bool = True) -> Iterator[Token]:
    """Analyze mixed Chinese/English text.

    ``subwords=False`` keeps only the longest jieba words (used for query
    phrases, where the index's sub-words would be redundant).

    >>> [(t.term, t.start, t.end, t.pos) for t in analyze("中俄關係 cooperating")]
    [('中俄关系', 0, 4, 0), ('中俄', 0, 2, 0), ('关系', 2, 4, 0), ('cooper', 5, 16, 1)]
    """
    pos = -1
    for run in script_runs(text):
        kind = run.kind
        if kind == "han":
            words, count = han_run(run.text, keep=False)[1:]
            for word, s, e, k, first in words:
                if first:
                    base_end = e
                elif not subwords and e <= base_end:
                    continue
                start, end = span_in_original(run, s, e)
                yield Token(word, start, end, pos + k, "zh")
            pos += count
        elif kind == "latin":
            word = normalize_word(run.text)
            if not word or word in STOPWORDS_EN:
                continue
            pos += 1
            yield Token(stem(word), run.start, run.end, pos, "en")
        elif kind == "digit":
            pos += 1
            yield Token(run.text.replace("．", "."), run.start, run.end, pos, "num")
        else:
            pos += 1
            yield Token(run.text.lower(), run.start, run.end, pos, "other")


def document_positions(text: str) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """The terms of :func:`analyze` with their positions, and those of
    :func:`search.analysis.bigrams.bigrams`, each in order of first occurrence (no offsets, no
    tokens): :func:`document_words` and :func:`document_pairs` as dictionaries.

    >>> document_positions("中俄關係 cooperating")
    ({'中俄关系': [0], '中俄': [0], '关系': [0], 'cooper': [1]}, {'中俄': [0], '俄关': [1], '关系': [2]})
    """
    pairs: dict[str, list[int]] = {}
    codes, positions = document_pairs(text)
    for code, position in zip(codes.tolist(), positions.tolist()):
        pairs.setdefault(pair_text(code), []).append(position)
    return document_words(text), pairs


def _analyzed_runs(text: str) -> tuple[list[tuple[str, str]], dict]:
    """The script runs of ``text`` and the analysis of its Han runs (:func:`han_runs`). Indexing
    asks for a Chinese text's words and for its character pairs (two fields), one after the
    other: the last text's runs are kept, so the second asks for nothing."""
    last_text, last_answer = _last[0]  # one read: a tuple swapped whole, safe across threads
    if last_text is text or (last_text is not None and last_text == text):
        return last_answer
    runs = list(script_texts(text))
    han = [run for kind, run in runs if kind == "han"]
    answer = runs, han_runs(han)
    if han:  # a Chinese text (its pair field comes too), not an English one between the two
        _last[0] = (text, answer)
    return answer


_last: list = [(None, None)]  # (the last text of _analyzed_runs, its answer)


def document_words(text: str) -> dict[str, list[int]]:
    """The terms of :func:`analyze` with their positions, in order of first occurrence, in one
    pass over the script runs, the analysis of recurring runs reused (what indexing needs of a
    text's word field: no offsets, no tokens).

    >>> document_words("中俄關係 cooperating")
    {'中俄关系': [0], '中俄': [0], '关系': [0], 'cooper': [1]}
    """
    runs, fresh = _analyzed_runs(text)
    words: dict[str, list[int]] = {}
    pos = -1  # the words' positions
    for kind, run in runs:
        if kind == "han":
            _, found, count = fresh[run]
            for word, _start, _end, k, _first in found:
                held = words.get(word)
                if held is None:
                    words[word] = [pos + k]
                else:
                    held.append(pos + k)
            pos += count
            continue
        if kind == "latin":
            term = _latin_terms.get(run, "")
            if term == "":
                term = _latin_term(run)
            if term is None:
                continue
        elif kind == "digit":
            term = run.replace("．", ".")
        else:
            term = run.lower()
        pos += 1
        held = words.get(term)
        if held is None:
            words[term] = [pos]
        else:
            held.append(pos)
    return words


def document_pairs(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The character pairs of :func:`search.analysis.bigrams.bigrams` as numbers
    (:func:`pair_code`) and their positions, in text order: what indexing needs of a text's
    pair field. Computed with numpy over the text's simplified Han runs joined by NUL: the
    pairs across a NUL are dropped, and each run's pairs follow the last run's with a gap of
    one position (as between words of two runs). Grouping a Chinese story's pairs by
    character string in Python, then numbering them in the writer's dictionary of all
    pairs, took 1.1 s for 3,000 CCTV stories; these arrays, grouped once at commit, 0.25 s.

    >>> codes, positions = document_pairs("中俄關係")
    >>> [pair_text(code) for code in codes.tolist()], positions.tolist()
    (['中俄', '俄关', '关系'], [0, 1, 2])
    """
    runs, fresh = _analyzed_runs(text)
    joined = "\0".join([simplified for simplified, _, _ in (fresh[run] for kind, run in runs if kind == "han") if len(simplified) >= 2])
    if len(joined) < 2:
        return _NO_PAIRS
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    gaps = points == 0
    codes = (points[:-1] << 21) | points[1:]
    kept = ~(gaps[:-1] | gaps[1:])
    positions = np.arange(len(codes), dtype=np.int64) - np.cumsum(gaps[:-1])
    return codes[kept], positions[kept]


_NO_PAIRS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def pair_code(pair: str) -> int:
    """A pair of characters as one number, in the pairs' code point order (UTF-8's byte order):
    21 bits per character (``pair_code("中国") == (0x4E2D << 21) | 0x56FD``)."""
    return (ord(pair[0]) << 21) | ord(pair[1])


def pair_text(code: int) -> str:
    """The pair of characters :func:`pair_code` numbered."""
    return chr(code >> 21) + chr(code & 0x1FFFFF)


#: Runs indexed so far (Han: its simplified text and words; Latin: its stem), so that a run
#: met again (a name, a phrase, the same text in the bigram fields) is not converted and
#: segmented again; emptied when it reaches :data:`_CACHE_SIZE` runs (20,000 Han runs of news
#: text took 15 MB; 50,000 took 70 MB, for 14 % less analysis time than 20,000).
#: Only indexing fills it: a server's snippets read it but keep nothing.
_han_runs: dict[str, tuple[str, tuple[tuple[str, int, int, int, bool], ...], int]] = {}
_latin_terms: dict[str, str | None] = {}
_CACHE_SIZE = 20_000


def han_run(run: str, keep: bool = True) -> tuple[str, tuple[tuple[str, int, int, int, bool], ...], int]:
    """``(simplified, words, count)`` of a Han run (NFKC-folded): each indexed word as ``(word,
    start, end, position, first)``, its position counted from the run's first (1) and ``first``
    when it is the first word at that position (sub-words follow their word), and how many
    positions the run takes (stopwords skipped, sub-words at their word's position); ``keep``:
    cache it."""
    found = _han_runs.get(run)
    if found is not None:
        return found
    simplified = to_simplified(run)
    found = _run_words(simplified, list(segment(simplified)))
    if keep:
        _keep(run, found)
    return found


def han_runs(runs: list[str]) -> dict[str, tuple[str, tuple[tuple[str, int, int, int, bool], ...], int]]:
    """:func:`han_run` of each of a document's Han runs (cached), those not cached analyzed
    together: converted in one call of OpenCC and segmented in one call of jieba, the runs a
    line apart (neither joins words across a line break: the same words as one run at a time),
    their words sorted and numbered in one pass. A news story has about fifty runs (clauses):
    run by run, the 143,000 runs of 3,000 CCTV stories took 0.89 s to analyze, together 0.58 s."""
    out = {}
    new = []
    for run in runs:
        found = _han_runs.get(run)
        if found is not None:
            out[run] = found
        elif run not in out:
            out[run] = None
            new.append(run)
    if len(new) < 2:
        for run in new:
            out[run] = han_run(run)
        return out
    converted = to_simplified_lines(new)
    starts = list(accumulate((len(simplified) + 1 for simplified in converted), initial=0))  # then past the end
    pieces = segment_pieces("\n".join(converted))
    # segment()'s order and word numbers over the whole text, written out here (through segment()'s
    # generator and _run_words, the document's runs took a fifth longer): the runs do not overlap,
    # so the numbers are each run's.
    pieces.sort(key=_END, reverse=True)
    pieces.sort(key=_START)
    per_run: list[list[tuple[str, int, int, int, bool]]] = [[] for _ in new]
    counts = [0] * len(new)
    which = 0
    following = starts[1]  # where the next run starts
    words, base, count, last_index = per_run[0], 0, 0, None
    index = -1
    cover_end = 0
    for word, start, end in pieces:
        if end >= following:
            if end == following:  # jieba's own piece for the line break after the run
                continue
            counts[which] = count
            while start >= starts[which + 1]:  # a later run (a run without words keeps none)
                which += 1
            words, base, following, count, last_index = per_run[which], starts[which], starts[which + 1], 0, None
        # segment(): sub-words and crossing pieces keep the index of the word they sit in.
        if end > cover_end:
            if start >= cover_end:
                index += 1
                cover_end = end
        if word in STOPWORDS_ZH:
            continue
        if index != last_index:
            count += 1
            last_index = index
            words.append((word, start - base, end - base, count, True))
        else:
            words.append((word, start - base, end - base, count, False))
    counts[which] = count
    for run, simplified, words, count in zip(new, converted, per_run, counts):
        out[run] = analyzed = (simplified, tuple(words), count)
        _keep(run, analyzed)
    return out


def _run_words(simplified: str, segmented: list[tuple[str, int, int, int]]) -> tuple[str, tuple[tuple[str, int, int, int, bool], ...], int]:
    words = []
    count = 0
    last_index = None
    for word, start, end, index in segmented:
        if word in STOPWORDS_ZH:
            continue
        first = index != last_index
        if first:
            count += 1
            last_index = index
        words.append((word, start, end, count, first))
    return simplified, tuple(words), count


def _keep(run: str, found) -> None:
    if len(_han_runs) >= _CACHE_SIZE:
        _han_runs.clear()
    _han_runs[run] = found


def _latin_term(run: str) -> str | None:
    word = normalize_word(run)
    term = None if not word or word in STOPWORDS_EN else stem(word)
    if len(_latin_terms) >= _CACHE_SIZE:
        _latin_terms.clear()
    _latin_terms[run] = term
    return term


def query_terms(text: str) -> list[Token]:
    """Analyze query text: longest words only, positions renumbered from 0."""
    return list(_query_terms(text))


@lru_cache(maxsize=65_536)
def _query_terms(text: str) -> tuple[Token, ...]:
    # Planning analyzes the query's words and each of their translations and variants, the
    # same short strings query after query (tokens are immutable; callers get their own list).
    return tuple(analyze(text, subwords=False))

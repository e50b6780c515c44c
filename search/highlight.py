"""Snippets: find matched terms in the original text, cut fragments, render HTML.

Snippets are data first (:class:`Snippet`: a fragment and the ranges to mark,
in original characters); :func:`to_html` escapes everything and wraps only the
ranges in ``<mark>``.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterator

from search.analysis import analyze
from search.analysis.convert import to_simplified
from search.analysis.scripts import LATIN_LETTERS

_NEWLINES = re.compile(r"\s*\n\s*")
_SENTENCE_BREAK = re.compile(r"[。！？；!?;\n]+|\.\s+")
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]+")
_LATIN_WORD = re.compile(r"[a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f']+")
# Characters NFKC changes inside the analyzer's runs (compatibility ideographs, full- and
# half-width forms, ligatures, superscripts, ordinals, circled and squared letters): the
# analyzer folds them, a substring test on the raw text would miss them.
_COMPAT = re.compile(r"[\uf900-\ufaff\ufb00-\ufb4f\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff66-\uffdc\u00aa\u00b2\u00b3\u00b9\u00ba\u00bc-\u00be\u2070-\u209f\u2150-\u218f\u2460-\u24ff\u3200-\u33ff]")
_LATIN_LETTER = re.compile(f"[{LATIN_LETTERS}]")
_SENTENCE_END = re.compile(r"[。！？；!?;\n]|\.\s")


@dataclass(frozen=True)
class Snippet:
    text: str
    marks: list[tuple[int, int]]  # ranges within ``text``


def match_ranges(text: str, terms: set[str], phrases: list[list[str]] = (), strings: list[str] = ()) -> list[tuple[int, int]]:
    """Ranges of ``text`` matching a term, or a whole phrase, merged, in order.

    >>> match_ranges("中俄關係風雨兼程", {"关系"})
    [(2, 4)]
    >>> match_ranges("合作。上海合作組織", set(), [["上海", "合作", "组织"]])
    [(3, 9)]
    """
    if not (terms or phrases or strings) or not text:
        return []
    sentences = _Sentences(text, terms, phrases, strings)
    return _merged([r for i in range(len(sentences.spans)) for r in sentences.ranges(i)])


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


# What a script run can hold (letters, digits, and the apostrophes and dots that join words
# like "Putin's" or numbers like 5.93): see search.analysis.scripts. Anything else ends a run.
_IN_RUNS = re.compile(r"(?:[^\W_]|['’\uff07.\uff0e])+")


class _Sentences:
    """The sentences of ``text`` that may hold a match, analyzed when asked for.

    Analyzing a whole article for every hit was most of a search's snippet time.
    A sentence can only match if its simplified, lowercased text contains a
    Chinese term, or the start of an English stem (Snowball changes at most the
    last two letters, "policy" → "polici", except a few short irregular words
    whose prefix is then one letter). Sentences end at punctuation, which also
    ends jieba's runs, so a sentence's tokens are the whole text's tokens, and no
    phrase joins two sentences. Texts this shortcut cannot read exactly (numbers
    or other scripts among the terms, compatibility characters NFKC would change)
    are one "sentence", the whole text.

    ``spans[i]`` is a candidate sentence, ``promise[i]`` how many distinct search
    words and how many occurrences its text holds (an upper bound of what
    analysis confirms): :func:`snippets` analyzes the most promising first.
    """

    def __init__(self, text: str, terms: set[str], phrases: list[list[str]], strings: list[str] = ()) -> None:
        self.text, self.terms, self.phrases = text, terms, phrases
        self.strings = [w for w in strings if _HAN_WORD.fullmatch(w)]
        self._ranges: dict[int, list[tuple[int, int]]] = {}
        self._needles: tuple[str, ...] | None = None
        self._whole: list[bool] = [True]  # per candidate: analyze all of it (a phrase may be there)
        words = set(terms) | set(self.strings)
        for phrase in phrases:
            words.update(phrase)
        needle = {w: w for w in words if _HAN_WORD.fullmatch(w)}
        needle.update((w, w[: max(1, len(w) - 2)]) for w in words if _LATIN_WORD.fullmatch(w))
        folded = None
        if len(needle) == len(words) and not _COMPAT.search(text):
            folded = to_simplified(text).lower().replace("’", "'")
        if folded is None or len(folded) != len(text):
            self.spans, self.promise = [(0, len(text))], [(len(words), len(words))]
            return
        needles = tuple(set(needle.values()))
        phrase_needles = [[needle[w] for w in phrase] for phrase in phrases]
        self._needles, self._folded = needles, folded
        # An English stem starts where its word does: an occurrence after a letter is inside
        # another word ("eas" in "increase") and is not read (short stems are everywhere).
        self._word_start = frozenset(needle[w] for w in words if _LATIN_WORD.fullmatch(w))
        self._reversed: str | None = None
        self.spans, self.promise, self._whole = [], [], []
        ends = [m.end() for m in _SENTENCE_BREAK.finditer(text)]
        # Occurrences of each needle, by sentence (needles hold no sentence-ending punctuation).
        counts: dict[int, dict[str, int]] = {}
        for n in needles:
            for at in self._occurrences(n, 0, len(folded)):
                per = counts.setdefault(bisect_right(ends, at), {})
                per[n] = per.get(n, 0) + 1
        for k in sorted(counts):
            found = counts[k]
            self.spans.append((ends[k - 1] if k else 0, ends[k] if k < len(ends) else len(text)))
            self.promise.append((len(found), sum(found.values())))
            # A phrase needs all its words in one sentence; elsewhere positions do not
            # matter and only the stretches around a needle are analyzed.
            self._whole.append(any(all(n in found for n in p) for p in phrase_needles))

    def ranges(self, i: int) -> list[tuple[int, int]]:
        """The matched ranges of candidate sentence ``i`` (whole-text offsets)."""
        found = self._ranges.get(i)
        if found is None:
            start, end = self.spans[i]
            if self._whole[i] or self._needles is None:
                tokens = list(analyze(self.text[start:end]))
                found = [(tok.start + start, tok.end + start) for tok in tokens if tok.term in self.terms]
                if self.phrases:
                    found += [(a + start, b + start) for a, b in _phrase_spans(tokens, self.phrases)]
            else:
                found = []
                for a, b in self._around_needles(start, end):
                    found += [(tok.start + a, tok.end + a) for tok in analyze(self.text[a:b]) if tok.term in self.terms]
            found += self._strings_in(start, end)
            self._ranges[i] = found
        return found

    def _strings_in(self, start: int, end: int) -> list[tuple[int, int]]:
        """Where the strings stand in ``text[start:end]``: simplified text has the original's
        offsets (OpenCC's t2s keeps lengths; texts where it does not are not searched here)."""
        if not self.strings:
            return []
        folded = self._folded if self._needles is not None else to_simplified(self.text)
        if len(folded) != len(self.text):
            return []
        found = []
        for needle in self.strings:
            at = folded.find(needle, start, end)
            while at >= 0:
                found.append((at, at + len(needle)))
                at = folded.find(needle, at + 1, end)
        return found

    def _around_needles(self, start: int, end: int) -> list[tuple[int, int]]:
        """Stretches of ``text[start:end]`` around each needle, widened to characters no
        script run can hold (spaces, punctuation other than the apostrophes and dots that
        join words or numbers): they hold whole runs, so their tokens are the sentence's."""
        text, folded = self.text, self._folded
        if self._reversed is None:
            self._reversed = text[::-1]
        stretches: list[tuple[int, int]] = []
        for needle in self._needles:
            if needle in self.strings:
                continue  # marked wherever it stands (_strings_in): analysis could add nothing
            for at in self._occurrences(needle, start, end):
                a, b = at, at + len(needle)
                left = _IN_RUNS.match(self._reversed, len(text) - a)
                if left:
                    a = max(start, a - (left.end() - left.start()))
                right = _IN_RUNS.match(text, b)
                if right:
                    b = min(end, right.end())
                stretches.append((a, b))
        return _merged(stretches)

    def _occurrences(self, needle: str, start: int, end: int) -> Iterator[int]:
        """Where ``needle`` stands in the folded ``text[start:end]``, not overlapping; an
        English one only where a word starts (no Latin letter before it)."""
        folded = self._folded
        at = folded.find(needle, start, end)
        if needle in self._word_start:
            while at >= 0:
                if not (at and _LATIN_LETTER.match(folded, at - 1)):
                    yield at
                at = folded.find(needle, at + 1, end)
            return
        while at >= 0:
            yield at
            at = folded.find(needle, at + len(needle), end)

    def overlapping(self, start: int, end: int) -> list[int]:
        """Candidate sentences that share characters with ``text[start:end]``."""
        return [i for i, (a, b) in enumerate(self.spans) if a < end and b > start]


def _phrase_spans(tokens: list, phrases: list[list[str]]) -> list[tuple[int, int]]:
    by_pos: dict[int, list] = {}
    for tok in tokens:
        by_pos.setdefault(tok.pos, []).append(tok)
    spans = []
    for phrase in phrases:
        for pos, group in by_pos.items():
            first = next((t for t in group if t.term == phrase[0]), None)
            if first is None:
                continue
            last = first
            for i, word in enumerate(phrase[1:], start=1):
                last = next((t for t in by_pos.get(pos + i, ()) if t.term == word), None)
                if last is None:
                    break
            if last is not None:
                spans.append((first.start, last.end))
    return spans


def snippets(
    text: str,
    terms: set[str],
    phrases: list[list[str]] = (),
    *,
    width: int = 120,
    count: int = 3,
    strings: list[str] = (),
) -> list[Snippet]:
    """Up to ``count`` fragments of about ``width`` characters around the matches.

    ``strings`` are Chinese strings (simplified) marked wherever they stand, inside words
    too (近平 in 習近平): the query's strings the index found as bigrams.

    Fragments are chosen by how many distinct matched words they hold, then
    shown in document order. Without any match, the lead of the text is
    returned unmarked (so the reader still sees that language's text).
    """
    if not text:
        return []
    sentences = _Sentences(text, terms, phrases, strings) if terms or phrases or strings else None
    ranges = _promising_ranges(sentences, count) if sentences else []
    if not ranges:
        fragment, offset = _cut(text, 0, width)
        return [_framed(text, fragment, offset, [])] if fragment else []
    windows = []
    i = 0
    while i < len(ranges):
        start = _window_start(text, ranges[i][0], width)
        end = min(len(text), start + width)
        inside = [r for r in ranges if r[0] >= start and r[1] <= end]
        distinct = {text[a:b] for a, b in inside}
        windows.append((len(distinct), len(inside), start, end, inside))
        # Next window starts after this one's last match.
        while i < len(ranges) and ranges[i][1] <= end:
            i += 1
        if inside == []:
            i += 1
    best = sorted(windows, key=lambda w: (-w[0], -w[1], w[2]))[:count]
    out = []
    for _, _, start, end, _ in sorted(best, key=lambda w: w[2]):
        # Every match the fragment shows is marked: analyze the neighbours not yet read.
        around = _merged([r for i in sentences.overlapping(start, end) for r in sentences.ranges(i)])
        fragment, offset = _cut(text, start, end - start)
        marks = [(a - offset, b - offset) for a, b in around if a >= offset and b <= offset + len(fragment)]
        out.append(_framed(text, fragment, offset, marks))
    return out


#: Sentences with a confirmed match :func:`snippets` reads before choosing fragments,
#: beyond the ``count`` it shows: the rest of a long article is not analyzed.
_SPARE_SENTENCES = 1


def _promising_ranges(sentences: _Sentences, count: int) -> list[tuple[int, int]]:
    """Matches of the most promising sentences (most distinct words, then occurrences, then
    earliest) until ``count`` + a few of them have confirmed a match."""
    order = sorted(range(len(sentences.spans)), key=lambda i: (-sentences.promise[i][0], -sentences.promise[i][1], i))
    found: list[tuple[int, int]] = []
    confirmed = 0
    for i in order:
        ranges = sentences.ranges(i)
        if ranges:
            found += ranges
            confirmed += 1
            if confirmed >= count + _SPARE_SENTENCES:
                break
    return _merged(found)


def _framed(text: str, fragment: str, offset: int, marks: list[tuple[int, int]]) -> Snippet:
    """Add an ellipsis on each side where the fragment does not reach the end of the text."""
    before = "…" if text[:offset].strip() else ""
    after = "…" if text[offset + len(fragment) :].strip() else ""
    shift = len(before)
    return Snippet(before + fragment + after, [(a + shift, b + shift) for a, b in marks])


def _window_start(text: str, match_start: int, width: int) -> int:
    """Start a fragment at a sentence boundary shortly before the match, if one is near."""
    earliest = max(0, match_start - width // 3)
    boundary = None
    for m in _SENTENCE_END.finditer(text, earliest, match_start):
        boundary = m.end()
    if boundary is not None:
        return boundary
    if earliest > 0:
        space = text.rfind(" ", earliest, match_start)
        if space > earliest:
            return space + 1
    return earliest


def _cut(text: str, start: int, width: int) -> tuple[str, int]:
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start + width // 2, end)
        if space > 0 and text[start:end].isascii():
            end = space
    fragment = text[start:end]
    stripped = fragment.lstrip()
    offset = start + (len(fragment) - len(stripped))
    return stripped.rstrip(), offset


def to_html(snippet: Snippet) -> str:
    """Escape the fragment and wrap marked ranges in ``<mark>``.

    >>> to_html(Snippet("a<b> 習近平", [(5, 8)]))
    'a&lt;b&gt; <mark>習近平</mark>'
    """
    parts = []
    last = 0
    for start, end in snippet.marks:
        parts.append(_escape(snippet.text[last:start]))
        parts.append("<mark>" + _escape(snippet.text[start:end]) + "</mark>")
        last = end
    parts.append(_escape(snippet.text[last:]))
    return "".join(parts)


def _escape(text: str) -> str:
    # Newlines inside a fragment read as paragraph breaks; in one line a space says as much.
    return html.escape(_NEWLINES.sub(" ", text), quote=True)

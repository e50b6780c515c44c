"""Snippets: find matched terms in the original text, cut fragments, render HTML.

Snippets are data first (:class:`Snippet`: a fragment and the ranges to mark,
in original characters); :func:`to_html` escapes everything and wraps only the
ranges in ``<mark>``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from search.analysis import Token, analyze
from search.analysis.convert import to_simplified

_NEWLINES = re.compile(r"\s*\n\s*")
_SENTENCE_BREAK = re.compile(r"[。！？；!?;\n]+|\.\s+")
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]+")
_LATIN_WORD = re.compile(r"[a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f']+")
# Characters NFKC changes inside the analyzer's runs (compatibility ideographs, full- and
# half-width forms, ligatures, superscripts, ordinals, circled and squared letters): the
# analyzer folds them, a substring test on the raw text would miss them.
_COMPAT = re.compile(r"[\uf900-\ufaff\ufb00-\ufb4f\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff66-\uffdc\u00aa\u00b2\u00b3\u00b9\u00ba\u00bc-\u00be\u2070-\u209f\u2150-\u218f\u2460-\u24ff\u3200-\u33ff]")
_POSITION_GAP = 1_000_000
_SENTENCE_END = re.compile(r"[。！？；!?;\n]|\.\s")


@dataclass(frozen=True)
class Snippet:
    text: str
    marks: list[tuple[int, int]]  # ranges within ``text``


def match_ranges(text: str, terms: set[str], phrases: list[list[str]] = ()) -> list[tuple[int, int]]:
    """Ranges of ``text`` matching a term, or a whole phrase, merged, in order.

    >>> match_ranges("中俄關係風雨兼程", {"关系"})
    [(2, 4)]
    >>> match_ranges("合作。上海合作組織", set(), [["上海", "合作", "组织"]])
    [(3, 9)]
    """
    if not (terms or phrases) or not text:
        return []
    tokens = _tokens_near(text, terms, phrases)
    spans = [(tok.start, tok.end) for tok in tokens if tok.term in terms]
    if phrases:
        spans += _phrase_spans(tokens, phrases)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _tokens_near(text: str, terms: set[str], phrases: list[list[str]]) -> list[Token]:
    """The analyzed tokens of the sentences of ``text`` that may hold a match.

    Analyzing a whole article for every hit was most of a search's snippet time.
    A sentence can only match if its simplified, lowercased text contains a
    Chinese term, or the start of an English stem (Snowball changes at most the
    last two letters, "policy" → "polici", except a few short irregular words
    whose prefix is then one letter). Sentences end at punctuation, which also
    ends jieba's runs, so a sentence's tokens are the whole text's tokens; each
    sentence's positions start far from the others' so no phrase joins two.
    Texts this shortcut cannot read exactly (numbers or other scripts among the
    terms, compatibility characters NFKC would change) are analyzed whole.
    """
    words = set(terms)
    for phrase in phrases:
        words.update(phrase)
    han = [w for w in words if _HAN_WORD.fullmatch(w)]
    latin = [w[: max(1, len(w) - 2)] for w in words if _LATIN_WORD.fullmatch(w)]
    if len(han) + len(latin) != len(words) or _COMPAT.search(text):
        return list(analyze(text))
    folded = to_simplified(text).lower().replace("’", "'")
    if len(folded) != len(text):
        return list(analyze(text))
    needles = han + latin
    tokens: list[Token] = []
    start = 0
    for number, boundary in enumerate([*_SENTENCE_BREAK.finditer(text), None]):
        end = boundary.end() if boundary is not None else len(text)
        if any(needle in folded[start:end] for needle in needles):
            base = number * _POSITION_GAP
            for tok in analyze(text[start:end]):
                tokens.append(Token(tok.term, tok.start + start, tok.end + start, tok.pos + base, tok.lang))
        start = end
    return tokens


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
) -> list[Snippet]:
    """Up to ``count`` fragments of about ``width`` characters around the matches.

    Fragments are chosen by how many distinct matched words they hold, then
    shown in document order. Without any match, the lead of the text is
    returned unmarked (so the reader still sees that language's text).
    """
    ranges = match_ranges(text, terms, phrases)
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
    for _, _, start, end, inside in sorted(best, key=lambda w: w[2]):
        fragment, offset = _cut(text, start, end - start)
        marks = [(a - offset, b - offset) for a, b in inside if a >= offset and b <= offset + len(fragment)]
        out.append(_framed(text, fragment, offset, marks))
    return out


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

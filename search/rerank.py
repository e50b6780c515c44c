"""The first hits of a Chinese query, re-ordered by the longest stretch of it each one holds.

A long Chinese query (a question, a sentence pasted from an article) is matched word by word
and pair by pair, which scores an article holding its words scattered as high as one holding
a long stretch of it verbatim. The first :data:`DEPTH` hits of each tier (complete matches,
then partial ones) are re-ordered by their score (relative to the tier's best) plus
:data:`WEIGHT` times the longest stretch of the query they hold (relative to the longest any
of them holds), both read in simplified script with punctuation and spaces left out.

Measured on the QA sets (MRR@10, ``python -m bench.quality``; README "Evaluation"): DRCD dev
0.9667 → 0.9681, CMRC 2018 dev 0.9853 → 0.9861, trial 0.9817 → 0.9835. Weights 0.2–0.5 all
gained on the three sets in an offline run over the engine's top 10; 0.6 lost on DRCD.

>>> longest_common("瑞士近卫队的制服", "瑞士近卫队于1506年建立，其制服")
5
"""

from __future__ import annotations

import dataclasses

from search.analysis.convert import to_simplified
from search.analysis.scripts import script_texts
from search.backends.base import StoredHit
from search.query.parse import Node, Not, Or, Phrase, Word

#: How many hits of each tier are re-ordered (one page: deeper pages keep the backend's order).
DEPTH = 10
#: The weight of the longest held stretch beside the score (both scaled to the tier's best).
WEIGHT = 0.4
#: Queries whose Chinese strings are all shorter than this are left alone (every hit of a
#: two-character query holds all of it).
MIN_CHARS = 3


def _compact(text: str) -> str:
    """The Han, Latin and digit runs of ``text`` as the analysis reads them (width-folded:
    １９９０ is 1990), joined, in simplified script and lower case."""
    return to_simplified("".join(run for kind, run in script_texts(text) if kind != "other")).lower()


def _kinds(text: str) -> set[str]:
    """The scripts ``text`` is written in (:func:`search.analysis.scripts.script_texts`' kinds)."""
    return {kind for kind, _ in script_texts(text)}


def longest_common(query: str, text: str) -> int:
    """The length of the longest substring of ``query`` found in ``text``. Each start of the
    query is tried only for a stretch longer than the best so far: ``len(query) + best``
    substring searches in all."""
    best = 0
    for i in range(len(query)):
        while i + best < len(query) and query[i : i + best + 1] in text:
            best += 1
    return best


def typed_stretches(node: Node | None) -> list[str]:
    """The stretches of Chinese the user typed, compacted: neighbouring words of a query read
    together (``希臘語、拉丁語與梵語`` is one stretch, as an article writes it), alternatives
    (OR) apart, excluded words (NOT), words for one field and Latin words left out.

    >>> from search.query.parse import parse
    >>> typed_stretches(parse("誰認為希臘語、拉丁語與梵語 NOT 英語 OR 普京").node)
    ['谁认为希腊语拉丁语与梵语']
    """
    out: list[str] = []

    def walk(node: Node, current: list[str]) -> None:
        if isinstance(node, (Word, Phrase)):
            kinds = _kinds(node.text)
            if node.field is None and ("han" in kinds or "latin" not in kinds):
                current.append(node.text)
            else:  # a word for one field, or a Latin word (Chinese is not written across it)
                flush(current)
            return
        if isinstance(node, Not):
            flush(current)
            return
        if isinstance(node, Or):
            flush(current)
            for child in node.children:
                walk(child, current)
                flush(current)
            return
        for child in node.children:
            walk(child, current)

    def flush(current: list[str]) -> None:
        text = _compact("".join(current))
        current.clear()
        if len(text) >= MIN_CHARS and "han" in _kinds(text):
            out.append(text)

    if node is not None:
        pending: list[str] = []
        walk(node, pending)
        flush(pending)
    return out


def held_stretch(strings: list[str], fields: dict) -> int:
    """The longest stretch of any of ``strings`` (compacted) held in the article's Chinese title and body."""
    text = _compact(" ".join(fields.get(name) or "" for name in ("title_zh", "body_zh")))
    return max((longest_common(s, text) for s in strings), default=0)


def rerank(hits: list[StoredHit], strings: list[str]) -> list[StoredHit]:
    """``hits`` (relevance order, complete matches first: ``StoredHit.complete``) with the first
    :data:`DEPTH` of each tier re-ordered by :func:`typed_stretches` ``strings``; a re-ordered
    hit's score is the combined one, in the units of the tier's best score, so scores still
    fall down each tier."""
    if not strings:
        return hits
    out = list(hits)
    complete = next((n for n, hit in enumerate(out) if not hit.complete), len(out))
    for start, end in ((0, complete), (complete, len(out))):
        tier = out[start : min(end, start + DEPTH)]
        if len(tier) < 2:
            continue
        best_score = max(hit.score for hit in tier) or 1.0
        stretches = [held_stretch(strings, hit.fields) for hit in tier]
        longest = max(stretches) or 1
        combined = [hit.score / best_score + WEIGHT * stretch / longest for hit, stretch in zip(tier, stretches)]
        order = sorted(range(len(tier)), key=lambda n: -combined[n])  # stable: ties keep the backend's order
        out[start : start + len(tier)] = [dataclasses.replace(tier[n], score=combined[n] * best_score) for n in order]
    return out

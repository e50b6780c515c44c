"""The first hits of a Chinese query, re-ordered by how much of it they hold verbatim and in one sentence.

A long Chinese query (a question, a sentence pasted from an article) is matched word by word
and pair by pair, which scores an article holding its words scattered as high as one holding
a long stretch of it verbatim, or most of it in one sentence. The first :data:`DEPTH` hits of
each tier (complete matches, then partial ones) are re-ordered by their score (relative to the
tier's best) plus :data:`WEIGHT` times the longest stretch of the query they hold (relative to
the longest any of them holds) plus :data:`SENTENCE_WEIGHT` times the share of the query's
character pairs, weighted by rarity (IDF), that their best sentence holds (relative to the best
any of them has); all read in simplified script with punctuation and spaces left out.

Measured on the QA sets (MRR@10, ``python -m bench.quality``; README "Evaluation"): the longest
stretch alone (weight 0.4) took DRCD dev 0.9667 → 0.9681, CMRC 2018 dev 0.9853 → 0.9861, trial
0.9817 → 0.9835; with the best sentence, DRCD dev 0.9710, CMRC dev 0.9871, trial 0.9829. In an
offline run over the engine's top 10, stretch weights 0.2–0.3 with sentence weights 0.2–0.4
all gave DRCD 0.970–0.971 and CMRC dev 0.9866–0.9873 (the middle is kept); the stretch alone
gained at weights 0.2–0.5 and lost on DRCD at 0.6.

>>> longest_common("瑞士近卫队的制服", "瑞士近卫队于1506年建立，其制服")
5
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
import re
from typing import Callable, Iterable

from search.analysis.convert import to_simplified
from search.analysis.scripts import script_texts
from search.backends.base import StoredHit
from search.query.parse import Node, Not, Or, Phrase, Word

#: How many hits of each tier are re-ordered (one page: deeper pages keep the backend's order).
DEPTH = 10
#: The weight of the longest held stretch beside the score (both scaled to the tier's best).
WEIGHT = 0.25
#: The weight of the best sentence's share of the query (scaled to the tier's best).
SENTENCE_WEIGHT = 0.3
#: What ends a sentence (a title is one sentence).
SENTENCE_END = re.compile(r"[。！？；!?;\n]+")
#: The field whose character pairs' document frequencies weight the query's pairs.
PAIR_FIELD = "body_bigrams"
#: Queries whose Chinese strings are all shorter than this are left alone (every hit of a
#: two-character query holds all of it).
MIN_CHARS = 3


def _compact(text: str) -> str:
    """The Han, Latin and digit runs of ``text`` as the analysis reads them (width-folded:
    １９９０ is 1990), joined, in simplified script and lower case."""
    return _runs(to_simplified(text))


def _runs(simplified: str) -> str:
    """:func:`_compact` of a text already in simplified script."""
    return "".join(run for kind, run in script_texts(simplified) if kind != "other").lower()


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


def pair_weights(strings: list[str], frequencies: Callable[[Iterable[tuple[str, str]]], dict], doc_count: int) -> dict[str, float]:
    """The character pairs of ``strings`` (compacted) → their rarity, ``log(1 + N / (1 + df))``
    over the articles' bodies (``frequencies``: a view's document frequencies of ``(field, term)`` pairs).

    >>> weights = pair_weights(["瑞士近卫"], lambda pairs: {p: 9 if p[1] == "瑞士" else 0 for p in pairs}, 99)
    >>> sorted(weights) == ["士近", "瑞士", "近卫"] and weights["瑞士"] < weights["近卫"]
    True
    """
    keys = pair_keys(strings)
    found = frequencies(keys)
    return {pair: math.log(1 + doc_count / (1 + found.get((field, pair), 0))) for field, pair in keys}


def pair_keys(strings: list[str]) -> list[tuple[str, str]]:
    """The ``(field, pair)`` statistics :func:`pair_weights` reads for ``strings`` (a planner asks
    for them with its own, so that a cluster answers both in one request).

    >>> pair_keys(["瑞士近卫", "瑞士"])
    [('body_bigrams', '士近'), ('body_bigrams', '瑞士'), ('body_bigrams', '近卫')]
    """
    return [(PAIR_FIELD, pair) for pair in sorted({s[i : i + 2] for s in strings for i in range(len(s) - 1)})]


def _article(fields: dict) -> list[str]:
    """The article's Chinese title and body in simplified script, sentence by sentence, compacted."""
    sentences: list[str] = []
    for name in ("title_zh", "body_zh"):
        text = fields.get(name)
        if text:
            sentences += [compact for part in SENTENCE_END.split(to_simplified(text)) if (compact := _runs(part))]
    return sentences


def best_sentence(weights: dict[str, float], sentences: list[str]) -> float:
    """The largest share of the query's pair weight (:func:`pair_weights`) one of ``sentences`` holds.

    >>> best_sentence({"瑞士": 1.0, "近卫": 3.0}, ["瑞士很美", "近卫队在瑞士"])
    1.0
    """
    total = sum(weights.values())
    if not total or not sentences:
        return 0.0
    # Each pair looked for in the whole text at once (a search in C), its sentence found from
    # where it starts: a pair test per sentence cost ~10x more on a long article.
    text = "\n".join(sentences)  # no compacted sentence holds a newline: no pair runs across two
    ends = list(itertools.accumulate(len(sentence) + 1 for sentence in sentences))
    held = [0.0] * len(sentences)
    for pair, weight in weights.items():
        last = -1
        at = text.find(pair)
        while at >= 0:
            n = bisect.bisect_right(ends, at)
            if n != last:  # once per sentence
                held[n] += weight
                last = n
            at = text.find(pair, at + 1)
    return max(held) / total


def rerank(hits: list[StoredHit], strings: list[str], weights: dict[str, float] | None = None) -> list[StoredHit]:
    """``hits`` (relevance order, complete matches first: ``StoredHit.complete``) with the first
    :data:`DEPTH` of each tier re-ordered by :func:`typed_stretches` ``strings`` and the best
    sentence's share of their pairs (``weights``: :func:`pair_weights`; none: stretches only);
    a re-ordered hit's score is the combined one, in the units of the tier's best score, so
    scores still fall down each tier."""
    if not strings:
        return hits
    out = list(hits)
    complete = next((n for n, hit in enumerate(out) if not hit.complete), len(out))
    for start, end in ((0, complete), (complete, len(out))):
        tier = out[start : min(end, start + DEPTH)]
        if len(tier) < 2:
            continue
        best_score = max(hit.score for hit in tier) or 1.0
        articles = [_article(hit.fields) for hit in tier]
        # Punctuation is left out: a stretch may run across it, as the query's does.
        texts = ["".join(sentences) for sentences in articles]
        stretches = [max((longest_common(s, text) for s in strings), default=0) for text in texts]
        longest = max(stretches) or 1
        shares = [best_sentence(weights, sentences) for sentences in articles] if weights else [0.0] * len(tier)
        top_share = max(shares) or 1.0
        combined = [
            hit.score / best_score + WEIGHT * stretch / longest + SENTENCE_WEIGHT * share / top_share
            for hit, stretch, share in zip(tier, stretches, shares)
        ]
        order = sorted(range(len(tier)), key=lambda n: -combined[n])  # stable: ties keep the backend's order
        out[start : start + len(tier)] = [dataclasses.replace(tier[n], score=combined[n] * best_score) for n in order]
    return out

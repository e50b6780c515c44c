"""More like this: an article's distinctive terms, in both languages through the lexicon.

The terms of an article's title and body are weighted by tf·idf (a term in one article
only, or in a tenth of the index, says nothing about its subject); the best of each
language are searched as they are and, through the bilingual lexicon, as their
translations in the other language, weighted down. Backend-neutral: the caller gives the
document frequencies and runs the weighted terms as a query.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Callable

from search.analysis.pipeline import analyze
from search.model import LANGS
from search.query.translate import sources_of, translate_run

TERMS_PER_LANG = 20
TRANSLATED_PER_LANG = 12
TRANSLATION_WEIGHT = 0.5
MAX_SHARE = 0.1  # a term in more than this share of the documents is not distinctive
TITLE_WEIGHT = 2.0


@dataclass(frozen=True)
class WeightedTerm:
    lang: str  # the language of the fields searched
    term: str  # the indexed form
    weight: float


def distinctive_terms(
    texts: dict[str, tuple[str, str]],
    doc_frequency: Callable[[str, str], int],
    doc_count: int,
) -> list[WeightedTerm]:
    """The weighted terms to search for articles like one with ``texts`` (lang → (title, body)).

    ``doc_frequency(lang, term)``: in how many documents the term occurs in that language.
    """
    out: list[WeightedTerm] = []
    for lang in LANGS:
        title, body = texts.get(lang, ("", ""))
        counts: Counter[str] = Counter()
        surface: dict[str, str] = {}
        for text, weight in ((title, TITLE_WEIGHT), (body, 1.0)):
            for token in analyze(text or ""):
                if token.lang != lang or len(token.term) < 2 and lang == "en":
                    continue
                counts[token.term] += weight
                surface.setdefault(token.term, text[token.start : token.end])
        scored = []
        for term, tf in counts.items():
            df = doc_frequency(lang, term)
            if df < 2 or df > max(MAX_SHARE * doc_count, 10):
                continue  # only in this article, or everywhere
            if df < doc_count:  # in every article (a tiny index): no weight, and nothing to divide by
                scored.append((tf * math.log(doc_count / df), term))
        scored.sort(key=lambda item: (-item[0], item[1]))
        best = scored[:TERMS_PER_LANG]
        if not best:
            continue
        top = best[0][0]
        out.extend(WeightedTerm(lang, term, score / top) for score, term in best)
        other = "en" if lang == "zh" else "zh"
        for score, term in best[:TRANSLATED_PER_LANG]:
            for translated, weight in _translations(surface[term]):
                if doc_frequency(other, translated) >= 1:
                    out.append(WeightedTerm(other, translated, TRANSLATION_WEIGHT * weight * score / top))
    return out


def _translations(surface: str) -> list[tuple[str, float]]:
    """Single-term translations of one word as the lexicon gives them (best first, at most two)."""
    found: list[tuple[str, float]] = []
    for concept in translate_run(sources_of(surface), text=surface):
        for candidate in concept.candidates:
            if len(candidate.terms) == 1 and len(found) < 2:
                found.append((candidate.terms[0], min(1.0, candidate.weight)))
    return found


__all__ = ["WeightedTerm", "distinctive_terms"]

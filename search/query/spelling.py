"""Typo tolerance for Latin-script words the index does not hold (``Pution`` → Putin).

As Meilisearch and Typesense do: a word of 5 to 8 letters may be one edit away from the
word meant, a longer one two, a shorter one none; an edit is an insertion, a deletion, a
substitution or a swap of two neighbouring letters (``ukriane`` → ukraine: one swap), the
optimal-string-alignment distance. Candidates are the index's own English terms (stems, as
indexed), nearest first, then the one in most articles. Distances are computed by
RapidFuzz (C++, a whole vocabulary of 50,000 terms in milliseconds), not in Python.

>>> allowed_edits("Putin"), allowed_edits("ukriane"), allowed_edits("Kazakhstan"), allowed_edits("trad")
(1, 1, 2, 0)
>>> nearest("ukrian", ["ukrain", "ukrainian", "urban"], 1)
{'ukrain': 1}
>>> surface("Ukriane", "ukrian", "ukrain"), surface("Pution", "pution", "putin")
('Ukraine', 'Putin')
"""

from __future__ import annotations

from typing import Iterable, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

from search.analysis.english import stem

#: Shortest word that may be corrected with one edit, and with two.
ONE_EDIT_MIN = 5
TWO_EDITS_MIN = 9


def allowed_edits(word: str) -> int:
    """Edits a typed word may be away from the word meant (by its letters)."""
    letters = sum(1 for ch in word if ch.isalpha())
    return 2 if letters >= TWO_EDITS_MIN else 1 if letters >= ONE_EDIT_MIN else 0


def correctable(word: str) -> bool:
    """A typed word typo tolerance applies to: Latin letters only, long enough."""
    return word.isascii() and word.replace("'", "").replace("-", "").isalpha() and allowed_edits(word) > 0


def nearest(term: str, vocabulary: Sequence[str], max_edits: int) -> dict[str, int]:
    """Terms of ``vocabulary`` at most ``max_edits`` edits from ``term`` (not ``term`` itself): term → edits."""
    if max_edits <= 0 or not vocabulary:
        return {}
    found = process.extract(term, vocabulary, scorer=OSA.distance, score_cutoff=max_edits, limit=None)
    return {choice: int(distance) for choice, distance, _ in found if choice != term}


def best(candidates: dict[str, int], frequencies: dict[str, int]) -> str | None:
    """The nearest candidate the index holds, the most frequent among equally near ones."""
    held = [term for term in candidates if frequencies.get(term, 0) > 0]
    if not held:
        return None
    return min(held, key=lambda term: (candidates[term], -frequencies[term], term))


def surface(typed: str, typed_stem: str, term: str) -> str:
    """The word to show for the indexed term ``term`` that replaces ``typed`` (whose stem is
    ``typed_stem``): the typed word's ending kept when it still stems to ``term``
    (``ukriane`` → ``ukraine``, not the stem ``ukrain``), its capital kept."""
    lower = typed.lower()
    word = term
    if lower.startswith(typed_stem) and stem(term + lower[len(typed_stem):]) == term:
        word = term + lower[len(typed_stem):]
    if typed[:1].isupper():
        word = word.upper() if typed.isupper() and len(typed) > 1 else word[:1].upper() + word[1:]
    return word


def vocabulary_list(terms: Iterable[str]) -> list[str]:
    """A vocabulary as :func:`nearest` scans it: Latin-letter terms only, sorted."""
    return sorted({t for t in terms if t.isascii() and t.isalpha()})

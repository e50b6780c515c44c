"""One hit per group of near-duplicates (see :mod:`search.dedup`), over ranked document numbers.

Backend-neutral: a backend supplies each document's group number and a ranking; this
keeps the first document of each group in that order and lists its group's other matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Collapsed:
    docnum: int
    score: float
    others: list[int]  # the other matching documents of its group, in document order


@dataclass(frozen=True)
class Groups:
    """Document number → group number for one index generation."""

    number: np.ndarray
    members: dict[int, np.ndarray]  # groups of two or more documents → their document numbers

    @classmethod
    def build(cls, number: np.ndarray) -> "Groups":
        sizes = np.bincount(number) if len(number) else np.zeros(0, dtype=np.int64)
        multi = np.flatnonzero(sizes > 1)
        members: dict[int, np.ndarray] = {}
        if len(multi):
            docs = np.flatnonzero(np.isin(number, multi))
            for doc in docs.tolist():
                members.setdefault(int(number[doc]), []).append(doc)
        return cls(number, {group: np.array(docs, dtype=np.int64) for group, docs in members.items()})

    def count(self, matches: np.ndarray) -> int:
        """How many groups the matching documents (a boolean array) belong to."""
        found = self.number[matches[: len(self.number)]]
        return int(np.count_nonzero(np.bincount(found))) if len(found) else 0

    def collapse(self, docs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The first document of each group in ranked order (``docs``, best first) and its score.

        Arrays in, arrays out: an export of every match holds one number per hit, not an object.
        """
        if not len(docs):
            return docs, scores
        _, first = np.unique(self.number[docs], return_index=True)
        first.sort()
        return docs[first], scores[first]

    def row(self, docnum: int, score: float, matches: np.ndarray, days: np.ndarray | None = None) -> Collapsed:
        """The hit shown for the group of ``docnum`` (a result of :meth:`collapse`) and the group's
        other matches; with ``days`` (date order), its earliest matching document (ties: the lower
        number) stands for the group at the place of its first."""
        docs = self.members.get(int(self.number[docnum]))
        if docs is None:
            return Collapsed(docnum, score, [])
        docs = docs[matches[docs]]
        if days is not None and len(docs):
            undated = np.iinfo(np.int64).max
            key = np.where(days[docs] > 0, days[docs], undated)
            docnum = int(docs[np.lexsort((docs, key))[0]])
        return Collapsed(docnum, score, [int(d) for d in docs if d != docnum])

__all__ = ["Collapsed", "Groups"]

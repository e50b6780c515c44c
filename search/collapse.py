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

    def collapse(self, ranked: list[tuple[int, float]], matches: np.ndarray, days: np.ndarray | None = None) -> list[Collapsed]:
        """The first of each group in ``ranked`` order; with ``days`` (date order), each group is
        shown by its earliest matching document (ties: the lower number) at the place of its first."""
        seen: set[int] = set()
        out: list[Collapsed] = []
        for docnum, score in ranked:
            group = int(self.number[docnum])
            if group in seen:
                continue
            seen.add(group)
            docs = self.members.get(group)
            if docs is None:
                out.append(Collapsed(docnum, score, []))
                continue
            docs = docs[matches[docs]]
            if days is not None and len(docs):
                undated = np.iinfo(np.int64).max
                key = np.where(days[docs] > 0, days[docs], undated)
                docnum = int(docs[np.lexsort((docs, key))[0]])
            out.append(Collapsed(docnum, score, [int(d) for d in docs if d != docnum]))
        return out


__all__ = ["Collapsed", "Groups"]

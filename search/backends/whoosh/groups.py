"""Near-duplicate groups as the Whoosh index stores them (fields ``dup_group``, ``dup_sig``)."""

from __future__ import annotations

import numpy as np

from search.dedup import Deduper, decode_all, ordinal_of


def _leaf_column(sub, name: str, count: int) -> list:
    return list(sub.column_reader(name)) if sub.has_column(name) else [None] * count


def load_deduper(reader) -> Deduper:
    """The LSH state of every live article, rebuilt from the stored signatures and cross-language
    features (in document order)."""
    deduper = Deduper()
    for sub, _ in reader.leaf_readers():
        count = sub.doc_count_all()
        deleted = sub.deleted_docs_set if sub.has_deletions() else ()
        ids = _leaf_column(sub, "id", count)
        groups = _leaf_column(sub, "dup_group", count)
        sigs = _leaf_column(sub, "dup_sig", count)
        days = _leaf_column(sub, "day", count)
        for local in range(count):
            if local in deleted or not ids[local]:
                continue
            found = decode_all(sigs[local]) if sigs[local] else None
            if found is None:
                continue
            deduper.load(_text(ids[local]), found[0], _text(groups[local]) or _text(ids[local]), ordinal_of(days[local]), found[1])
    return deduper


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else (value or "")


def group_numbers(reader) -> tuple[np.ndarray, list[str]]:
    """docnum → group number (an article without a group is its own), and the group ids numbered."""
    labels: list[str] = []
    for sub, _ in reader.leaf_readers():
        count = sub.doc_count_all()
        ids = _leaf_column(sub, "id", count)
        groups = _leaf_column(sub, "dup_group", count)
        labels.extend(_text(g) or _text(i) or f"\x00{n}" for n, (g, i) in enumerate(zip(groups, ids)))
    names, numbers = np.unique(np.array(labels, dtype=object), return_inverse=True)
    return numbers.astype(np.int64), [str(name) for name in names]

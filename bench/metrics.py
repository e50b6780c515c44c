"""Ranking metrics for one relevant document per query."""

from __future__ import annotations

import math


def score_ranks(ranks: list[int | None], k: int = 10) -> dict[str, float]:
    """MRR@k, Recall@k and nDCG@k from the 1-based rank of each query's relevant doc.

    >>> score_ranks([1, 2, None])
    {'mrr@10': 0.5, 'recall@10': 0.6667, 'ndcg@10': 0.5436, 'queries': 3}
    """
    n = len(ranks) or 1
    mrr = sum(1 / r for r in ranks if r and r <= k) / n
    recall = sum(1 for r in ranks if r and r <= k) / n
    ndcg = sum(1 / math.log2(r + 1) for r in ranks if r and r <= k) / n
    return {"mrr@10": round(mrr, 4), "recall@10": round(recall, 4), "ndcg@10": round(ndcg, 4), "queries": len(ranks)}

"""Ranking metrics as trec_eval computes them (through ``ir-measures``).

Each query is its ranked hit ids and the set of its relevant ids (binary relevance).
A query may have several relevant documents (a Tatoeba sentence with several
translations): Success@10 asks for one of them in the top 10, Recall@10 for the
share of them, nDCG@10 discounts every one found against the ideal ranking, MRR@10
(reciprocal rank) looks at the first. Every query counts in each mean, including
queries that found nothing (trec_eval's ``-c``).
"""

from __future__ import annotations

import ir_measures
from ir_measures import Qrel, ScoredDoc, nDCG, R, RR, Success

K = 10
MEASURES = {"mrr@10": RR @ K, "success@10": Success @ K, "recall@10": R @ K, "ndcg@10": nDCG @ K}


def score_runs(runs: list[tuple[list[str], set[str]]]) -> dict[str, float]:
    """MRR@10, Success@10, Recall@10 and nDCG@10 over ``(ranked ids, relevant ids)`` per query.

    >>> score_runs([(["a", "b"], {"a"}), (["c", "a"], {"a", "b"}), (["c"], {"b"})])
    {'mrr@10': 0.5, 'success@10': 0.6667, 'recall@10': 0.5, 'ndcg@10': 0.4623, 'queries': 3}
    """
    qrels = [Qrel(str(q), doc, 1) for q, (_, relevant) in enumerate(runs) for doc in relevant]
    # Scores fall with the rank, so trec_eval keeps the order the system gave.
    run = [ScoredDoc(str(q), doc, float(-rank)) for q, (ids, _) in enumerate(runs) for rank, doc in enumerate(ids[:K])]
    totals = dict.fromkeys(MEASURES.values(), 0.0)
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels, run):
        totals[metric.measure] += metric.value
    n = len(runs) or 1
    scores: dict[str, float] = {name: round(totals[measure] / n, 4) for name, measure in MEASURES.items()}
    scores["queries"] = len(runs)
    return scores

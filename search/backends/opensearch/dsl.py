"""Compile a :mod:`search.query.plan` and the search filters into OpenSearch Query DSL.

Matching is the Whoosh backend's: terms are the analyzed terms (``term``), a phrase is
its terms at consecutive positions (``span_near``, slop 0, in order), NOT is
``must_not``. Scores are OpenSearch's BM25 (k1 1.2, b 0.75, as Whoosh's) with the same
field weights; a weighted translation set scores its best translation (``dis_max``)
rather than Whoosh's pooled term, so scores differ slightly while matches do not.
"""

from __future__ import annotations

from search.filters import SearchFilters
from search.query import plan as qp
from search.query.plan import FIELD_BOOSTS


def compile_node(node: qp.Node) -> dict:
    """The Query DSL for one plan node."""
    if isinstance(node, qp.Term):
        return {"term": {node.field: {"value": node.text, "boost": node.boost * FIELD_BOOSTS.get(node.field, 1.0)}}}
    if isinstance(node, qp.Phrase):
        clauses = [{"span_term": {node.field: word}} for word in node.words]
        return {"span_near": {"clauses": clauses, "slop": 0, "in_order": True, "boost": node.boost * FIELD_BOOSTS.get(node.field, 1.0)}}
    if isinstance(node, qp.WeightedTerms):
        field_boost = FIELD_BOOSTS.get(node.field, 1.0)
        terms = [{"term": {node.field: {"value": text, "boost": weight * field_boost}}} for text, weight in node.items]
        return {"dis_max": {"queries": terms, "boost": node.boost}}
    if isinstance(node, qp.All):
        return {"bool": {"must": [compile_node(part) for part in node.parts], "boost": node.boost}}
    if isinstance(node, qp.Any):
        return {"bool": {"should": [compile_node(part) for part in node.parts], "minimum_should_match": 1, "boost": node.boost}}
    if isinstance(node, qp.Best):
        return {"dis_max": {"queries": [compile_node(part) for part in node.parts], "boost": node.boost}}
    if isinstance(node, qp.Maybe):
        return {"bool": {"must": [compile_node(node.required)], "should": [compile_node(node.optional)], "boost": node.boost}}
    if isinstance(node, qp.Without):
        return {"bool": {"must": [compile_node(node.positive)], "must_not": [compile_node(node.negative)], "boost": node.boost}}
    if isinstance(node, qp.Everything):
        return {"match_all": {"boost": node.boost}}
    if isinstance(node, qp.Nothing):
        return {"match_none": {}}
    raise TypeError(f"not a plan node: {node!r}")


def filter_clauses(filters: SearchFilters, speaker_ids: tuple[str, ...] | None) -> list[dict]:
    """The filters as non-scoring clauses (the Whoosh backend's: ``day`` range, ``lang``, speaker ids)."""
    clauses: list[dict] = []
    if filters.date_from or filters.date_to:
        bounds: dict[str, int] = {}
        if filters.date_from:
            bounds["gte"] = int(filters.date_from.strftime("%Y%m%d"))
        if filters.date_to:
            bounds["lte"] = int(filters.date_to.strftime("%Y%m%d"))
        clauses.append({"range": {"day": bounds}})
    if filters.lang:
        clauses.append({"term": {"lang": filters.lang}})
    if speaker_ids is not None:
        clauses.append({"terms": {"speakers": list(speaker_ids)}} if speaker_ids else {"match_none": {}})
    return clauses


def restricted(node: qp.Node, filters: list[dict], *, without: qp.Node | None = None) -> dict:
    """``node`` scored, within ``filters``, minus what ``without`` matches."""
    query = within(compile_node(node), filters)
    if without is not None:
        query["bool"]["must_not"] = [compile_node(without)]
    return query


def within(query: dict, filters: list[dict]) -> dict:
    """``query`` (compiled) scored, within the non-scoring ``filters``."""
    return {"bool": {"must": [query], **({"filter": filters} if filters else {})}}


#: Every month holding a match: keys ``YYYYMM00`` (0: undated), from the ``day`` field
#: (``YYYYMMDD``); a year is ``key // 10000``. A histogram lists its buckets in key order (a terms
#: aggregation of that size sorted them by count first).
MONTHS = {"histogram": {"field": "day", "interval": 100, "min_doc_count": 1}}
#: Every day holding a match, asked only when the months show a short span (see
#: ``_OpenSearchView.day_search``). Per day, a common word's matches fill thousands of buckets: on the
#: 4x corpus the day histogram cost the node 5.9-7.0 ms for 81,000 matches, the month one 3.4-3.6.
DAYS = {"histogram": {"field": "day", "interval": 1, "min_doc_count": 1}}


def facet_aggregations(max_speakers: int) -> dict:
    """Month and speaker counts over the whole result set."""
    return {
        "months": MONTHS,
        "speakers": {
            "terms": {
                "field": "speakers",
                "size": max_speakers,
                "shard_size": max(500, max_speakers * 10),
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        },
    }

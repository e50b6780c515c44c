"""Compile a :mod:`search.query.plan` into Whoosh query objects (one node → one query)."""

from __future__ import annotations

from whoosh import query as wq

from search.backends.whoosh.synonyms import SynonymSet, WeightedSynonyms
from search.query import plan as qp


def compile_node(node: qp.Node | None, memo: dict[int, wq.Query] | None = None) -> wq.Query | None:
    """The Whoosh query for ``node`` (``None`` stays ``None``).

    ``memo`` (by node identity, for nodes that outlive it) makes a node shared by several
    trees one query object: a plan's primary and fallback hold the same units, and the
    ranker evaluates each query object once per search, so they are scored once, not twice.
    """
    if node is None:
        return None
    if memo is None:
        return _compile(node, None)
    found = memo.get(id(node))
    if found is None:
        found = memo[id(node)] = _compile(node, memo)
    return found


def _compile(node: qp.Node, memo: dict[int, wq.Query] | None) -> wq.Query:
    if isinstance(node, qp.Term):
        return wq.Term(node.field, node.text, boost=node.boost)
    if isinstance(node, qp.Phrase):
        return wq.Phrase(node.field, list(node.words), boost=node.boost)
    if isinstance(node, qp.WeightedTerms):
        return WeightedSynonyms(node.field, list(node.items), boost=node.boost)
    if isinstance(node, qp.All):
        return wq.And([compile_node(part, memo) for part in node.parts], boost=node.boost)
    if isinstance(node, qp.Any):
        return wq.Or([compile_node(part, memo) for part in node.parts], boost=node.boost)
    if isinstance(node, qp.Best):
        return SynonymSet([compile_node(part, memo) for part in node.parts], boost=node.boost)
    if isinstance(node, qp.Maybe):
        return _with_boost(wq.AndMaybe(compile_node(node.required, memo), compile_node(node.optional, memo)), node.boost)
    if isinstance(node, qp.Without):
        return _with_boost(wq.AndNot(compile_node(node.positive, memo), compile_node(node.negative, memo)), node.boost)
    if isinstance(node, qp.Everything):
        return _with_boost(wq.Every(), node.boost)
    if isinstance(node, qp.Nothing):
        return wq.NullQuery
    raise TypeError(f"not a plan node: {node!r}")


def _with_boost(q: wq.Query, boost: float) -> wq.Query:
    return q if boost == 1.0 else q.with_boost(boost)

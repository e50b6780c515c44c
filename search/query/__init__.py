"""Query string → syntax tree (``parse``) → Whoosh query (``build``)."""

from search.query.parse import And, Node, Not, Or, Phrase, Pref, Word, parse

__all__ = ["And", "Node", "Not", "Or", "Phrase", "Pref", "Word", "parse"]

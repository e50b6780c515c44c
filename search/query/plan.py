"""The backend-neutral query plan: what to match and how to weigh it, as plain data.

:func:`search.query.build.plan` turns a parsed query into these nodes; each storage
backend compiles them (Whoosh query objects, OpenSearch Query DSL). Fields are the
index's text fields (``title_zh``…``captions_en``, :data:`TEXT_FIELDS`); terms are
analyzed terms (simplified Chinese words, English stems), as stored.

Every node carries a ``boost``: a factor on its score, as Whoosh applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from search.model import Interpretation

TEXT_FIELDS = ("title_zh", "title_en", "body_zh", "body_en", "captions_zh", "captions_en")
#: The Chinese text fields' overlapping bigrams (:mod:`search.analysis.bigrams`), beside their words.
BIGRAM_FIELDS = {"title_zh": "title_bigrams", "body_zh": "body_bigrams", "captions_zh": "captions_bigrams"}
TITLE_BOOST = 2.5
CAPTION_BOOST = 0.5
#: How much a match in each text field weighs (titles more, photo captions less); every backend applies these.
FIELD_BOOSTS = {name: TITLE_BOOST if name.startswith("title") else CAPTION_BOOST if name.startswith("captions") else 1.0 for name in (*TEXT_FIELDS, *BIGRAM_FIELDS.values())}


class Node:
    """A plan node (the subclasses below)."""

    boost: float = 1.0


@dataclass(frozen=True)
class Term(Node):
    """One analyzed term in one field."""

    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase(Node):
    """Terms at consecutive positions in one field."""

    field: str
    words: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class WeightedTerms(Node):
    """Single-word translations in one field, scored as one term: ``(term, weight)`` with
    weights relative to the best translation (Pirkola's structured query, see the Whoosh
    backend's ``synonyms.py``)."""

    field: str
    items: tuple[tuple[str, float], ...]
    boost: float = 1.0


@dataclass(frozen=True)
class All(Node):
    """Every part matches; scores add up."""

    parts: tuple[Node, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Any(Node):
    """At least one part matches; scores of those that match add up."""

    parts: tuple[Node, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Best(Node):
    """Alternatives for one concept (a translation set): any matches, the best one scores."""

    parts: tuple[Node, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Maybe(Node):
    """``required`` must match; ``optional`` adds to the score where it matches too."""

    required: Node
    optional: Node
    boost: float = 1.0


@dataclass(frozen=True)
class Without(Node):
    """``positive`` minus the documents ``negative`` matches."""

    positive: Node
    negative: Node
    boost: float = 1.0


@dataclass(frozen=True)
class Everything(Node):
    """Every article."""

    boost: float = 1.0


@dataclass(frozen=True)
class Nothing(Node):
    """No article (a word the index does not hold)."""

    boost: float = 1.0


NOTHING = Nothing()


def boosted(node: Node, factor: float) -> Node:
    """``node`` with its boost multiplied (a one-part All/Any passes it down, as Whoosh does)."""
    if factor == 1.0:
        return node
    if isinstance(node, (All, Any, Best)) and len(node.parts) == 1:
        return boosted(node.parts[0], factor * node.boost)
    return replace(node, boost=node.boost * factor)


@dataclass
class Plan:
    """What one search matches.

    ``primary`` hits (complete matches) rank first and are counted as the total; ``fallback``
    (if any) adds the documents that match only part of the query, ranked after every
    primary hit and counted apart (it also matches every primary hit). ``highlight`` and ``phrases`` are the analyzed terms the
    snippets mark.
    """

    primary: Node | None
    fallback: Node | None
    highlight: set[str] = field(default_factory=set)
    phrases: list[list[str]] = field(default_factory=list)
    interpretation: Interpretation | None = None
    #: Chinese strings typed (simplified) that snippets mark wherever they stand (近平 in 習近平).
    strings: list[str] = field(default_factory=list)
    #: Stretches of Chinese typed (compacted, search.rerank.typed_stretches) that re-order the first hits.
    stretches: list[str] = field(default_factory=list)
    #: With a fallback: the units every complete match holds, how each was typed, the
    #: bonus clauses (phrase, proximity) and the exclusions, so that
    #: :func:`search.query.build.narrowed` can drop units no article holds together.
    units: tuple[Node, ...] = ()
    labels: tuple[str, ...] = ()
    extra: Node | None = None
    banned: Node | None = None
    #: The units left out of the complete matches (no article holds them all).
    dropped: list[str] = field(default_factory=list)

    @property
    def matching(self) -> Node | None:
        """The node whose matches are the result set."""
        return self.fallback or self.primary


__all__ = [
    "All", "Any", "BIGRAM_FIELDS", "Best", "Everything", "Maybe", "Node", "FIELD_BOOSTS", "NOTHING", "Nothing", "Phrase", "Plan", "TEXT_FIELDS",
    "Term", "WeightedTerms", "Without", "boosted",
]

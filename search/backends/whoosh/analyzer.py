"""Whoosh adapter for the analysis pipeline.

Whoosh pickles the schema, so the analyzer must be a module-level class whose
state is plain data; heavy resources (OpenCC, jieba dictionaries) are loaded
lazily, once per process, by the pipeline modules.
"""

from __future__ import annotations

from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer

from search.analysis.bigrams import bigrams
from search.analysis.pipeline import ANALYZER_VERSION, analyze, document_pairs, document_positions, document_words


class BilingualAnalyzer(Tokenizer):
    """Chinese (any script) + English analyzer producing simplified words and English stems."""

    def __init__(self, version: int = ANALYZER_VERSION) -> None:
        self.version = version

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BilingualAnalyzer) and other.version == self.version

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.version))

    @staticmethod
    def tokens(value: str):
        return analyze(value)

    @staticmethod
    def positions(value: str) -> dict[str, list[int]]:
        """Each term of :meth:`tokens` with its positions (indexing)."""
        return document_words(value)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ):
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token
            return
        for tok in self.tokens(value):
            token.text = tok.term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[tok.start : tok.end]
            if positions:
                token.pos = start_pos + tok.pos
            if chars:
                token.startchar = start_char + tok.start
                token.endchar = start_char + tok.end
            yield token


class BigramAnalyzer(BilingualAnalyzer):
    """Overlapping bigrams of the simplified Chinese text (:mod:`search.analysis.bigrams`)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BigramAnalyzer) and other.version == self.version

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.version))

    @staticmethod
    def tokens(value: str):
        return bigrams(value)

    @staticmethod
    def positions(value: str) -> dict[str, list[int]]:
        return document_positions(value)[1]

    @staticmethod
    def pair_codes(value: str):
        """The pairs as numbers and their positions, in text order (indexing: see
        :func:`search.analysis.pipeline.document_pairs`)."""
        return document_pairs(value)

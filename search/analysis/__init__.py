"""Text analysis: script runs → one Chinese script (OpenCC) → jieba words / English stems.

The pipeline is plain Python producing :class:`~search.analysis.tokens.Token` tuples;
``search/backends/whoosh/analyzer.py`` adapts it to Whoosh. Offsets always point into the original text.
"""

from search.analysis.pipeline import ANALYZER_VERSION, analyze, query_terms
from search.analysis.tokens import Token

__all__ = ["ANALYZER_VERSION", "Token", "analyze", "query_terms"]

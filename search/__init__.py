"""Bilingual (Chinese + English) full-text search for news articles.

Data flows one way:

    file ─▶ ingest ─▶ Article ─▶ analysis ─▶ tokens ─▶ indexer (Whoosh)
    "query" ─▶ query.parse ─▶ query.build ─▶ searcher ─▶ highlight ─▶ SearchResult
"""

__version__ = "0.1.0"

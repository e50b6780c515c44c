"""One exception hierarchy for the engine; the CLI and the web layer map it once.

Every error carries a short machine-readable ``code`` and, where it applies,
the ``param`` (API parameter, CLI option or file) that caused it.
"""

from __future__ import annotations


class SearchError(Exception):
    """Base class of every error the engine raises on purpose."""

    code = "search_error"
    exit_status = 1

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class IngestError(SearchError):
    """An input file (or one line of it) cannot be turned into an article."""

    code = "ingest_error"


class QueryError(SearchError):
    """A search request has an invalid parameter (the query text itself never fails)."""

    code = "invalid_parameter"
    exit_status = 2


class IndexMissingError(SearchError):
    """No index exists at the given location."""

    code = "index_missing"


class IndexVersionError(SearchError):
    """The index was built by an incompatible analyzer or schema version."""

    code = "index_version"


class IndexLockedError(SearchError):
    """Another process is writing to the index."""

    code = "index_locked"


class NotFoundError(SearchError):
    """A requested article does not exist."""

    code = "not_found"


class BackendUnavailableError(SearchError):
    """The storage backend cannot be reached or cannot serve (an OpenSearch cluster down or red)."""

    code = "backend_unavailable"


class WriterProcessError(SearchError):
    """A writer process died: the batch it was writing is not committed."""

    code = "writer_failed"

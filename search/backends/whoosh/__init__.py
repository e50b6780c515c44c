"""The embedded Whoosh backend: schema, segment writer, ranking, on-disk store."""

from search.backends.whoosh.backend import WhooshBackend

__all__ = ["WhooshBackend"]

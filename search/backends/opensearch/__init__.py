"""The OpenSearch backend (the project's analysis in Python, storage and search on a cluster),
and real local nodes to run it on (:mod:`search.backends.opensearch.localnode`)."""

from search.backends.opensearch.backend import OpenSearchBackend

__all__ = ["OpenSearchBackend"]

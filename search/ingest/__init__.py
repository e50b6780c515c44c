"""Turn files into :class:`~search.model.Article` objects.

``load_paths`` walks files and folders and yields one :class:`LoadedFile` per
supported file, each with its articles and per-line failures.
"""

from search.ingest.loader import LoadedFile, SUPPORTED_SUFFIXES, iter_files, load_file

__all__ = ["LoadedFile", "SUPPORTED_SUFFIXES", "iter_files", "load_file"]

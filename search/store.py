"""Open or create the on-disk index and check it was built by this version.

The index folder holds Whoosh's files plus ``search-meta.json`` recording the
analyzer and schema versions; a mismatch refuses to open with a clear message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import Index

from search.analysis import ANALYZER_VERSION
from search.errors import IndexMissingError, IndexVersionError
from search.schema import SCHEMA_VERSION, build_schema

META_FILE = "search-meta.json"
INDEX_NAME = "articles"


def default_index_dir() -> str:
    """``$SEARCH_INDEX`` if set, else ``index/`` in the current folder."""
    return os.environ.get("SEARCH_INDEX") or "index"


def versions() -> dict[str, int]:
    return {"analyzer_version": ANALYZER_VERSION, "schema_version": SCHEMA_VERSION}


def index_exists(index_dir: str) -> bool:
    return os.path.isdir(index_dir) and whoosh_index.exists_in(index_dir, indexname=INDEX_NAME)


def open_index(index_dir: str) -> Index:
    """Open an existing index; raise if missing or built by another version."""
    if not index_exists(index_dir):
        raise IndexMissingError(
            f"no index at {index_dir!r}: build one with `python -m search index PATH --index {index_dir}`",
            param="index",
        )
    _check_meta(index_dir)
    return whoosh_index.open_dir(index_dir, indexname=INDEX_NAME)


def open_or_create(index_dir: str) -> Index:
    if index_exists(index_dir):
        return open_index(index_dir)
    os.makedirs(index_dir, exist_ok=True)
    ix = whoosh_index.create_in(index_dir, build_schema(), indexname=INDEX_NAME)
    _write_meta(index_dir)
    return ix


def _write_meta(index_dir: str) -> None:
    path = Path(index_dir, META_FILE)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(versions(), indent=2) + "\n", "utf-8")
    os.replace(tmp, path)


def _check_meta(index_dir: str) -> None:
    path = Path(index_dir, META_FILE)
    try:
        meta = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        meta = {}
    expected = versions()
    found = {key: meta.get(key) for key in expected}
    if found != expected:
        raise IndexVersionError(
            f"the index at {index_dir!r} was built by an incompatible version "
            f"({_describe(found)}; this program needs {_describe(expected)}): "
            f"delete the folder and re-index with `python -m search index PATH --index {index_dir}`",
            param="index",
        )


def _describe(values: dict[str, object]) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in values.items())

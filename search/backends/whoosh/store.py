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
from whoosh.util.filelock import try_for

from search.analysis import ANALYZER_VERSION
from search.backends.whoosh.internals import share_mapped_files
from search.errors import IndexLockedError, IndexMissingError, IndexVersionError
from search.backends.whoosh.schema import SCHEMA_VERSION, build_schema

META_FILE = "search-meta.json"
INDEX_NAME = "articles"
#: Whoosh's write lock (an ``fcntl.flock`` on this file): held by one writer at a time and
#: released by the kernel when its process exits, however it exits.
LOCK_NAME = "WRITELOCK"
CREATE_WAIT = 10.0  # seconds to wait for another process that is creating the index


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
    share_mapped_files()  # searchers read the mapped file in place instead of each copying it
    return whoosh_index.open_dir(index_dir, indexname=INDEX_NAME)


def open_or_create(index_dir: str) -> Index:
    """Open the index, creating it first if there is none.

    Creation holds the write lock, so two processes starting on an empty folder
    cannot both create it (Whoosh's ``create_in`` deletes the index files it
    finds). ``search-meta.json`` is written before the index itself: a creation
    killed half-way leaves a folder that is simply created again next time.
    """
    if index_exists(index_dir):
        return open_index(index_dir)
    os.makedirs(index_dir, exist_ok=True)
    lock = write_lock(index_dir)
    if not try_for(lock.acquire, timeout=CREATE_WAIT, delay=0.1):
        raise locked_error(index_dir)
    try:
        if index_exists(index_dir):  # another process created it while we waited
            return open_index(index_dir)
        _write_meta(index_dir)
        whoosh_index.create_in(index_dir, build_schema(), indexname=INDEX_NAME)
    finally:
        lock.release()
    return open_index(index_dir)


def open_generation(storage, schema, segments: list, generation: int):
    """A reader of one generation of an index from its segments (as an earlier reader of it
    listed them: a commit deletes the generation's table of contents, not the segments it
    still holds). Raises ``OSError`` when a merge has deleted one of them since."""
    from whoosh.reading import EmptyReader, MultiReader, SegmentReader

    if not segments:
        return EmptyReader(schema)
    readers: list = []
    try:
        for segment in segments:
            readers.append(SegmentReader(storage, schema, segment, generation=generation))
    except BaseException:
        for reader in readers:
            reader.close()
        raise
    return readers[0] if len(readers) == 1 else MultiReader(readers, generation=generation)


def write_lock(index_dir: str):
    """The index's write lock (not acquired): the same lock Whoosh's writers take."""
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(index_dir).lock(f"{INDEX_NAME}_{LOCK_NAME}")


def lock_holder(index_dir: str) -> int | None:
    """The process id a running indexer recorded in the lock file, if that process is alive."""
    try:
        pid = int(Path(index_dir, f"{INDEX_NAME}_{LOCK_NAME}").read_text("ascii").strip())
        os.kill(pid, 0)
    except PermissionError:  # alive, but another user's
        return pid
    except (OSError, ValueError):
        return None
    return pid


def locked_error(index_dir: str) -> IndexLockedError:
    pid = lock_holder(index_dir)
    who = f"another process (pid {pid})" if pid else "another process"
    return IndexLockedError(
        f"the index at {index_dir!r} is being written by {who}; wait for it to finish, then run again",
        param="index",
    )


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


def column_lookup(reader, name: str):
    """``docnum → value`` for a column, segment by segment.

    Whoosh's multi-segment column reader skips segments that lack the column but keeps
    the others' offsets, so it can return another document's value or fail; this reads
    each segment's own column at its own offset.
    """
    leaves = []
    for sub, offset in reader.leaf_readers():
        column = sub.column_reader(name) if sub.has_column(name) else None
        leaves.append((offset, sub.doc_count_all(), column))

    def lookup(docnum: int):
        for offset, count, column in leaves:
            if offset <= docnum < offset + count:
                if column is None:
                    return None
                try:
                    return column[docnum - offset]
                except IndexError:
                    return None
        return None

    return lookup

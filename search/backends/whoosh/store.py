"""Open or create the on-disk index and check it was built by this version.

The index folder holds Whoosh's files plus ``search-meta.json`` recording the
analyzer and schema versions; a mismatch refuses to open with a clear message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.structfile import BufferFile
from whoosh.index import Index
from whoosh.util.filelock import try_for

from search.analysis import ANALYZER_VERSION
from search.errors import IndexLockedError, IndexMissingError, IndexVersionError
from search.backends.whoosh.schema import SCHEMA_VERSION, build_schema

META_FILE = "search-meta.json"
INDEX_NAME = "articles"
#: Whoosh's write lock (an ``fcntl.flock`` on this file): held by one writer at a time and
#: released by the kernel when its process exits, however it exits.
LOCK_NAME = "WRITELOCK"
CREATE_WAIT = 10.0  # seconds to wait for another process that is creating the index

class _ViewReader:
    """A read-only file over a memoryview that copies only what is read.

    Whoosh opens each file inside a compound segment as ``BufferFile(view)``, which
    wraps the view in ``BytesIO`` — a full copy. Every searcher (one per server
    thread, a new one after each commit) thus held its own copy of the postings,
    terms and stored fields: 1.5 GB of private memory for 8 threads on a 170 MB
    index. With this reader they share the mapped file.
    """

    def __init__(self, view) -> None:
        self._view = memoryview(view)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        out = self._view[self._pos : end].tobytes()
        self._pos = max(self._pos, end)
        return out

    def peek(self, size: int = 0) -> bytes:
        # With peek, pickle.load (Whoosh's block headers) prefetches instead of calling
        # read() once per opcode; the unpickler asks for 64 KiB, a header is ~40 bytes.
        end = min(len(self._view), self._pos + min(max(size, 1), 256))
        return self._view[self._pos : end].tobytes()

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        view = self._view
        end = len(view) if size is None or size < 0 else min(len(view), self._pos + size)
        chunk = view[self._pos : end].tobytes()
        cut = chunk.find(b"\n")
        if cut >= 0:
            chunk = chunk[: cut + 1]
        self._pos += len(chunk)
        return chunk

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view.release()


def _buffer_file_init(self, buf, name=None, onclose=None) -> None:
    self._buf = buf
    self._name = name
    self.file = _ViewReader(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


BufferFile.__init__ = _buffer_file_init



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

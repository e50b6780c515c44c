"""Add, replace and delete articles in the index, incrementally and in batches.

An article is unchanged when the index holds its id with the same content hash
(the ``digest`` column), so re-running over the same folder only reads and hashes. Changed
articles are analyzed in worker processes (Whoosh's multiprocessing writer)
when a batch is large enough to pay for them, and every batch is committed on
its own, so an interrupted run keeps what it finished.

Crash safety: a run holds the index's write lock from start to end (a second
run fails at once, naming the process that holds it); a commit becomes
visible all at once (Whoosh writes the new table of contents to a temporary
file and renames it); the writer processes die with the indexer and never keep
its lock, and a batch whose writer process died is not committed. A run that
is killed leaves its partial files behind; the next run deletes them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Callable, Iterable

from whoosh.index import TOC, clean_files
from whoosh.writing import SegmentWriter

from search.errors import WriterProcessError  # noqa: F401 - raised by the parallel writer
from search.ingest import LoadedFile, iter_files
from search.ingest.loader import load_parts
from search.model import Article
from search.backends.whoosh.store import INDEX_NAME, column_lookup, locked_error, open_or_create, write_lock
from search.backends.whoosh.internals import ParallelWriter

BATCH_SIZE = 20_000
PARALLEL_MIN_BATCH = 400
LIMIT_MB = 512


@dataclass
class IndexReport:
    indexed: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    deleted: int = 0
    skipped_files: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        line = f"indexed {self.indexed} / updated {self.updated} / unchanged {self.unchanged} / failed {self.failed}"
        if self.deleted:
            line += f" / deleted {self.deleted}"
        if self.skipped_files:
            line += f" ({len(self.skipped_files)} files of unsupported type skipped)"
        return line


def content_hash(article: Article) -> str:
    payload = {
        "title": article.title,
        "body": article.body,
        "captions": article.captions,
        "speakers": [sp.to_dict() for sp in article.speakers],
        "meta": article.meta,
        "date": article.date.isoformat() if article.date else None,
        "source": article.source,
        "url": article.url,
        "dateline": article.dateline,
        "path": article.path,
    }
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def to_document(article: Article, digest: str) -> dict[str, object]:
    """The Whoosh field values for one article (empty fields omitted)."""
    doc: dict[str, object] = {
        "id": article.id,
        "digest": bytes.fromhex(digest),
        "lang": " ".join(article.languages),
    }
    for part in ("title", "body", "captions"):
        for lang in ("zh", "en"):
            text = article.text(part, lang)
            if text:
                doc[f"{part}_{lang}"] = text
    if article.path:
        doc["path"] = os.path.abspath(article.path)
    if article.date:
        doc["date_iso"] = article.date.isoformat()
    # Column fields get a value on every document: Whoosh's column readers fail on a
    # segment whose last documents have none.
    doc["day"] = int(article.date.strftime("%Y%m%d")) if article.date else 0
    doc["speakers_column"] = b""
    if article.speakers:
        doc["speakers"] = ",".join(sp.id for sp in article.speakers)
        doc["speakers_column"] = json.dumps([sp.to_dict() for sp in article.speakers], ensure_ascii=False).encode("utf-8")
    if article.meta:
        doc["meta"] = dict(article.meta)
    for key in ("source", "url", "dateline"):
        value = getattr(article, key)
        if value:
            doc[key] = value
    return doc


class Indexer:
    """Index files and folders into the index at ``index_dir``.

    >>> Indexer("index").run(["samples/"]).summary()  # doctest: +SKIP
    'indexed 1 / updated 0 / unchanged 0 / failed 0'
    """

    def __init__(self, index_dir: str, *, procs: int | None = None, batch_size: int = BATCH_SIZE) -> None:
        self.index_dir = index_dir
        self.ix = open_or_create(index_dir)
        self.procs = procs if procs is not None else min(2, os.cpu_count() or 1)
        self.batch_size = max(1, batch_size)
        self._lock_file: tuple[int, int, int] | None = None  # (fd, device, inode) while running

    def run(
        self,
        paths: list[str],
        *,
        prune: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> IndexReport:
        """Index ``paths``; ``progress`` is called with the bytes of each file read.

        Raises :class:`IndexLockedError` at once if another process is writing the index.
        """
        lock = write_lock(self.index_dir)
        if not lock.acquire(blocking=False):
            raise locked_error(self.index_dir)
        try:
            info = os.fstat(lock.fd)
            self._lock_file = (lock.fd, info.st_dev, info.st_ino)
            _record_pid(lock.fd, os.getpid())
            remove_stale_files(self.index_dir)
            return self._run(paths, prune=prune, progress=progress)
        finally:
            self._lock_file = None
            _record_pid(lock.fd, None)
            lock.release()

    def _run(self, paths: list[str], *, prune: bool, progress: Callable[[int], None] | None) -> IndexReport:
        report = IndexReport()
        files = list(iter_files(paths))
        seen_ids: dict[str, str] = {}
        ids_by_path: dict[str, set[str]] = {}
        clean_paths: set[str] = set()
        batch = _Batch(self, report)
        try:
            with self.ix.searcher() as searcher:
                digest_of = column_lookup(searcher.reader(), "digest")
                for path, supported in files:
                    if not supported:
                        report.skipped_files.append(path)
                        continue
                    ids: set[str] = set()
                    clean = True
                    # Part by part: the writer processes analyze the first articles of a
                    # file while this process parses the next (and finds their speakers).
                    for loaded in load_parts(path):
                        if loaded.encoding:
                            report.encodings[path] = loaded.encoding
                        self._collect(loaded, searcher, digest_of, report, seen_ids, batch)
                        ids.update(a.id for _, a in loaded.articles)
                        clean = clean and not loaded.errors
                    abspath = os.path.abspath(path)
                    ids_by_path[abspath] = ids
                    if clean:
                        clean_paths.add(abspath)
                    if progress:
                        progress(_size(path))
            batch.commit()
        except BaseException:
            batch.cancel()
            raise
        if prune:
            report.deleted = self._prune(ids_by_path, clean_paths)
        return report

    def _collect(self, loaded: LoadedFile, searcher, digest_of, report: IndexReport, seen_ids: dict[str, str], batch: _Batch) -> None:
        report.warnings.extend(loaded.warnings)
        for error in loaded.errors:
            report.failed += 1
            report.failures.append(error.message)
        for where, article in loaded.articles:
            first = seen_ids.get(article.id)
            if first is not None:
                report.failed += 1
                report.failures.append(f"{where}: duplicate id {article.id!r} (first seen at {first}); kept the first")
                continue
            seen_ids[article.id] = where
            digest = content_hash(article)
            docnum = searcher.document_number(id=article.id)
            if docnum is not None and digest_of(docnum) == bytes.fromhex(digest):
                report.unchanged += 1
                continue
            batch.add(article, digest, docnum is not None)

    def _writer(self, count: int):
        """A writer for ``count`` articles; the caller holds the write lock (see :meth:`run`)."""
        if count >= PARALLEL_MIN_BATCH and self.procs > 1:
            return ParallelWriter(self.ix, self.procs, self._lock_file, LIMIT_MB)
        return SegmentWriter(self.ix, limitmb=LIMIT_MB, _lk=False)

    def _prune(self, ids_by_path: dict[str, set[str]], clean_paths: set[str]) -> int:
        """Delete articles whose file is gone, or whose id vanished from a cleanly read file."""
        doomed: list[tuple[str, str]] = []
        with self.ix.searcher() as searcher:
            reader = searcher.reader()
            id_column = reader.column_reader("id") if reader.has_column("id") else None
            for raw in list(reader.lexicon("path")):
                path = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                if not os.path.exists(path):
                    doomed.append(("path", path))
                    continue
                if path in clean_paths:
                    keep = ids_by_path.get(path, set())
                    for docnum in searcher.document_numbers(path=path):
                        doc_id = id_column[docnum] if id_column else searcher.stored_fields(docnum)["id"]
                        if isinstance(doc_id, bytes):
                            doc_id = doc_id.decode("utf-8")
                        if doc_id not in keep:
                            doomed.append(("id", doc_id))
        if not doomed:
            return 0
        writer = self._writer(0)
        deleted = 0
        try:
            for fieldname, value in doomed:
                deleted += writer.delete_by_term(fieldname, value)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        return deleted


class _Batch:
    """New and changed articles on their way into the index, committed every ``batch_size``.

    The first :data:`PARALLEL_MIN_BATCH` are held back: a run that changes only a few
    articles writes them in this process at the end, without starting writer processes.
    Past that, the parallel writer starts and takes each article as it comes.
    """

    def __init__(self, indexer: Indexer, report: IndexReport) -> None:
        self.indexer, self.report = indexer, report
        self.held: list[tuple[Article, str, bool]] = []
        self.writer = None
        self.added: list[bool] = []  # per article in this batch: did it replace one?

    def add(self, article: Article, digest: str, exists: bool) -> None:
        self.added.append(exists)
        if self.writer is not None:
            self._add(article, digest, exists)
        else:
            self.held.append((article, digest, exists))
            if len(self.held) >= PARALLEL_MIN_BATCH and self.indexer.procs > 1:
                self._open(len(self.held))
        if len(self.added) >= self.indexer.batch_size:
            self.commit()

    def _open(self, count: int) -> None:
        self.writer = self.indexer._writer(count)
        held, self.held = self.held, []
        for article, digest, exists in held:
            self._add(article, digest, exists)

    def _add(self, article: Article, digest: str, exists: bool) -> None:
        doc = to_document(article, digest)
        if exists:
            self.writer.update_document(**doc)
        else:
            self.writer.add_document(**doc)

    def commit(self) -> None:
        if not self.added:
            return
        if self.writer is None:
            self._open(len(self.held))
        self.writer.commit()  # if it fails, the run's cancel() cancels it
        self.writer = None
        updated = sum(self.added)
        self.report.updated += updated
        self.report.indexed += len(self.added) - updated
        self.added = []

    def cancel(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.cancel()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _record_pid(fd: int, pid: int | None) -> None:
    """Write the lock holder's pid into the lock file (for the message a second run prints)."""
    try:
        os.ftruncate(fd, 0)
        if pid is not None:
            os.pwrite(fd, f"{pid}\n".encode("ascii"), 0)
    except OSError:
        pass


_TOC_TEMP = re.compile(rf"^_{INDEX_NAME}_[0-9]+\.toc\..+")


def remove_stale_files(index_dir: str) -> None:
    """Delete what a killed writer left behind: a half-written table of contents, its
    temporary folder, and segment files no committed table of contents refers to.

    Call only while holding the write lock (no live writer can own these files).
    """
    from whoosh.filedb.filestore import FileStorage

    storage = FileStorage(index_dir)
    for name in os.listdir(index_dir):
        path = os.path.join(index_dir, name)
        if _TOC_TEMP.match(name):
            try:
                os.remove(path)
            except OSError:
                pass
        elif name.endswith(".tmp") and os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
    toc = TOC.read(storage, INDEX_NAME)
    clean_files(storage, INDEX_NAME, toc.generation, toc.segments)


def index_paths(index_dir: str, paths: Iterable[str], **kwargs) -> IndexReport:
    return Indexer(index_dir).run(list(paths), **kwargs)


__all__ = ["Indexer", "IndexReport", "content_hash", "index_paths", "to_document"]

"""Writing a Whoosh index: the run's write lock, batches through Whoosh's multi-process writer.

A batch of :data:`PARALLEL_MIN_BATCH` articles or more goes to writer processes, a smaller
one is written in this process; either way each segment is written by
:class:`~search.backends.whoosh.internals.FastSegmentWriter` (Whoosh's segment writer keeping
postings by term: on the full corpus, 17 % less CPU and 37 % less peak memory than Whoosh's).

Crash safety: a run holds the index's write lock from start to end (a second
run fails at once, naming the process that holds it); a commit becomes
visible all at once (Whoosh writes the new table of contents to a temporary
file and renames it); the writer processes die with the indexer and never keep
its lock, and a batch whose writer process died is not committed. A run that
is killed leaves its partial files behind; the next run deletes them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Callable

from whoosh.index import TOC, clean_files

from search import dedup
from search.backends.base import WriteFailure, Writer
from search.backends.whoosh.groups import load_deduper
from search.backends.whoosh.store import INDEX_NAME, column_lookup, locked_error, write_lock
from search.backends.whoosh.internals import FastSegmentWriter, ParallelWriter
from search.errors import WriterProcessError  # noqa: F401 - raised by the parallel writer
from search.model import Article
from search.query.plan import BIGRAM_FIELDS

PARALLEL_MIN_BATCH = 400
LIMIT_MB = 512


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
                if lang == "zh":
                    doc[BIGRAM_FIELDS[f"{part}_zh"]] = text
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


class WhooshWriter(Writer):
    """One indexing run's exclusive access to the index folder (its write lock, held throughout)."""

    def __init__(self, backend, *, procs: int, dedup: bool = True) -> None:
        self.backend = backend
        self.dedup = dedup  # group near-duplicates (off only to measure what grouping costs)
        self._deduper = None  # the groups so far (search/dedup.py), loaded from the index at the first write
        self.ix = backend.ix
        self.index_dir = backend.index_dir
        self.procs = procs
        self._lock = None
        self._lock_file: tuple[int, int, int] | None = None  # (fd, device, inode) while running
        self._searcher = None
        self._digest_of = None
        self._held: list[tuple[Article, str, bool]] = []  # added, not yet given to a Whoosh writer
        self._batch_writer = None  # the Whoosh writer of the batch being added
        self._fingerprints: dedup.Fingerprinter | None = None  # the batch's, while grouping
        self._eager = False  # a first build of many articles: writer processes from the first article

    def __enter__(self) -> "WhooshWriter":
        lock = write_lock(self.index_dir)
        if not lock.acquire(blocking=False):
            raise locked_error(self.index_dir)
        self._lock = lock
        try:
            info = os.fstat(lock.fd)
            self._lock_file = (lock.fd, info.st_dev, info.st_ino)
            _record_pid(lock.fd, os.getpid())
            remove_stale_files(self.index_dir)
            # The index as the run found it: articles written by this run are not looked up again.
            self._searcher = self.ix.searcher()
            self._digest_of = column_lookup(self._searcher.reader(), "digest")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._close_fingerprints()
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        if self._lock is not None:
            self._lock_file = None
            _record_pid(self._lock.fd, None)
            self._lock.release()
            self._lock = None

    def digests(self, ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for article_id in ids:
            docnum = self._searcher.document_number(id=article_id)
            if docnum is not None:
                raw = self._digest_of(docnum)
                out[article_id] = raw.hex() if raw else ""
        return out

    def expect(self, articles: Callable[[], int]) -> None:
        """A first build (the index is empty) of at least :data:`PARALLEL_MIN_BATCH` articles
        starts the writer processes at the first article instead of after that many: they
        then work while this process parses the first files (the 6,000-article sample's
        whole command 0.2–0.7 s faster in six alternating pairs, of about 10 s). Other runs
        may change only a few of the articles they read, and are not counted."""
        self._eager = self.procs > 1 and self._searcher.doc_count_all() == 0 and articles() >= PARALLEL_MIN_BATCH

    def _writer(self, count: int):
        """A Whoosh writer for ``count`` articles (this run holds the write lock)."""
        if count >= PARALLEL_MIN_BATCH and self.procs > 1:
            return ParallelWriter(self.ix, self.procs, self._lock_file, LIMIT_MB)
        return FastSegmentWriter(self.ix, limitmb=LIMIT_MB, _lk=False)

    def add(self, article: Article, digest: str, exists: bool) -> None:
        """The first :data:`PARALLEL_MIN_BATCH` of a batch are held back: a run that changes
        only a few articles writes them in this process at commit, without starting writer
        processes. Past that, the parallel writer starts and takes each article as it comes."""
        if self._batch_writer is not None:
            self._add(article, digest, exists)
            return
        self._held.append((article, digest, exists))
        if self._eager:
            self._open(PARALLEL_MIN_BATCH)
        elif len(self._held) >= PARALLEL_MIN_BATCH and self.procs > 1:
            self._open(len(self._held))

    def _open(self, count: int) -> None:
        if self.dedup and self._deduper is None:
            # The index as the run found it (its searcher), read only once the run writes: a
            # run that changes nothing does not read every article's signatures (2.5 s of the
            # 15 s it took to re-read the 38,637 unchanged news articles).
            self._deduper = load_deduper(self._searcher.reader())
        self._batch_writer = self._writer(count)
        parallel = isinstance(self._batch_writer, ParallelWriter)
        if self._deduper is not None and (self._fingerprints is None or self._fingerprints.parallel != parallel):
            # A batch big enough for writer processes also fingerprints ahead in a helper process.
            self._close_fingerprints()
            self._fingerprints = dedup.Fingerprinter(self._deduper.translations, parallel)
        held, self._held = self._held, []
        for article, digest, exists in held:
            self._add(article, digest, exists)

    def _add(self, article: Article, digest: str, exists: bool) -> None:
        doc = to_document(article, digest)
        if self._deduper is None:
            self._write(doc, exists)
            return
        for (doc, exists, day), sigs, feats in self._fingerprints.push((doc, exists, dedup.day_of(article)), article):
            self._group(doc, exists, day, sigs, feats)

    def _group(self, doc: dict, exists: bool, day: int | None, sigs, feats) -> None:
        # Here, in this process and in add order: groups are decided one article at a time.
        doc["dup_group"] = self._deduper.add(doc["id"], sigs, day, feats)
        doc["dup_sig"] = dedup.encode(sigs, feats)
        self._write(doc, exists)

    def _write(self, doc: dict, exists: bool) -> None:
        if exists:
            self._batch_writer.update_document(**doc)
        else:
            self._batch_writer.add_document(**doc)

    def _close_fingerprints(self) -> None:
        if self._fingerprints is not None:
            fingerprints, self._fingerprints = self._fingerprints, None
            fingerprints.close()

    def commit(self) -> list[WriteFailure]:
        if self._batch_writer is None:
            if not self._held:
                return []
            self._open(len(self._held))
        try:
            if self._fingerprints is not None:
                for (doc, exists, day), sigs, feats in self._fingerprints.drain():
                    self._group(doc, exists, day, sigs, feats)
        except BaseException:
            self.cancel()
            raise
        writer, self._batch_writer = self._batch_writer, None
        try:
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        return []

    def cancel(self) -> None:
        self._held = []
        self._close_fingerprints()
        if self._batch_writer is not None:
            writer, self._batch_writer = self._batch_writer, None
            writer.cancel()

    def paths(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        with self.ix.searcher() as searcher:
            reader = searcher.reader()
            id_column = reader.column_reader("id") if reader.has_column("id") else None
            for raw in list(reader.lexicon("path")):
                path = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                ids = out.setdefault(path, set())
                for docnum in searcher.document_numbers(path=path):
                    doc_id = id_column[docnum] if id_column else searcher.stored_fields(docnum)["id"]
                    ids.add(doc_id.decode("utf-8") if isinstance(doc_id, bytes) else doc_id)
        return out

    def delete(self, ids: list[str]) -> int:
        if not ids:
            return 0
        writer = self._writer(0)
        deleted = 0
        try:
            for article_id in ids:
                deleted += writer.delete_by_term("id", article_id)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        return deleted


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

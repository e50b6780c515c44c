"""Add, replace and delete articles in the index, incrementally and in batches.

An article is unchanged when its ``version_key`` (id + content hash) is already
indexed, so re-running over the same folder only reads and hashes. Changed
articles are analyzed in worker processes (Whoosh's multiprocessing writer)
when a batch is large enough to pay for them, and every batch is committed on
its own, so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import timezone
from typing import Callable, Iterable

from whoosh.index import LockError

from search.errors import IndexLockedError
from search.ingest import LoadedFile, iter_files, load_file
from search.model import Article
from search.store import open_or_create

BATCH_SIZE = 5000
PARALLEL_MIN_BATCH = 400


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
        "version_key": f"{article.id}\x1f{digest}",
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
        doc["date"] = article.date.astimezone(timezone.utc).replace(tzinfo=None)
        doc["date_iso"] = article.date.isoformat()
    # Column fields get a value on every document: Whoosh's column readers fail on a
    # segment whose last documents have none.
    doc["day"] = int(article.date.strftime("%Y%m%d")) if article.date else 0
    doc["speakers_column"] = b""
    if article.speakers:
        doc["speakers"] = ",".join(sp.id for sp in article.speakers)
        doc["speakers_data"] = [sp.to_dict() for sp in article.speakers]
        doc["speakers_column"] = json.dumps(doc["speakers_data"], ensure_ascii=False).encode("utf-8")
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

    def __init__(self, index_dir: str, *, procs: int | None = None) -> None:
        self.index_dir = index_dir
        self.ix = open_or_create(index_dir)
        self.procs = procs if procs is not None else min(2, os.cpu_count() or 1)

    def run(
        self,
        paths: list[str],
        *,
        prune: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> IndexReport:
        """Index ``paths``; ``progress`` is called with the bytes of each file read."""
        report = IndexReport()
        files = list(iter_files(paths))
        seen_ids: dict[str, str] = {}
        ids_by_path: dict[str, set[str]] = {}
        clean_paths: set[str] = set()
        pending: list[tuple[Article, str, bool]] = []  # (article, digest, exists)
        with self.ix.searcher() as searcher:
            for path, supported in files:
                if not supported:
                    report.skipped_files.append(path)
                    continue
                loaded = load_file(path)
                if loaded.encoding:
                    report.encodings[path] = loaded.encoding
                self._collect(loaded, searcher, report, seen_ids, pending)
                abspath = os.path.abspath(path)
                ids_by_path[abspath] = {a.id for _, a in loaded.articles}
                if not loaded.errors:
                    clean_paths.add(abspath)
                if len(pending) >= BATCH_SIZE:
                    self._write(pending, report)
                    pending = []
                if progress:
                    progress(_size(path))
        if pending:
            self._write(pending, report)
        if prune:
            report.deleted = self._prune(ids_by_path, clean_paths)
        return report

    def _collect(self, loaded: LoadedFile, searcher, report: IndexReport, seen_ids: dict[str, str], pending: list) -> None:
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
            if searcher.document_number(version_key=f"{article.id}\x1f{digest}") is not None:
                report.unchanged += 1
                continue
            exists = searcher.document_number(id=article.id) is not None
            pending.append((article, digest, exists))

    def _writer(self, count: int):
        try:
            if count >= PARALLEL_MIN_BATCH and self.procs > 1:
                return self.ix.writer(procs=self.procs, multisegment=True, limitmb=256)
            return self.ix.writer(limitmb=256)
        except LockError as exc:
            raise IndexLockedError(
                f"the index at {self.index_dir!r} is being written by another process; wait for it to finish",
                param="index",
            ) from exc

    def _write(self, pending: list[tuple[Article, str, bool]], report: IndexReport) -> None:
        writer = self._writer(len(pending))
        try:
            for article, digest, exists in pending:
                doc = to_document(article, digest)
                if exists:
                    writer.update_document(**doc)
                else:
                    writer.add_document(**doc)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        for _, _, exists in pending:
            if exists:
                report.updated += 1
            else:
                report.indexed += 1

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


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def index_paths(index_dir: str, paths: Iterable[str], **kwargs) -> IndexReport:
    return Indexer(index_dir).run(list(paths), **kwargs)


__all__ = ["Indexer", "IndexReport", "content_hash", "index_paths", "to_document"]

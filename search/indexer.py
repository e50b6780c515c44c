"""Add, replace and delete articles in the index, incrementally and in batches.

An article is unchanged when the index holds its id with the same input hash (its
fields as read, and the version of what finds speakers) or, failing that, the same
content hash (speakers found included), so re-running over the same folder only
reads and hashes, without looking for speakers again. Changed articles go to
the backend in batches (analyzed in worker processes when a batch is large enough
to pay for them), and every batch is committed on its own, so an interrupted run
keeps what it finished. The backend's writer holds exclusive write access for the
whole run (see :mod:`search.backends.whoosh.indexing` for the Whoosh folder's
crash safety).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Callable, Iterable

from search.backends.base import BackendConfig, Writer, open_backend
from search.ingest import LoadedFile, iter_files
from search.ingest.loader import load_parts, with_speakers
from search.ingest.speakers import fingerprint as speakers_fingerprint
from search.model import Article
from search.processes import bulk_collections

BATCH_SIZE = 20_000


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
    notes: list[str] = field(default_factory=list)  # what the storage did at the end (a merge)
    encodings: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        line = f"indexed {self.indexed} / updated {self.updated} / unchanged {self.unchanged} / failed {self.failed}"
        if self.deleted:
            line += f" / deleted {self.deleted}"
        if self.skipped_files:
            line += f" ({len(self.skipped_files)} files of unsupported type skipped)"
        return line


def content_hash(article: Article) -> str:
    """The hash of everything stored of an article, its speakers included (32 hex digits)."""
    return _digest(_encoded(article))


def input_hash(article: Article) -> str:
    """The hash of an article as read, before its speakers are looked for: its fields, the
    speakers its input named (if any), and what would find the others
    (:func:`search.ingest.speakers.fingerprint`). An article whose input hash is the stored
    one is current: finding its speakers again (three fifths of re-reading an unchanged
    folder) would find the same ones."""
    return _input_digest(_encoded(article))


def _input_digest(encoded: bytes) -> str:
    """:func:`input_hash` of an article :func:`_encoded` gave."""
    return _digest(encoded + b"\0" + speakers_fingerprint().encode("ascii"))


def _encoded(article: Article) -> bytes:
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
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


#: Hex digits of each hash in a stored digest: the content hash, then the input hash (an index
#: written before input hashes holds the content hash alone).
HASH_CHARS = 32


class Indexer:
    """Index files and folders into the index at ``index_dir`` (or the one ``config`` names).

    >>> Indexer("index").run(["samples/"]).summary()  # doctest: +SKIP
    'indexed 1 / updated 0 / unchanged 0 / failed 0'
    """

    def __init__(
        self,
        index_dir: str | None = None,
        *,
        procs: int | None = None,
        batch_size: int = BATCH_SIZE,
        config: BackendConfig | None = None,
        dedup: bool = True,
        merge: bool = True,
    ) -> None:
        self.config = config = BackendConfig.resolve(index_dir, config)
        self.index_dir = config.index_dir
        self.backend = open_backend(config, create=True)
        self.procs = procs if procs is not None else min(2, os.cpu_count() or 1)
        self.batch_size = max(1, batch_size)
        self.dedup = dedup  # group near-duplicates (off only to measure what grouping costs)
        self.merge = merge  # let the storage merge its segments after a large run (Writer.finish)

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
        with bulk_collections(), self.backend.writer(procs=self.procs, batch_size=self.batch_size, dedup=self.dedup) as writer:
            return self._run(writer, paths, prune=prune, progress=progress)

    def _run(self, writer: Writer, paths: list[str], *, prune: bool, progress: Callable[[int], None] | None) -> IndexReport:
        report = IndexReport()
        files = list(iter_files(paths))
        seen_ids: dict[str, str] = {}
        ids_by_path: dict[str, set[str]] = {}
        clean_paths: set[str] = set()
        batch = _Batch(writer, report, self.batch_size)
        writer.expect(lambda: sum(_articles_in(path) for path, supported in files if supported))
        try:
            for path, supported in files:
                if not supported:
                    report.skipped_files.append(path)
                    continue
                ids: set[str] = set()
                clean = True
                # Part by part: the backend may store (analyze) the first articles of a file
                # while this process parses the next (and finds their speakers).
                for loaded in load_parts(path, speakers=False):
                    if loaded.encoding:
                        report.encodings[path] = loaded.encoding
                    self._collect(loaded, writer, report, seen_ids, batch)
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
            writer.cancel()
            raise
        if prune:
            report.deleted = self._prune(writer, ids_by_path, clean_paths)
        notes, warnings = writer.finish(self.merge)
        report.notes += notes
        report.warnings += warnings
        return report

    def _collect(self, loaded: LoadedFile, writer: Writer, report: IndexReport, seen_ids: dict[str, str], batch: "_Batch") -> None:
        report.warnings.extend(loaded.warnings)
        for error in loaded.errors:
            report.failed += 1
            report.failures.append(error.message)
        fresh: list[tuple[str, Article]] = []
        for where, article in loaded.articles:
            first = seen_ids.get(article.id)
            if first is not None:
                report.failed += 1
                report.failures.append(f"{where}: duplicate id {article.id!r} (first seen at {first}); kept the first")
                continue
            seen_ids[article.id] = where
            fresh.append((where, article))
        stored = writer.digests([article.id for _, article in fresh]) if fresh else {}
        for where, article in fresh:
            found = stored.get(article.id)
            encoded = _encoded(article)
            given = _input_digest(encoded)
            if found is not None and found[HASH_CHARS:] == given:
                report.unchanged += 1  # same input, same speaker finder: nothing to look for
                continue
            try:
                with_found = with_speakers(article)
            except Exception as exc:  # the speaker rules failing on hostile text: this article fails alone
                report.failed += 1
                report.failures.append(f"{where}: cannot be read as an article ({type(exc).__name__}: {str(exc)[:200]})")
                continue
            # No speaker found (or named by the input): the content is what was encoded
            digest = _digest(encoded) if with_found is article else content_hash(with_found)
            article = with_found
            if found is not None and found[:HASH_CHARS] == digest:
                # Stored by an older version (no input hash, or another speaker finder) and the
                # same: it stays as it is (rewriting it to store the input hash would re-analyze it).
                report.unchanged += 1
                continue
            batch.add(article, digest + given, found is not None)

    def _prune(self, writer: Writer, ids_by_path: dict[str, set[str]], clean_paths: set[str]) -> int:
        """Delete articles whose file is gone, or whose id vanished from a cleanly read file."""
        doomed: list[str] = []
        for path, ids in writer.paths().items():
            if not os.path.exists(path):
                doomed.extend(sorted(ids))
            elif path in clean_paths:
                keep = ids_by_path.get(path, set())
                doomed.extend(sorted(ids - keep))
        return writer.delete(doomed) if doomed else 0


class _Batch:
    """New and changed articles on their way to the backend, committed every ``size`` articles."""

    def __init__(self, writer: Writer, report: IndexReport, size: int) -> None:
        self.writer, self.report, self.size = writer, report, size
        # This batch's articles as (id, path, replaced one?): not the articles themselves, whose
        # texts (20,000 of them) the writer has already taken.
        self.added: list[tuple[str, str | None, bool]] = []

    def add(self, article: Article, digest: str, exists: bool) -> None:
        self.writer.add(article, digest, exists)
        self.added.append((article.id, article.path, exists))
        if len(self.added) >= self.size:
            self.commit()

    def commit(self) -> None:
        if not self.added:
            return
        failed = {failure.article_id: failure.reason for failure in self.writer.commit()}
        for article_id, path, exists in self.added:
            reason = failed.get(article_id)
            if reason is not None:
                self.report.failed += 1
                where = f"{path}: " if path else ""
                self.report.failures.append(f"{where}article {article_id!r} was not stored: {reason}")
            elif exists:
                self.report.updated += 1
            else:
                self.report.indexed += 1
        self.added = []


def _articles_in(path: str) -> int:
    """About how many articles ``path`` holds: a JSON Lines file's lines (counted in 1 MB
    blocks, ~20 ms for the 54 MB news corpus), one for any other file."""
    if not path.lower().endswith(".jsonl"):
        return 1
    lines = 0
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
    except OSError:
        return 1  # reading it will report the error
    return lines


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def index_paths(index_dir: str, paths: Iterable[str], **kwargs) -> IndexReport:
    return Indexer(index_dir).run(list(paths), **kwargs)


__all__ = ["BATCH_SIZE", "HASH_CHARS", "Indexer", "IndexReport", "content_hash", "index_paths", "input_hash"]

"""Speakers found in a helper process, a few parts of a JSON Lines file ahead of the indexer.

Finding who is quoted is the costliest step of reading an article (half of the reading
process's time on the news corpus, English stories most), and the reading process also hashes,
groups near-duplicates and feeds the writer processes in order: on English stories it was what
the writers waited for. Here it parses the next parts while a helper finds the speakers of
the parts before; the articles come back in order, as :func:`~search.ingest.loader.load_parts`
gives them.

>>> with SpeakerHelper() as helper:  # doctest: +SKIP
...     for part in helper.parts("news.jsonl"):
...         ...
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator

from search.errors import IngestError, WriterProcessError
from search.ingest.loader import LoadedFile, load_parts, with_speakers
from search.model import Article
from search.processes import worker_of

#: A file smaller than this is read in this process: the helper would cost more than it saves.
MIN_BYTES = 1 << 20


class SpeakerHelper:
    """One helper process finding speakers; ``parts(path)`` is ``load_parts(path)`` with them."""

    AHEAD = 4  # parts in flight (256 records each)

    def __init__(self) -> None:
        # fork: the helper starts with the name tables this process has loaded; one that dies
        # breaks the pool (BrokenProcessPool) instead of leaving a part waited for ever.
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("fork"), initializer=worker_of, initargs=(os.getpid(),)
        )

    def __enter__(self) -> "SpeakerHelper":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def parts(self, path: str) -> Iterator[LoadedFile]:
        flight: deque[tuple[LoadedFile, Future | None]] = deque()
        for loaded in load_parts(path, speakers=False):
            flight.append((loaded, self._submit(loaded)))
            if len(flight) > self.AHEAD:
                yield _finish(*flight.popleft())
        while flight:
            yield _finish(*flight.popleft())

    def _submit(self, loaded: LoadedFile) -> Future | None:
        if not loaded.articles:
            return None
        try:
            return self._pool.submit(_find_speakers, [article for _, article in loaded.articles])
        except BrokenProcessPool as error:
            raise _died() from error

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _finish(loaded: LoadedFile, future: Future | None) -> LoadedFile:
    """The part with each article's speakers; an article whose extraction failed becomes an
    error of its line, as when the speakers are found while parsing."""
    if future is None:
        return loaded
    try:
        found = future.result()
    except BrokenProcessPool as error:
        raise _died() from error
    articles = []
    for (where, _), result in zip(loaded.articles, found):
        if isinstance(result, str):
            loaded.errors.append(IngestError(f"{where}: cannot be read as an article ({result})", param=loaded.path))
        else:
            articles.append((where, result))
    loaded.articles = articles
    return loaded


def _find_speakers(articles: list[Article]) -> list[Article | str]:
    out: list[Article | str] = []
    for article in articles:
        try:
            out.append(with_speakers(article))
        except Exception as exc:  # as _jsonl_items reports it: this article fails, the run goes on
            out.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    return out


def _died() -> WriterProcessError:
    return WriterProcessError("a helper process died (the one finding speakers); nothing of this batch was committed: run the same command again")

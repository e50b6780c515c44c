"""Walk files and folders, read each supported file into articles."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from search.errors import IngestError
from search.ingest.detect import decode
from search.ingest.jsonl import parse_jsonl
from search.ingest.speakers import extract_speakers
from search.ingest.text import parse_text
from search.model import Article

SUPPORTED_SUFFIXES = (".jsonl", ".txt", ".html", ".htm")

#: Larger single files are refused rather than read into memory.
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass
class LoadedFile:
    path: str
    encoding: str | None = None
    articles: list[tuple[str, Article]] = field(default_factory=list)  # (where, article)
    errors: list[IngestError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def iter_files(paths: list[str]) -> Iterator[tuple[str, bool]]:
    """Yield ``(path, supported)`` for every file under ``paths``, sorted, folders recursed.

    Raises :class:`IngestError` for a path that does not exist.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith("."):
                        continue
                    full = os.path.join(root, name)
                    yield full, name.lower().endswith(SUPPORTED_SUFFIXES)
        elif path.is_file():
            yield str(path), path.name.lower().endswith(SUPPORTED_SUFFIXES)
        else:
            raise IngestError(f"{raw}: no such file or folder", param=raw)


def load_file(path: str) -> LoadedFile:
    """Read one file; problems become ``errors`` on the result, never exceptions."""
    loaded = LoadedFile(path=path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise IngestError(f"{path}: file is {size // (1024 * 1024)} MB, over the {MAX_FILE_BYTES // (1024 * 1024)} MB limit", param=path)
        with open(path, "rb") as handle:
            data = handle.read()
        if not data.strip():
            raise IngestError(f"{path}: empty file", param=path)
        text, loaded.encoding = decode(data, path)
    except IngestError as exc:
        loaded.errors.append(exc)
        return loaded
    except OSError as exc:
        loaded.errors.append(IngestError(f"{path}: cannot read ({exc.strerror})", param=path))
        return loaded
    if path.lower().endswith(".jsonl"):
        for lineno, item in parse_jsonl(text, path):
            if isinstance(item, IngestError):
                loaded.errors.append(item)
            else:
                loaded.articles.append((f"{path}:{lineno}", item))
    else:
        if path.lower().endswith((".html", ".htm")):
            from search.ingest.html import parse_html

            article, warnings = parse_html(text, Path(path).stem, path=path)
        else:
            article, warnings = parse_text(text, Path(path).stem, path=path)
        if not article.body and not article.title:
            loaded.errors.append(IngestError(f"{path}: no Chinese or English text found", param=path))
        else:
            loaded.warnings.extend(warnings)
            loaded.articles.append((path, article))
    loaded.articles = [(where, with_speakers(article)) for where, article in loaded.articles]
    return loaded


def with_speakers(article: Article) -> Article:
    """The article with the people quoted in it (unless the input already named them)."""
    if article.speakers:
        return article
    speakers = extract_speakers(article.body)
    return replace(article, speakers=tuple(speakers)) if speakers else article

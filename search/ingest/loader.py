"""Walk files and folders, read each supported file into articles."""

from __future__ import annotations

import codecs
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from search.errors import IngestError
from search.ingest.detect import decode
from search.ingest.jsonl import article_from_record
from search.ingest.speakers import extract_speakers
from search.ingest.text import parse_text
from search.model import Article

SUPPORTED_SUFFIXES = (".jsonl", ".txt", ".html", ".htm")

#: Larger single files are refused rather than read into memory.
MAX_FILE_BYTES = 512 * 1024 * 1024
#: Longest article (title, body and captions, both languages, in characters); the longest
#: story in the bundled evaluation corpora has about 21,000. Longer ones are refused: every
#: search that matched one would build its snippets from the whole text.
MAX_ARTICLE_CHARS = 200_000
#: A one-article file (text page, HTML) with more text than this is refused without parsing.
MAX_PAGE_CHARS = {".txt": MAX_ARTICLE_CHARS * 2, ".htm": MAX_ARTICLE_CHARS * 20, ".html": MAX_ARTICLE_CHARS * 20}

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


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


#: JSON Lines records per part of :func:`load_parts`: the first part is :data:`FIRST_PART_LINES`
#: records and each next one twice the last, up to :data:`PART_LINES`.
PART_LINES = 256
FIRST_PART_LINES = 16


def load_file(path: str) -> LoadedFile:
    """Read one file; problems become ``errors`` on the result, never exceptions."""
    whole = LoadedFile(path=path)
    for part in load_parts(path):
        whole.encoding = whole.encoding or part.encoding
        whole.articles += part.articles
        whole.errors += part.errors
        whole.warnings += part.warnings
    return whole


def load_parts(path: str, lines_per_part: int = PART_LINES, *, speakers: bool = True) -> Iterator[LoadedFile]:
    """:func:`load_file` in parts of up to ``lines_per_part`` JSONL records (one part for other
    files), so that indexing can work on the first articles while the next are parsed.
    ``speakers=False`` leaves finding the people quoted to the caller (:func:`with_speakers`):
    the indexer does it only for articles the index does not already hold as they are.

    The first parts are small (:data:`FIRST_PART_LINES`, then doubling): the writer processes
    start with the first article handed over, and a first part of 256 records kept them
    waiting while this process parsed them and found their speakers."""
    loaded = LoadedFile(path=path)
    is_jsonl = path.lower().endswith(".jsonl")
    lines: list[str | UnicodeDecodeError] | None = None
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise IngestError(f"{path}: file is {size // (1024 * 1024)} MB, over the {MAX_FILE_BYTES // (1024 * 1024)} MB limit", param=path)
        with open(path, "rb") as handle:
            data = handle.read()
        if not data.strip():
            raise IngestError(f"{path}: empty file", param=path)
        if is_jsonl:
            lines = _utf8_lines(data)
        if lines is None:
            text, loaded.encoding = decode(data, path)
        else:
            loaded.encoding = "utf-8"
    except IngestError as exc:
        loaded.errors.append(exc)
        yield loaded
        return
    except OSError as exc:
        loaded.errors.append(IngestError(f"{path}: cannot read ({exc.strerror})", param=path))
        yield loaded
        return
    if is_jsonl:
        del data  # the lines hold the text now
        count = 0
        part_lines = min(FIRST_PART_LINES, lines_per_part)
        for lineno, item, warnings in _jsonl_items(lines if lines is not None else text.split("\n"), path, speakers):
            loaded.warnings.extend(warnings)
            if isinstance(item, IngestError):
                loaded.errors.append(item)
            else:
                loaded.articles.append((f"{path}:{lineno}", item))
            count += 1
            if count >= part_lines:
                yield loaded
                loaded, count = LoadedFile(path=path, encoding=loaded.encoding), 0
                part_lines = min(2 * part_lines, lines_per_part)
        if count or not (loaded.articles or loaded.errors):
            yield loaded
        return
    suffix = os.path.splitext(path)[1].lower()
    limit = MAX_PAGE_CHARS.get(suffix, MAX_ARTICLE_CHARS)
    if len(text) > limit:
        loaded.errors.append(
            IngestError(f"{path}: {len(text):,} characters of text, over the limit of {MAX_ARTICLE_CHARS:,} for one article; split it", param=path)
        )
        yield loaded
        return
    try:
        if suffix in (".html", ".htm"):
            from search.ingest.html import parse_html

            article, warnings = parse_html(text, Path(path).stem, path=path)
        else:
            article, warnings = parse_text(text, Path(path).stem, path=path)
        if not article.body and not article.title:
            raise IngestError(f"{path}: no Chinese or English text found", param=path)
        _check_length(article, path)
        if speakers:
            article = with_speakers(article)
    except IngestError as exc:
        loaded.errors.append(exc)
        yield loaded
        return
    except Exception as exc:  # a parser failing on hostile input: this file fails, the run goes on
        loaded.errors.append(IngestError(f"{path}: cannot be parsed ({type(exc).__name__}: {str(exc)[:200]})", param=path))
        yield loaded
        return
    loaded.warnings.extend(warnings)
    loaded.articles.append((path, article))
    yield loaded


def _utf8_lines(data: bytes) -> list[str | UnicodeDecodeError] | None:
    """The lines of a UTF-8 JSONL file in which some lines are not valid UTF-8 (each such line
    is a :class:`UnicodeDecodeError`), or ``None`` when the file is not that: valid UTF-8
    throughout, UTF-16, or with more lines in another encoding (GB18030, Big5: decoded as a
    whole) than non-ASCII lines in UTF-8."""
    if data.startswith(_BOMS) or b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    lines: list[str | UnicodeDecodeError] = []
    good_non_ascii = bad = 0
    for raw in data.split(b"\n"):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            lines.append(exc)
            bad += 1
            continue
        good_non_ascii += not raw.isascii()
        lines.append(line)
    return lines if good_non_ascii and good_non_ascii >= bad else None


def _jsonl_items(lines: list[str | UnicodeDecodeError], path: str, speakers: bool = True) -> Iterator[tuple[int, Article | IngestError, list[str]]]:
    """``(line number, Article or IngestError, warnings)`` per non-blank line.

    Lines are split at ``\\n`` only: U+2028, U+0085 and the like are legal inside JSON
    strings and must not cut a record in two.
    """
    for lineno, line in enumerate(lines, start=1):
        where = f"{path}:{lineno}"
        if isinstance(line, UnicodeDecodeError):
            yield lineno, IngestError(f"{where}: not valid UTF-8 ({line.reason} at byte {line.start + 1} of the line); line skipped", param=path), []
            continue
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, IngestError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})", param=path), []
            continue
        except RecursionError:
            yield lineno, IngestError(f"{where}: invalid JSON (nested too deeply)", param=path), []
            continue
        try:
            article, warnings = article_from_record(record, where, path=path)
            _check_length(article, where)
            yield lineno, with_speakers(article) if speakers else article, warnings
        except IngestError as exc:
            yield lineno, exc, []
        except Exception as exc:
            yield lineno, IngestError(f"{where}: cannot be read as an article ({type(exc).__name__}: {str(exc)[:200]})", param=path), []


def _check_length(article: Article, where: str) -> None:
    length = sum(len(article.text(part, lang) or "") for part in ("title", "body", "captions") for lang in ("zh", "en"))
    if length > MAX_ARTICLE_CHARS:
        raise IngestError(
            f"{where}: article {article.id!r} has {length:,} characters, over the limit of {MAX_ARTICLE_CHARS:,} for one article; split it",
            param=article.path,
        )


def with_speakers(article: Article) -> Article:
    """The article with the people quoted in it (unless the input already named them)."""
    if article.speakers:
        return article
    speakers = extract_speakers(article.body)
    return replace(article, speakers=tuple(speakers)) if speakers else article

"""JSON Lines records → articles: ``id``, ``title``, ``body`` (string or ``{"zh","en"}``), optional metadata.

Splitting the file into lines (and reporting a broken line with its number) is the
loader's job; this module checks one decoded record.
"""

from __future__ import annotations

import json

from search.errors import IngestError
from search.ingest.dates import iso_date
from search.ingest.language import language_of
from search.model import Article

_OPTIONAL_STR = ("source", "url", "dateline")


def article_from_record(record: object, where: str, *, path: str | None = None) -> tuple[Article, list[str]]:
    """The article of one record, and warnings (a date that is not ISO 8601 is left out, not guessed).

    >>> article, warnings = article_from_record({"id": 1, "body": "Text", "date": "May"}, "a.jsonl:3")
    >>> article.date, warnings
    (None, ['a.jsonl:3: date "May" is not ISO 8601 (YYYY-MM-DD, optionally THH:MM:SS and a zone); indexed without a date'])
    """
    if not isinstance(record, dict):
        raise IngestError(f"{where}: expected a JSON object, got {type(record).__name__}", param=path)
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or str(raw_id).strip() == "":
        raise IngestError(f"{where}: missing or empty \"id\" (a non-empty string is required)", param=path)
    title = _bilingual(record.get("title"), "title", where, path)
    body = _bilingual(record.get("body"), "body", where, path)
    if not any(body.values()) and not any(title.values()):
        raise IngestError(f"{where}: article {raw_id!r} has neither title nor body", param=path)
    meta: dict[str, str | None] = {}
    for key in _OPTIONAL_STR:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise IngestError(f"{where}: \"{key}\" must be a string, got {type(value).__name__}", param=path)
        meta[key] = value or None
    date_value = record.get("date")
    date = iso_date(date_value) if isinstance(date_value, str) else None
    warnings = []
    if date is None and date_value not in (None, ""):
        shown = json.dumps(date_value, ensure_ascii=False)[:80]
        warnings.append(f"{where}: date {shown} is not ISO 8601 (YYYY-MM-DD, optionally THH:MM:SS and a zone); indexed without a date")
    article = Article(
        id=str(raw_id).strip(),
        title=title,
        body=body,
        date=date,
        source=meta["source"],
        url=meta["url"],
        dateline=meta["dateline"],
        path=path,
    )
    return article, warnings


def _bilingual(value: object, key: str, where: str, path: str | None) -> dict[str, str | None]:
    """A string goes to the language its letters say; a ``{"zh","en"}`` object is taken as is."""
    if value is None:
        return {}
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return {}
        return {language_of(text) or "en": text}
    if isinstance(value, dict):
        out: dict[str, str | None] = {}
        for lang, text in value.items():
            if lang not in ("zh", "en"):
                raise IngestError(f"{where}: \"{key}\" has unknown language {lang!r} (use \"zh\" and \"en\")", param=path)
            if text is not None and not isinstance(text, str):
                raise IngestError(f"{where}: \"{key}.{lang}\" must be a string", param=path)
            if text and text.strip():
                out[lang] = text.strip()
        return out
    raise IngestError(f"{where}: \"{key}\" must be a string or an object with \"zh\"/\"en\", got {type(value).__name__}", param=path)

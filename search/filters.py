"""Search options beside the query text: date range, speaker, language, sort, translation.

One validator for every front end: CLI options and API parameters arrive as
strings and become a :class:`SearchFilters`, or a :class:`QueryError` naming
the parameter.

>>> SearchFilters.from_params({"from": "2024-10-01", "to": "2024-10-31", "sort": "date"}).date_to
datetime.date(2024, 10, 31)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

from search.errors import QueryError

SORTS = ("relevance", "date")
LANG_FILTERS = ("zh", "en")

#: Parameter name → what it means (documented in the API and checked by a test).
PARAMS = {
    "from": "earliest publication date, ISO YYYY-MM-DD (inclusive)",
    "to": "latest publication date, ISO YYYY-MM-DD (inclusive)",
    "speaker": "only articles quoting this person; any alias in any script (Putin = 普京)",
    "lang": "only articles with text in this language: zh or en",
    "sort": "relevance (default) or date (newest first)",
    "translate": "true (default) or false: also search the query's translations in the other language",
    "collapse": "true (default) or false: one hit per story, its near-duplicates and other-script copies listed with it",
}


@dataclass(frozen=True)
class SearchFilters:
    date_from: date | None = None
    date_to: date | None = None
    speaker: str | None = None
    lang: str | None = None
    sort: str = "relevance"
    translate: bool = True
    collapse: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> "SearchFilters":
        date_from = _date(params.get("from"), "from")
        date_to = _date(params.get("to"), "to")
        if date_from and date_to and date_from > date_to:
            raise QueryError(f"from ({date_from}) is after to ({date_to})", param="from")
        speaker = params.get("speaker")
        if speaker is not None:
            speaker = str(speaker).strip()
            if len(speaker) > 100:
                raise QueryError("speaker must be at most 100 characters", param="speaker")
            speaker = speaker or None
        lang = params.get("lang")
        if lang in ("", "both", None):
            lang = None
        elif lang not in LANG_FILTERS:
            raise QueryError(f"lang must be zh, en or both, got {str(lang)[:20]!r}", param="lang")
        sort = params.get("sort") or "relevance"
        if sort not in SORTS:
            raise QueryError(f"sort must be relevance or date, got {str(sort)[:20]!r}", param="sort")
        translate = _bool(params.get("translate"), "translate", default=True)
        collapse = _bool(params.get("collapse"), "collapse", default=True)
        return cls(date_from, date_to, speaker, lang, str(sort), translate, collapse)

    @property
    def active(self) -> dict[str, str]:
        """The filters in effect, for reporting back to the user."""
        out: dict[str, str] = {}
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.speaker:
            out["speaker"] = self.speaker
        if self.lang:
            out["lang"] = self.lang
        return out


def _date(value: object, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name} must be a date as YYYY-MM-DD, got {text[:30]!r}", param=name) from None


def _bool(value: object, name: str, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise QueryError(f"{name} must be true or false, got {text[:20]!r}", param=name)

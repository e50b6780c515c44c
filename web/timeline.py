"""The search page's timeline: matches per day, month or year as bars, each bar a link setting
the date range (``from``/``to``); ``web/static/app.js`` adds dragging across bars.

Drawn on the server as an HTML list of links whose heights are CSS classes (``h1``…``h24``:
the Content-Security-Policy allows no inline style), so it needs no script and no chart library.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

from markupsafe import Markup, escape

#: More months than this are drawn as years (Reuters 1987 and 2024 news on one axis).
MAX_MONTH_BARS = 120
LEVELS = 24  # bar heights: classes h1 … h24 in style.css


def _months(first: tuple[int, int], last: tuple[int, int]):
    year, month = first
    while (year, month) <= last:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def periods(facets: dict) -> tuple[str, list[tuple[str, str, str, int]]]:
    """The unit (``day``, ``month`` or ``year``) and every period from the first match to the
    last as ``(start, end, label, count)``, empty periods included."""
    days = facets.get("days") or []
    months = facets.get("months") or []
    if days:
        counts = {item["day"]: item["count"] for item in days}
        first, last = date.fromisoformat(days[0]["day"]), date.fromisoformat(days[-1]["day"])
        spans = [first + timedelta(n) for n in range((last - first).days + 1)]
        return "day", [(d.isoformat(), d.isoformat(), d.isoformat(), counts.get(d.isoformat(), 0)) for d in spans]
    if not months:
        return "month", []
    counts = {item["month"]: item["count"] for item in months}
    first = tuple(int(x) for x in months[0]["month"].split("-"))
    last = tuple(int(x) for x in months[-1]["month"].split("-"))
    # Counted, not listed: a span of decades would list some 300 months only to draw years.
    if (last[0] - first[0]) * 12 + last[1] - first[1] < MAX_MONTH_BARS:
        spans = [_month(year, month) for year, month in _months(first, last)]
        return "month", [(start, end, label, counts.get(label, 0)) for start, end, label in spans]
    per_year: dict[int, int] = {}
    for key, count in counts.items():
        per_year[int(key[:4])] = per_year.get(int(key[:4]), 0) + count
    return "year", [(*_year(y), per_year.get(y, 0)) for y in range(first[0], last[0] + 1)]


@lru_cache(maxsize=4096)  # the same months come back page after page
def _month(year: int, month: int) -> tuple[str, str, str]:
    label = f"{year:04d}-{month:02d}"
    return f"{label}-01", f"{label}-{calendar.monthrange(year, month)[1]:02d}", label


@lru_cache(maxsize=1024)
def _year(year: int) -> tuple[str, str, str]:
    return f"{year:04d}-01-01", f"{year:04d}-12-31", f"{year:04d}"


def timeline_view(facets: dict, state) -> dict | None:
    """What ``_timeline.html`` draws, or ``None`` when no match is dated."""
    unit, found = periods(facets)
    if not found:
        return None
    top = max(count for *_, count in found) or 1
    low, high = state.get("from"), state.get("to")
    dates_url = state.url_maker("from", "to")
    return {
        "unit": unit,
        "bars": len(found),
        "cells": Markup("".join(_cell(start, end, label, count, top, low, high, dates_url) for start, end, label, count in found)),
        "first": found[0][2],
        "last": found[-1][2],
        "top": top,
        "clear_url": state.url({"from": None, "to": None}) if (low or high) else None,
    }


def _cell(start: str, end: str, label: str, count: int, top: int, low: str, high: str, dates_url) -> str:
    """A bar of the chart as an ``<li>``: written here, not in ``_timeline.html``: a page has up to 120 of
    them, and a Jinja loop costs several times this. Dates and labels are digits and dashes (no escaping)."""
    in_range = ' class="in-range"' if (low or high) and (not low or end >= low) and (not high or start <= high) else ""
    link = ""
    if count:  # an empty bar is no link
        active = low == start and high == end  # the date filter is exactly this period: the link clears it
        url = dates_url(None, None) if active else dates_url(start, end)
        current = ' aria-current="true"' if active else ""
        what = "article" if count == 1 else "articles"
        link = f'<a href="{escape(url)}" class="bar h{max(1, round(count / top * LEVELS))}" aria-label="{label}: {count} {what}"{current}></a>'
    return f'\n    <li data-from="{start}" data-to="{end}"{in_range}>{link}</li>'

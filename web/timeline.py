"""The search page's timeline: matches per day, month or year as bars, each bar a link setting
the date range (``from``/``to``); ``web/static/app.js`` adds dragging across bars.

Drawn on the server as an HTML list of links whose heights are CSS classes (``h1``…``h24``:
the Content-Security-Policy allows no inline style), so it needs no script and no chart library.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape

#: More months than this are drawn as years (Reuters 1987 and 2024 news on one axis).
MAX_MONTH_BARS = 120
LEVELS = 24  # bar heights: classes h1 … h24 in style.css


@dataclass
class Bar:
    start: str  # YYYY-MM-DD, first day of the period
    end: str  # last day of the period
    label: str
    count: int
    url: str
    level: int  # 1 … LEVELS, 0 for no match
    active: bool  # the date filter is exactly this period
    in_range: bool  # inside the date filter


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
        out = []
        for year, month in _months(first, last):
            label = f"{year:04d}-{month:02d}"
            end = calendar.monthrange(year, month)[1]
            out.append((f"{label}-01", f"{label}-{end:02d}", label, counts.get(label, 0)))
        return "month", out
    per_year: dict[int, int] = {}
    for key, count in counts.items():
        per_year[int(key[:4])] = per_year.get(int(key[:4]), 0) + count
    return "year", [(f"{y:04d}-01-01", f"{y:04d}-12-31", f"{y:04d}", per_year.get(y, 0)) for y in range(first[0], last[0] + 1)]


def timeline_view(facets: dict, state) -> dict | None:
    """What ``_timeline.html`` draws, or ``None`` when no match is dated."""
    unit, found = periods(facets)
    if not found:
        return None
    top = max(count for *_, count in found) or 1
    low, high = state.get("from"), state.get("to")
    bars = []
    dates_url = state.url_maker("from", "to")
    for start, end, label, count in found:
        active = low == start and high == end
        bars.append(
            Bar(
                start=start,
                end=end,
                label=label,
                count=count,
                url=("" if not count else dates_url(None, None) if active else dates_url(start, end)),  # an empty bar is no link
                level=max(1, round(count / top * LEVELS)) if count else 0,
                active=active,
                in_range=bool(low or high) and (not low or end >= low) and (not high or start <= high),
            )
        )
    total = sum(bar.count for bar in bars)
    return {
        "unit": unit,
        "bars": bars,
        "cells": cells_html(bars),
        "first": found[0][2],
        "last": found[-1][2],
        "top": top,
        "total": total,
        "clear_url": state.url({"from": None, "to": None}) if (low or high) else None,
    }


def cells_html(bars: list[Bar]) -> Markup:
    """The chart's ``<li>`` cells. Written here, not in ``_timeline.html``: a page has up to 120 of
    them, and a Jinja loop costs several times this join. The whitespace is the template's as it was."""
    return Markup("".join(_cell(bar) for bar in bars))


def _cell(bar: Bar) -> str:
    in_range = ' class="in-range"' if bar.in_range else ""
    link = ""
    if bar.count:
        what = "article" if bar.count == 1 else "articles"
        current = ' aria-current="true"' if bar.active else ""
        link = f'<a href="{escape(bar.url)}" class="bar h{bar.level}" aria-label="{escape(bar.label)}: {bar.count} {what}"{current}></a>'
    return f'\n    <li data-from="{escape(bar.start)}" data-to="{escape(bar.end)}"{in_range}>{link}</li>'

"""When the matching articles ran: counts per month, and per day when they span a short time.

The search page draws these as a histogram; the API returns them as ``facets.months``
and ``facets.days``.

>>> import numpy as np
>>> timeline(np.array([20241003, 20241003, 20241015, 0]))
{'months': [{'month': '2024-10', 'count': 3}], 'days': [{'day': '2024-10-03', 'count': 2}, {'day': '2024-10-15', 'count': 1}]}
"""

from __future__ import annotations

from datetime import date

import numpy as np

#: Matches spanning at most this many days are also counted per day.
DAYS_SPAN = 62


def timeline(days: np.ndarray) -> dict[str, list[dict]]:
    """Counts of ``days`` (YYYYMMDD per matching article, 0 when undated) by month, oldest
    first, and by day when the dated ones span at most :data:`DAYS_SPAN` days (else ``[]``)."""
    dated = days[days > 0]
    if not len(dated):
        return {"months": [], "days": []}
    months, month_counts = np.unique(dated // 100, return_counts=True)
    out = {
        "months": [{"month": f"{m // 100:04d}-{m % 100:02d}", "count": int(c)} for m, c in zip(months.tolist(), month_counts.tolist())],
        "days": [],
    }
    first, last = _date(int(dated.min())), _date(int(dated.max()))
    if first and last and (last - first).days <= DAYS_SPAN:
        values, counts = np.unique(dated, return_counts=True)
        out["days"] = [{"day": _date(v).isoformat(), "count": int(c)} for v, c in zip(values.tolist(), counts.tolist()) if _date(v)]
    return out


def _date(value: int) -> date | None:
    try:
        return date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:  # a malformed day value in the index: not on the timeline
        return None


__all__ = ["DAYS_SPAN", "timeline"]

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


def timeline(days: np.ndarray, counts: np.ndarray | None = None) -> dict[str, list[dict]]:
    """Counts of ``days`` (YYYYMMDD per matching article, 0 when undated) by month, oldest
    first, and by day when the dated ones span at most :data:`DAYS_SPAN` days (else ``[]``).
    With ``counts``, ``days`` are days and ``counts`` how many articles each holds (a cluster's
    histogram): the same answer, without an array of one value per article (76,000 articles on
    1,500 days took 3.3 ms that way).

    >>> timeline(np.array([20241003, 20241015, 0]), np.array([2, 1, 4]))["months"]
    [{'month': '2024-10', 'count': 3}]
    """
    if counts is None:
        days, counts = np.unique(days, return_counts=True)
    else:
        days, where = np.unique(days, return_inverse=True)
        counts = np.bincount(where, weights=counts, minlength=len(days)).astype(np.int64)
    dated = days > 0
    days, counts = days[dated], counts[dated]
    if not len(days):
        return {"months": [], "days": []}
    months, where = np.unique(days // 100, return_inverse=True)
    month_counts = np.bincount(where, weights=counts, minlength=len(months)).astype(np.int64)
    out = {
        "months": [{"month": f"{m // 100:04d}-{m % 100:02d}", "count": int(c)} for m, c in zip(months.tolist(), month_counts.tolist())],
        "days": [],
    }
    first, last = _date(int(days[0])), _date(int(days[-1]))
    if first and last and (last - first).days <= DAYS_SPAN:
        out["days"] = [{"day": _date(v).isoformat(), "count": int(c)} for v, c in zip(days.tolist(), counts.tolist()) if _date(v)]
    return out


def _date(value: int) -> date | None:
    try:
        return date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:  # a malformed day value in the index: not on the timeline
        return None


__all__ = ["DAYS_SPAN", "timeline"]

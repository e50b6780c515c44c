"""The timeline: ``facets.months`` / ``facets.days`` (search/timeline.py) and the bars the page draws."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from search.timeline import DAYS_SPAN, timeline
from web.timeline import MAX_MONTH_BARS, periods


def test_counts_by_month_and_by_day_only_for_short_spans():
    days = np.array([20241003, 20241003, 20241130, 0, 0])
    found = timeline(days)
    assert found["months"] == [{"month": "2024-10", "count": 2}, {"month": "2024-11", "count": 1}]
    assert found["days"] == [{"day": "2024-10-03", "count": 2}, {"day": "2024-11-30", "count": 1}]
    assert timeline(np.array([20240101, 20240101 + 300]))["days"] == []  # 2024-01-01 to 2024-04-01: more than DAYS_SPAN
    assert DAYS_SPAN == 62
    assert timeline(np.array([0, 0])) == {"months": [], "days": []}


days_and_counts = st.lists(
    st.tuples(st.sampled_from([0, 20241003, 20241015, 20241130, 20241201, 20250105, 20241340, 19870301, 20160229]), st.integers(1, 5)),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(days_and_counts)
def test_days_with_their_counts_give_what_one_day_per_article_gives(pairs):
    # A cluster's histogram (each day once, with its count; here in any order, even repeated)
    # against one value per matching article.
    days = np.array([day for day, _ in pairs], dtype=np.int64)
    counts = np.array([count for _, count in pairs], dtype=np.int64)
    assert timeline(days, counts) == timeline(np.repeat(days, counts))


def test_engine_facets_count_the_whole_result_set(engine):
    result = engine.search("*", size=1)
    assert sum(m["count"] for m in result.facets["months"]) == result.total - 1  # one seed article is undated
    assert result.facets["months"] == sorted(result.facets["months"], key=lambda m: m["month"])


def test_periods_fill_gaps_and_switch_to_years_for_long_spans():
    unit, bars = periods({"months": [{"month": "2024-01", "count": 3}, {"month": "2024-04", "count": 1}], "days": []})
    assert unit == "month" and [b[2] for b in bars] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert bars[1] == ("2024-02-01", "2024-02-29", "2024-02", 0)
    unit, bars = periods({"months": [{"month": "1987-02", "count": 3}, {"month": "2024-10", "count": 1}], "days": []})
    assert unit == "year" and len(bars) == 2024 - 1987 + 1 and bars[0][3] == 3
    unit, bars = periods({"months": [{"month": "2015-01", "count": 1}, {"month": "2024-12", "count": 1}], "days": []})
    assert unit == "month" and len(bars) == MAX_MONTH_BARS == 120  # ten years are still months
    unit, bars = periods({"months": [{"month": "2015-01", "count": 1}, {"month": "2025-01", "count": 1}], "days": []})
    assert unit == "year" and len(bars) == 11
    unit, bars = periods({"months": [{"month": "2024-10", "count": 2}], "days": [{"day": "2024-10-03", "count": 1}, {"day": "2024-10-05", "count": 1}]})
    assert unit == "day" and [b[3] for b in bars] == [1, 0, 1]

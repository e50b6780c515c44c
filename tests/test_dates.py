from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from search.ingest.dates import CHINA_TZ, chinese_event_date, parse_date
from search.ingest.newspage import english_dateline_date

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-10-23T08:59:26+08:00", datetime(2024, 10, 23, 8, 59, 26, tzinfo=CHINA_TZ)),
        ("2024-10-22T12:00:00Z", datetime(2024, 10, 22, 12, tzinfo=UTC)),
        ("Oct. 22, 2024", datetime(2024, 10, 22, tzinfo=UTC)),
        ("22 October 2024 14:05", datetime(2024, 10, 22, 14, 5, tzinfo=UTC)),
        ("Tue, 22 Oct 2024 14:05:00 +0300", datetime(2024, 10, 22, 14, 5, tzinfo=timezone(timedelta(hours=3)))),
        ("2024年10月22日", datetime(2024, 10, 22, tzinfo=UTC)),
        ("2024年10月22日 20:30", datetime(2024, 10, 22, 20, 30, tzinfo=UTC)),
    ],
)
def test_dates_are_aware(text, expected):
    got = parse_date(text)
    assert got == expected and got.tzinfo is not None


def test_chinese_source_default_zone_is_utc_plus_8():
    assert parse_date("2024-10-23 08:59:26", default_tz=CHINA_TZ).isoformat() == "2024-10-23T08:59:26+08:00"


@pytest.mark.parametrize("text", ["", "yesterday-ish", "2024年13月40日", "not a date at all"])
def test_non_dates_are_none(text):
    assert parse_date(text) is None


def test_month_day_takes_the_year_of_the_publication_time():
    published = datetime(2024, 10, 23, 8, 59, tzinfo=CHINA_TZ)
    when, local = chinese_event_date("新華社俄羅斯喀山10月22日電", published)
    assert when.date().isoformat() == "2024-10-22" and not local


def test_local_time_afternoon():
    when, local = chinese_event_date("當地時間10月22日下午", datetime(2024, 10, 23, tzinfo=CHINA_TZ))
    assert (when.hour, local) == (15, True)


def test_december_story_published_in_january_is_last_year():
    when, _ = chinese_event_date("12月31日电", datetime(2025, 1, 2, tzinfo=CHINA_TZ))
    assert when.date().isoformat() == "2024-12-31"


def test_english_dateline_month_day():
    published = datetime(2024, 10, 23, tzinfo=CHINA_TZ)
    assert english_dateline_date("KAZAN, Russia, Oct. 22 (Xinhua) -- Text", published) == "2024-10-22"
    assert english_dateline_date("BEIJING, March 1 (Xinhua) -- Text", published) == "2024-03-01"

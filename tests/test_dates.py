from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.indexer import Indexer
from search.ingest import load_file
from search.ingest.dates import CHINA_TZ, chinese_event_date, iso_date, parse_date
from search.ingest.html import parse_html
from search.ingest.newspage import english_dateline_date
from search.searcher import Engine

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-10-23T08:59:26+08:00", datetime(2024, 10, 23, 8, 59, 26, tzinfo=CHINA_TZ)),
        ("2024-10-22T12:00:00Z", datetime(2024, 10, 22, 12, tzinfo=UTC)),
        ("2024-10-22T14:05:00+03:00", datetime(2024, 10, 22, 14, 5, tzinfo=timezone(timedelta(hours=3)))),
        ("2024-10-22", datetime(2024, 10, 22, tzinfo=UTC)),
        ("20241022T1405Z", datetime(2024, 10, 22, 14, 5, tzinfo=UTC)),
        ("2024-W43-2", datetime(2024, 10, 22, tzinfo=UTC)),
        ("2024年10月22日", datetime(2024, 10, 22, tzinfo=UTC)),
        ("2024年10月22日 20:30", datetime(2024, 10, 22, 20, 30, tzinfo=UTC)),
        ("2024/10/3 08:59:26", datetime(2024, 10, 3, 8, 59, 26, tzinfo=UTC)),
    ],
)
def test_dates_are_aware(text, expected):
    got = parse_date(text)
    assert got == expected and got.tzinfo is not None


def test_chinese_source_default_zone_is_utc_plus_8():
    assert parse_date("2024-10-23 08:59:26", default_tz=CHINA_TZ).isoformat() == "2024-10-23T08:59:26+08:00"


@pytest.mark.parametrize("text", ["", "yesterday-ish", "2024年13月40日", "not a date at all", "May", "2024", "2024-10", "2024-W43"])
def test_non_dates_are_none(text):
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "text", ["May", "2024", "2024-10", "Oct. 22, 2024", "22/10/2024", "Tue, 22 Oct 2024 14:05:00 +0300", "2024-10-22x08:00", "2024-02-30", "2024年10月22日"]
)
def test_iso_date_guesses_nothing(text):
    """Reduced precision, other orders and prose are refused: dateutil.parse would fill in today."""
    assert iso_date(text) is None


def test_jsonl_date_not_iso_is_reported_per_line_and_left_out(tmp_path):
    path = tmp_path / "a.jsonl"
    records = [
        {"id": "may", "title": "May", "body": "Text one.", "date": "May"},
        {"id": "year", "title": "Year", "body": "Text two.", "date": "2024"},
        {"id": "number", "title": "Number", "body": "Text three.", "date": 2024},
        {"id": "good", "title": "Good", "body": "Text four.", "date": "2024-10-22T08:00:00+08:00"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", "utf-8")
    loaded = load_file(str(path))
    assert not loaded.errors
    assert loaded.warnings == [
        f'{path}:1: date "May" is not ISO 8601 (YYYY-MM-DD, optionally THH:MM:SS and a zone); indexed without a date',
        f'{path}:2: date "2024" is not ISO 8601 (YYYY-MM-DD, optionally THH:MM:SS and a zone); indexed without a date',
        f"{path}:3: date 2024 is not ISO 8601 (YYYY-MM-DD, optionally THH:MM:SS and a zone); indexed without a date",
    ]
    dates = {article.id: article.date for _, article in loaded.articles}
    assert dates == {"may": None, "year": None, "number": None, "good": datetime(2024, 10, 22, 8, tzinfo=CHINA_TZ)}

    index = tmp_path / "index"
    report = Indexer(str(index)).run([str(path)])
    assert (report.indexed, report.failed, len(report.warnings)) == (4, 0, 3)
    # Indexed again on another day, an undated article is unchanged (no date of the day in its hash).
    assert Indexer(str(index)).run([str(path)]).unchanged == 4
    stored = Engine(str(index)).article("year")
    assert stored["id"] == "year" and stored.get("date") is None


@pytest.mark.parametrize(
    "meta, expected",
    [
        ('<meta property="article:published_time" content="2024-10-22T21:30:00+08:00">', "2024-10-22T21:30:00+08:00"),
        ('<meta name="pubdate" content="2024-10-22T13:30:00Z">', "2024-10-22T13:30:00+00:00"),
        ('<meta name="date" content="2024-10-22">', "2024-10-22T00:00:00+08:00"),
        ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-10-22T09:00:00-05:00"}</script>', "2024-10-22T09:00:00-05:00"),
        ("", None),
    ],
)
def test_html_date_keeps_its_zone(meta, expected):
    page = f"<html><head><title>標題</title>{meta}</head><body><article><p>普京表示，俄中合作基於平等，雙方關係良好，願同中方深化合作。</p></article></body></html>"
    article, _ = parse_html(page, "p")
    assert (article.date.isoformat() if article.date else None) == expected


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


@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from(["date", "minutes", "seconds", 1, 2, 3, 6]),
    st.sampled_from(["", "Z", "+08:00", "-05:30", "+00:00"]),
)
@settings(max_examples=300, deadline=None)
def test_the_common_form_reads_as_dateutil_reads_it(when, precision, zone):
    """The standard library's reader of the usual form gives dateutil's instant and offset."""
    from dateutil.parser import isoparse

    if precision == "date":
        text = when.strftime("%Y-%m-%d")
    elif precision == "minutes":
        text = when.strftime("%Y-%m-%dT%H:%M") + zone
    elif precision == "seconds":
        text = when.strftime("%Y-%m-%dT%H:%M:%S") + zone
    else:  # that many digits of a fraction of a second
        text = when.strftime("%Y-%m-%dT%H:%M:%S") + "." + f"{when.microsecond:06d}"[:precision] + zone
    ours, theirs = iso_date(text), isoparse(text)
    if theirs.tzinfo is None:
        theirs = theirs.replace(tzinfo=timezone.utc)
    assert ours == theirs and ours.utcoffset() == theirs.utcoffset() and ours.isoformat() == theirs.isoformat()


@pytest.mark.parametrize("text", ["2024-10-23T24:00:00+08:00", "2024-02-29T12:00Z", "2023-02-29", "2024-13-01", "2024-10-23T08:60:00"])
def test_edge_dates_read_as_dateutil_reads_them(text):
    from dateutil.parser import isoparse

    try:
        theirs = isoparse(text)
    except ValueError:
        theirs = None
    ours = iso_date(text)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert ours == (theirs if theirs.tzinfo else theirs.replace(tzinfo=timezone.utc))

"""Parse publication dates into aware datetimes.

ISO 8601 and Western forms go through python-dateutil; ``2024年10月22日`` and
``2024-10-23 08:59:26`` without a zone take the source's zone (default UTC+8
for Chinese sources, UTC otherwise).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from dateutil import parser as dateutil_parser

CHINA_TZ = timezone(timedelta(hours=8))

_ZH_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日(?:\s*(\d{1,2})[:：时時](\d{2})?)?")


def parse_date(value: str, *, default_tz: timezone = timezone.utc) -> datetime | None:
    """Return an aware datetime, or ``None`` if ``value`` is not a date.

    >>> parse_date("2024年10月22日", default_tz=CHINA_TZ).isoformat()
    '2024-10-22T00:00:00+08:00'
    """
    value = value.strip()
    if not value:
        return None
    match = _ZH_DATE.search(value)
    if match:
        year, month, day, hour, minute = match.groups()
        try:
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=default_tz)
        except ValueError:
            return None
    try:
        parsed = dateutil_parser.parse(value)
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


_ZH_MONTH_DAY = re.compile(
    r"(?:(?P<local>當地時間|当地时间|北京時間|北京时间)\s*)?(?:(?P<year>\d{4})年)?(?P<month>\d{1,2})月(?P<day>\d{1,2})日"
    r"(?P<part>凌晨|早上|上午|中午|下午|傍晚|晚上|晚間|晚间|夜間|夜间)?"
)
_PART_HOUR = {"凌晨": 3, "早上": 8, "上午": 10, "中午": 12, "下午": 15, "傍晚": 18, "晚上": 20, "晚間": 20, "晚间": 20, "夜間": 22, "夜间": 22}


def chinese_event_date(text: str, reference: datetime | None) -> tuple[datetime, bool] | None:
    """The first ``M月D日`` date in ``text``, its year taken from ``reference`` (the publication time).

    Returns ``(datetime, is_local_time)``: ``當地時間`` means the place's own clock, which the
    text does not give, so the time is kept naive-in-spirit but marked; ``下午`` becomes 15:00.
    A month later than the publication month belongs to the year before (a December story
    published in January).

    >>> published = datetime(2024, 10, 23, 8, 59, tzinfo=CHINA_TZ)
    >>> when, local = chinese_event_date("當地時間10月22日下午,國家主席…", published)
    >>> when.isoformat(), local
    ('2024-10-22T15:00:00+08:00', True)
    >>> chinese_event_date("新華社北京1月3日電", datetime(2025, 1, 5, tzinfo=CHINA_TZ))[0].date().isoformat()
    '2025-01-03'
    """
    match = _ZH_MONTH_DAY.search(text)
    if not match:
        return None
    month, day = int(match.group("month")), int(match.group("day"))
    if match.group("year"):
        year = int(match.group("year"))
    elif reference is not None:
        year = reference.year - 1 if month > reference.month + 1 else reference.year
    else:
        return None
    hour = _PART_HOUR.get(match.group("part") or "", 0)
    tz = reference.tzinfo if reference is not None and reference.tzinfo else CHINA_TZ
    try:
        return datetime(year, month, day, hour, tzinfo=tz), bool(match.group("local"))
    except ValueError:
        return None

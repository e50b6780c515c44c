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

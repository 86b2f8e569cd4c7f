"""The served rows a monitor run judges: since a time ago (7d, 24h) or a date, or the last N."""

import re
from datetime import date, datetime, timedelta

from ..errors import DataError

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
AGO = re.compile(r"(\d+)([mhdw])")


def since(value: str, now: datetime) -> datetime:
    """The start of a window: '7d', '24h', '30m', '2w' before `now`, or an ISO 8601 date or time."""
    text = value.strip()
    if match := AGO.fullmatch(text):
        return now - timedelta(**{UNITS[match[2]]: int(match[1])})
    try:
        start = datetime.fromisoformat(text) if "T" in text or " " in text else datetime.combine(
            date.fromisoformat(text), datetime.min.time())  # fmt: skip
    except ValueError:
        raise DataError(
            f"--since {value!r}: expected a duration such as 7d, 24h, 30m or 2w, or a date such as 2026-12-01"
        ) from None
    return start if start.tzinfo else start.replace(tzinfo=now.tzinfo)

"""The served rows a monitor run judges: since a time ago (7d, 24h) or a date, until now or a date, or the last N."""

import re
from datetime import date, datetime, timedelta

from ..errors import DataError

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
AGO = re.compile(r"(\d+)([mhdw])")
EXAMPLES = "a duration such as 7d, 24h, 30m or 2w, or a date such as 2026-12-01"


def moment(option: str, value: str, now: datetime) -> datetime:
    """A time given as '7d', '24h', '30m', '2w' before `now`, or an ISO 8601 date or time; DataError naming `option`."""
    text = value.strip()
    try:
        if match := AGO.fullmatch(text):
            return now - timedelta(**{UNITS[match[2]]: int(match[1])})
        start = datetime.fromisoformat(text) if "T" in text or " " in text else datetime.combine(
            date.fromisoformat(text), datetime.min.time())  # fmt: skip
    except ValueError:
        raise DataError(f"{option} {value!r}: expected {EXAMPLES}") from None
    except OverflowError:  # 1000000w: before the first year a date can hold
        raise DataError(f"{option} {value!r}: too far back; expected {EXAMPLES}") from None
    return start if start.tzinfo else start.replace(tzinfo=now.tzinfo)


def since(value: str, now: datetime) -> datetime:
    """The start of a window (--since or monitor.window)."""
    return moment("--since", value, now)


def until(value: str | None, now: datetime) -> datetime:
    """The end of a window: --until, else now."""
    return now if value is None else moment("--until", value, now)

"""A date's numeric parts (year, month, ...), computed alike in training and serving, with numpy alone."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

# ISO 8601: a date, or a date and time (seconds and fraction optional), with an optional zone (Z, +01:00).
ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
UNIX_WEEKDAY = 3  # 1970-01-01 was a Thursday: Monday is 0, as in pandas' day_of_week


def as_utc(value: Any) -> np.datetime64:
    """One date (datetime, or ISO 8601 text) as a naive UTC datetime64; NaT when missing."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value != value:  # None, NaN, or pandas' NaT (never equal to itself)
        return np.datetime64("NaT", "us")
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(value.replace(tzinfo=None), "us")


def date_part_values(values: Sequence[Any] | np.ndarray, parts: Sequence[str]) -> np.ndarray:
    """Dates (a datetime64 column, datetimes or ISO 8601 text) as float32 [n, parts]; NaN where missing, in UTC."""
    dates = np.asarray(values)
    if dates.dtype.kind != "M":  # anything but a naive datetime64 column: one value at a time
        dates = np.array([as_utc(value) for value in list(values)], dtype="M8[us]")
    days, years = dates.astype("M8[D]"), dates.astype("M8[Y]")
    every = {
        "year": years.astype(np.int64) + 1970,
        "month": dates.astype("M8[M]").astype(np.int64) % 12 + 1,
        "day_of_year": (days - years.astype("M8[D]")).astype(np.int64) + 1,
        "day_of_week": (days.astype(np.int64) + UNIX_WEEKDAY) % 7,
        "hour": (dates.astype("M8[h]") - days.astype("M8[h]")).astype(np.int64),
    }
    found = np.column_stack([every[part].astype(np.float32) for part in parts]) if parts else np.empty((len(dates), 0))
    found[np.isnat(dates)] = np.nan
    return found.astype(np.float32)

"""Dates in the raw data: text columns that are ISO 8601 dates become datetime columns."""

import pandas as pd

from ..errors import DataError

# ISO 8601: a date, or a date and time (seconds and fraction optional), with an optional zone (Z, +01:00).
ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"


def as_dates(frame: pd.DataFrame, skip: list[str]) -> pd.DataFrame:
    """Parse each text column whose every value is an ISO 8601 date or date-time (UTC, zone dropped)."""
    converted = {}
    for name, column in frame.items():
        if name in skip or not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        values = column.dropna().unique()
        text = pd.Series(values, dtype=object)
        if len(values) == 0 or not text.map(lambda v: isinstance(v, str)).all():
            continue
        if text.str.fullmatch(ISO_DATE).all():
            converted[name] = parse_dates(column)
    return frame.assign(**converted) if converted else frame


def parse_dates(column: pd.Series) -> pd.Series:
    """ISO 8601 text as naive UTC datetimes: one DataError naming the first value that is no real date."""
    try:
        return pd.to_datetime(column, format="ISO8601", utc=True).dt.tz_localize(None)
    except (ValueError, OverflowError) as exc:
        reason = str(exc).splitlines()[0]
        raise DataError(
            f"column {column.name!r} holds ISO 8601 dates, but not every one is a real date ({reason}); "
            "fix it or list the column in data.categorical"
        ) from None

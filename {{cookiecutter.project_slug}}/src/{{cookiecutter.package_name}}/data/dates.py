"""Dates in the raw data: text columns that are ISO 8601 dates become datetime columns."""

import pandas as pd

from ..errors import DataError
from .date_parts import ISO_DATE

# A text column where at least this share of the values are ISO 8601 dates holds dates with a few typos.
DATE_SHARE = 0.9


def as_dates(frame: pd.DataFrame, skip: list[str]) -> pd.DataFrame:
    """Parse each text column whose every value is an ISO 8601 date or date-time (UTC, zone dropped).

    A column of ISO 8601 dates but for a few other values is a DataError naming the first of them.
    """
    converted = {}
    for name, column in frame.items():
        if name in skip or not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        present = column.dropna()
        if present.empty or not present.map(lambda v: isinstance(v, str)).all():
            continue
        iso = present.str.fullmatch(ISO_DATE)
        if iso.all():
            converted[name] = parse_dates(column)
        elif iso.mean() >= DATE_SHARE:
            row = column.index.get_loc(iso.idxmin())  # the first value that is not ISO 8601
            raise DataError(
                f"column {name!r} holds ISO 8601 dates but for data row {row + 1}: {column.iloc[row]!r}; "
                "write it as 2024-03-15 (or 2024-03-15T09:30), or list the column in data.categorical"
            )
    return frame.assign(**converted) if converted else frame


def parse_dates(column: pd.Series) -> pd.Series:
    """ISO 8601 text as naive UTC datetimes: one DataError naming the first value that is no real date."""
    try:
        return pd.to_datetime(column, format="ISO8601", utc=True).dt.tz_localize(None)
    except (ValueError, OverflowError):
        parsed = pd.to_datetime(column, format="ISO8601", utc=True, errors="coerce")
        row = int((column.notna() & parsed.isna()).to_numpy().argmax())
        raise DataError(
            f"column {column.name!r} holds ISO 8601 dates, but data row {row + 1} is no real date: "
            f"{column.iloc[row]!r}; fix it, or list the column in data.categorical"
        ) from None

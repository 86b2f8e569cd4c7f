"""The features of a table: which columns are numbers, dates, categories or text (the manifest's feature schema)."""

import pandas as pd

from ..registry.manifest import Feature

# The numbers a date feature becomes; "hour" too when the times of day vary.
DATE_PARTS = ("year", "month", "day_of_year", "day_of_week")


def split_xy(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Separate the features from the target column (an image table keeps its files as the index)."""
    return frame.drop(columns=[target]), frame[target]


def date_parts(column: pd.Series) -> list[str]:
    """The parts that encode a date column: the hour too when not every value is at midnight."""
    hours = column.dropna().dt.hour
    return [*DATE_PARTS, "hour"] if (hours != 0).any() else list(DATE_PARTS)


def feature_schema(features: pd.DataFrame, text: tuple[str, ...] = ()) -> list[Feature]:
    """Describe each input feature: name, dtype, kind, whether it may be missing, its categories.

    The `text` columns (data.text) are free text, never missing: a missing text is the empty string.
    """
    schema: list[Feature] = []
    for name, column in features.items():
        if name in text:
            schema.append({"name": str(name), "dtype": "str", "kind": "text", "nullable": False, "categories": None})
            continue
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        date = pd.api.types.is_datetime64_any_dtype(column)
        spec: Feature = {
            "name": str(name),
            "dtype": str(column.dtype),
            "kind": "date" if date else "number" if numeric else "category",
            "nullable": bool(column.isna().any()),
            "categories": None if numeric or date else sorted(map(str, column.dropna().unique())),
        }
        if date:
            spec["parts"] = date_parts(column)
        schema.append(spec)
    return schema

"""Summarise the data: its schema and statistics, for the report and for spotting drift."""

from typing import Any

import pandas as pd

from ..data.schema import feature_schema, split_xy
from ..formatting import rounded
from ..registry.manifest import Feature
from .task import infer_task

TOP_VALUES = 10


def profile(
    frame: pd.DataFrame,
    target: str,
    task: str = "auto",
    image: Feature | None = None,
    text: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Return rows, the feature schema with per-column statistics, and the target's balance or range.

    The target shows as classes or as a range by the task train will fit (`task`: train.task). The
    pixels of an image table are one `image` feature, with no statistics per pixel. The `text`
    columns (data.text) are text features, as train's schema has them.
    """
    features, labels = split_xy(frame, target)
    if image is not None:
        columns = [{**image, "missing": 0}]
    else:
        schema = feature_schema(features, text)
        columns = [{**spec, **column_stats(features[spec["name"]])} for spec in schema]
    task = infer_task(labels, task)
    return {
        "rows": len(frame),
        "target": {"name": target, "task": task, **target_stats(labels, task)},
        "features": columns,
    }


def column_stats(column: pd.Series) -> dict[str, Any]:
    """Missing count plus the range of a number or a date, or the most frequent values of a category."""
    stats: dict[str, Any] = {"missing": int(column.isna().sum())}
    if pd.api.types.is_datetime64_any_dtype(column):  # the range, as ISO 8601 text
        present = column.notna().any()
        stats.update({key: getattr(column, key)().isoformat() if present else None for key in ("min", "max")})
    elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        described = column.describe()
        stats.update({key: rounded(described[key]) for key in ("mean", "std", "min", "max")})
    else:
        counts = column.astype(str).where(column.notna()).value_counts().head(TOP_VALUES)
        stats.update({"unique": int(column.nunique()), "top": {str(k): int(v) for k, v in counts.items()}})
    return stats


def target_stats(labels: pd.Series, task: str) -> dict[str, Any]:
    """Class counts for a classification target, the numeric range for a regression one."""
    if task == "classification":
        return {"classes": {str(k): int(v) for k, v in labels.value_counts().sort_index().items()}}
    return {key: rounded(value) for key, value in labels.describe()[["mean", "std", "min", "max"]].items()}

"""Interactions for a recommender: one row per user and item (a view, a purchase, a rating), read and checked.

params.yaml names the columns: `data.interactions: {user, item, rating, time}` (rating and time may
be null), on the CSV or Parquet file of `data.path`; `data.items` may name a file of item metadata
(the item id column, then titles or other columns shown in answers). The prepared tables use the
column names user, item, rating and time whatever the export called them.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.load import PARQUET_SUFFIXES, csv_options, read_table
from ..errors import DataError

ROLES = ("user", "item", "rating", "time")
REQUIRED = ("user", "item")


def interactions_of(data: dict[str, Any]) -> dict[str, str]:
    """The role -> column mapping of data.interactions, the optional roles left out when null."""
    mapping = data.get("interactions")
    if not isinstance(mapping, dict) or any(not mapping.get(role) for role in REQUIRED):
        raise DataError("data.interactions must name the user and item columns: {user: <column>, item: <column>}")
    return {role: str(mapping[role]) for role in ROLES if mapping.get(role)}


def read_file(data: dict[str, Any], path: Path) -> pd.DataFrame:
    """A CSV or Parquet export, read with data.sep and data.decimal."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return read_table(path)
    return read_table(path, csv_options(data.get("sep", ","), data.get("decimal", ".")))


def load_interactions(data: dict[str, Any]) -> pd.DataFrame:
    """The interactions of data.path as columns user, item (and rating, time), every problem refused by name."""
    if not data.get("path"):
        raise DataError("data.path must name the interactions file (CSV or Parquet) when data.interactions is set")
    path, columns = Path(data["path"]), interactions_of(data)
    frame = read_file(data, path)
    missing = [f"{role} {column!r}" for role, column in columns.items() if column not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: data.interactions names columns that do not exist: {', '.join(missing)}; "
            f"columns are: {', '.join(map(str, frame.columns))}"
        )
    if frame.empty:
        raise DataError(f"{path} has no interactions: it holds a header and no rows")
    frame = frame[list(columns.values())].rename(columns={column: role for role, column in columns.items()})
    for role in REQUIRED:
        if (absent := frame[role].isna()).any():
            raise DataError(
                f"{path}: {int(absent.sum())} interactions have no {role} id in column {columns[role]!r} "
                f"(first at data row {int(np.flatnonzero(absent)[0]) + 1})"
            )
        frame[role] = ids(frame[role])
    if "rating" in frame:
        frame["rating"] = ratings(frame["rating"], path, columns["rating"])
    if "time" in frame:
        frame["time"] = times(frame["time"], path, columns["time"])
    return frame.reset_index(drop=True)


def ids(values: pd.Series) -> pd.Series:
    """Ids as integers when every one is a whole number (as exports write them), else as text."""
    if pd.api.types.is_integer_dtype(values):
        return values.astype(np.int64)
    if pd.api.types.is_float_dtype(values) and (values == values.round()).all():
        return values.astype(np.int64)  # 12.0: a column that held a missing value once
    return values.astype(str)


def ratings(values: pd.Series, path: Path, column: str) -> pd.Series:
    """A rating column as float32, refused when any value is not a number."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna() | values.isna()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: rating column {column!r} must hold numbers: {int(bad.sum())} values are not, "
            f"the first {values.iloc[first]!r} at data row {first + 1}"
        )
    return numbers.astype(np.float32)


def times(values: pd.Series, path: Path, column: str) -> pd.Series:
    """A time column as datetimes (or numbers, such as Unix seconds, kept as they are), refused when unreadable."""
    if pd.api.types.is_numeric_dtype(values) and values.notna().all():
        return values
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    if (bad := parsed.isna()).any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: time column {column!r} must hold dates or numbers: {int(bad.sum())} values do not, "
            f"the first {values.iloc[first]!r} at data row {first + 1}"
        )
    return parsed


def hold_out(frame: pd.DataFrame, share: float, min_history: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user with at least `min_history` interactions, hold out a share (at least one): the latest ones by time,
    else a seeded random choice. Users with less history train only, as new users arrive with little.
    """
    if not 0 < share < 1:
        raise DataError(f"prepare.holdout must be between 0 and 1 (a share of each user's history), not {share!r}")
    order = frame.sample(frac=1, random_state=seed)  # random order within a user, and between equal times
    if "time" in frame:
        order = order.sort_values("time", kind="stable")
    position = order.groupby("user", sort=False).cumcount(ascending=False)  # 0: the user's latest (or last drawn)
    size = order.groupby("user", sort=False)["item"].transform("size")
    held = (size >= min_history) & (position < np.maximum(1, np.floor(size * share)))
    if not held.any():
        raise DataError(
            f"no user has {min_history} interactions (prepare.min_history), so none can be held out to evaluate: "
            "lower prepare.min_history or add data"
        )
    return order[~held].sort_index(), order[held].sort_index()


def load_items(data: dict[str, Any], item_column: str, known: pd.Series) -> pd.DataFrame | None:
    """The metadata of data.items by item id (text columns), or None without one; refused when it has no id column."""
    if not data.get("items"):
        return None
    path = Path(data["items"])
    frame = read_file(data, path)
    if item_column not in frame.columns:
        raise DataError(
            f"{path}: data.items needs the item id column {item_column!r} (data.interactions.item); "
            f"columns are: {', '.join(map(str, frame.columns))}"
        )
    frame = frame.assign(**{item_column: ids(frame[item_column])}).drop_duplicates(item_column)
    frame = frame.set_index(item_column).reindex(known.unique())
    return frame.astype(object).where(frame.notna(), "").astype(str)


def prepare_interactions(
    data: dict[str, Any], prepare: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The prepare stage of a recommender: train and held-out interactions, the items' metadata, the profile."""
    frame = load_interactions(data)
    items = load_items(data, interactions_of(data)["item"], frame["item"])
    if items is None:  # no metadata: the table of item ids alone
        items = pd.DataFrame(index=pd.Index(frame["item"].unique()))
    items.index.name = "item"
    train, test = hold_out(frame, prepare.get("holdout", 0.2), prepare.get("min_history", 5), prepare["seed"])
    return train, test, items, interactions_profile(frame, train, test, items)


def interactions_profile(
    frame: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, items: pd.DataFrame
) -> dict[str, Any]:
    """Counts and spreads of the interactions, for the report's Data page."""
    per_user, per_item = frame.groupby("user").size(), frame.groupby("item").size()

    def spread(counts: pd.Series) -> dict[str, float]:
        return {"min": int(counts.min()), "median": float(counts.median()), "max": int(counts.max())}

    profile: dict[str, Any] = {
        "task": "recommend",
        "rows": len(frame),
        "users": len(per_user),
        "items": len(per_item),
        "train_rows": len(train),
        "test_rows": len(test),
        "test_users": int(test["user"].nunique()),
        "density": round(len(frame) / (len(per_user) * len(per_item)), 6),
        "per_user": spread(per_user),
        "per_item": spread(per_item),
        "metadata": [str(column) for column in items.columns],
        "top_item": per_item.idxmax().item() if hasattr(per_item.idxmax(), "item") else per_item.idxmax(),
    }
    if "rating" in frame:
        profile["rating"] = {key: round(float(getattr(frame["rating"], key)()), 6) for key in ("min", "mean", "max")}
    if "time" in frame:
        profile["time"] = {key: str(getattr(frame["time"], key)()) for key in ("min", "max")}
    return profile

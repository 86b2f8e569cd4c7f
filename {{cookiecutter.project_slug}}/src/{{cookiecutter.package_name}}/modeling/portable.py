"""What the portable model (models/model.onnx) reads, shared by train's check and serving: no scikit-learn here.

The ONNX graph takes one input per feature (one for an image's pixels). `onnx_feed` builds them
from plain column values, as serving has them per request: no DataFrame. A date enters the graph
as its parts (year, month, ...), computed here by the same function the scikit-learn pipeline uses.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data.schema import Feature
from ..registry.manifest import OnnxInput


def date_part_values(values: Sequence[Any] | pd.Series | np.ndarray, parts: Sequence[str]) -> np.ndarray:
    """Dates (datetimes, or ISO 8601 text) as float32 [n, parts]: year, month, ...; NaN where missing, in UTC."""
    column = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    dates = pd.Series(pd.to_datetime(column, format="ISO8601", utc=True))
    if not parts:
        return np.empty((len(dates), 0), dtype=np.float32)
    return np.column_stack([getattr(dates.dt, part).to_numpy(dtype=np.float32, na_value=np.nan) for part in parts])


def missing(value: Any) -> bool:
    """Whether one value is missing: None, NaN, pandas' NA or NaT."""
    return value is None or (np.ndim(value) == 0 and bool(pd.isna(value)))


def numbers(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Numbers as float32 [n, 1], a missing value as NaN (what the graph's imputers replace)."""
    try:  # floats and None, as a request has them: numpy reads None as NaN, in one pass (10x the loop below)
        return np.asarray(values, dtype=np.float32).reshape(-1, 1)
    except TypeError:  # pandas' NA or NaT among them
        return np.asarray([np.nan if missing(v) else v for v in values], dtype=np.float32).reshape(-1, 1)


def strings(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Categories and texts as str [n, 1], a missing value as "" (the graph's string imputers' missing value)."""
    texts = [v if type(v) is str else "" if missing(v) else str(v) for v in values]  # a str needs no check
    return np.asarray(texts, dtype=object).reshape(-1, 1)


def pixels(values: Sequence[Any] | np.ndarray, feature: Feature) -> np.ndarray:
    """Images' pixel vectors (data/images.py's load_image) as float32 [n, pixels]."""
    return np.asarray(values, dtype=np.float32).reshape(-1, int(feature["pixels"]))


def onnx_feed(
    inputs: list[OnnxInput], features: list[Feature], columns: dict[str, Sequence[Any] | np.ndarray]
) -> dict[str, np.ndarray]:
    """The session's input arrays, by ONNX input name, from each feature's values (`columns[feature]`)."""
    by_name = {feature["name"]: feature for feature in features}
    feed = {}
    for entry in inputs:
        feature, values = by_name[entry["feature"]], columns[entry["feature"]]
        kind = entry["kind"]
        if kind == "number":
            feed[entry["name"]] = numbers(values)
        elif kind == "date":
            feed[entry["name"]] = date_part_values(values, feature.get("parts", ()))
        elif kind == "image":
            feed[entry["name"]] = pixels(values, feature)
        else:  # category, text
            feed[entry["name"]] = strings(values)
    return feed

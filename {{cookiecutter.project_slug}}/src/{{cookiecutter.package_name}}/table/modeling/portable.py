"""What the portable model (models/model.onnx) reads, shared by train's check and serving: no scikit-learn here.

The ONNX graph takes every number feature in one float input (one array, however many numbers:
onnxruntime's cost grows with its inputs), one input per other feature, and one for an image's
pixels. `onnx_feed` builds them straight from validated rows, as serving has them: no DataFrame,
and nothing that `feed_plan` settles once per model. A date enters the graph as its parts (year,
month, ...), computed here by the same function the scikit-learn pipeline uses.
"""

from operator import itemgetter
from typing import Any

import numpy as np

from ...data.date_parts import date_part_values
from ...registry.manifest import Feature, OnnxInput, Row


def missing(value: Any) -> bool:
    """Whether one value is missing: None, NaN, pandas' NA or NaT (without pandas: the serving image has none)."""
    if value is None or np.ndim(value) != 0:
        return value is None
    try:
        return bool(value != value)  # NaN and NaT are the values never equal to themselves
    except TypeError:  # pandas' NA: its comparisons are NA, whose truth is undefined
        return True


def numbers(rows: list[Row], names: list[str]) -> np.ndarray:
    """The rows' number features as float32 [n, len(names)], a missing value as NaN (the graph's imputers fill it)."""
    try:  # every key present, floats or None: numpy reads None as NaN, in one pass over the rows
        values: list[Any] = list(map(itemgetter(*names), rows))
        return np.asarray(values, dtype=np.float32).reshape(len(rows), len(names))
    except (KeyError, TypeError):  # a nullable feature left out, or pandas' NA or NaT among the values
        values = [[np.nan if missing(v := row.get(name)) else v for name in names] for row in rows]
        return np.asarray(values, dtype=np.float32).reshape(len(rows), len(names))


def strings(values: list[Any]) -> np.ndarray:
    """Categories and texts as str [n, 1], a missing value as "" (the graph's string imputers' missing value)."""
    texts = [v if type(v) is str else "" if missing(v) else str(v) for v in values]  # a str needs no check
    return np.asarray(texts, dtype=object).reshape(-1, 1)


def pixels(values: list[Any], feature: Feature) -> np.ndarray:
    """Images' pixel vectors (data/images.py's load_image) as float32 [n, pixels]."""
    return np.asarray(values, dtype=np.float32).reshape(-1, int(feature["pixels"]))


FeedPlan = list[tuple[OnnxInput, Feature]]  # each graph input, and the feature it reads (the first, for numbers)


def feed_plan(inputs: list[OnnxInput], features: list[Feature]) -> FeedPlan:
    """Each ONNX input with its feature, worked out once per model rather than on every request."""
    by_name = {feature["name"]: feature for feature in features}
    return [(entry, by_name[entry["features"][0]]) for entry in inputs]


def onnx_feed(plan: FeedPlan, rows: list[Row]) -> dict[str, np.ndarray]:
    """The session's input arrays, by ONNX input name, from validated rows."""
    feed = {}
    for entry, feature in plan:
        if entry["kind"] == "numbers":
            feed[entry["name"]] = numbers(rows, entry["features"])
            continue
        values = [row.get(feature["name"]) for row in rows]
        if entry["kind"] == "date":
            feed[entry["name"]] = date_part_values(values, feature.get("parts", ()))
        elif entry["kind"] == "image":
            feed[entry["name"]] = pixels(values, feature)
        else:  # category, text
            feed[entry["name"]] = strings(values)
    return feed

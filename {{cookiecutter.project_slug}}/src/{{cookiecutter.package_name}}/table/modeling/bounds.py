"""Per-feature bounds that keep a fitted pipeline's arithmetic finite: the numbers the API accepts.

They are not the training range: a value training never saw is fine as long as every transform
step's output stays within float32's finite range (trees compute in float32, and the scaler divides
by a feature's spread first, so a number well below float32's limit can still overflow).
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ...registry.manifest import Feature
from .predict import predict_once

FLOAT32_MAX = float(np.finfo(np.float32).max)
# Bit patterns of non-negative doubles sort as the numbers do: bisecting them finds the exact limit.
INFINITY_BITS = int(np.array(np.inf).view(np.int64))


def within_float32(steps: Pipeline, rows: pd.DataFrame) -> np.ndarray:
    """Which rows every transform step maps to finite float32 values (NaN, a missing value, is fine)."""
    try:
        out = steps.transform(rows)
    except (ValueError, OverflowError, FloatingPointError):
        if len(rows) == 1:
            return np.array([False])
        return np.concatenate([within_float32(steps, rows.iloc[[i]]) for i in range(len(rows))])
    out = out.toarray() if hasattr(out, "toarray") else np.asarray(out, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~(np.abs(out) > FLOAT32_MAX).any(axis=1)


def probe_rows(base: pd.DataFrame, names: list[str], values: np.ndarray) -> pd.DataFrame:
    """One copy of the base row per feature, with feature i set to values[i]."""
    rows = pd.concat([base] * len(names), ignore_index=True)
    for i, name in enumerate(names):
        rows.loc[i, name] = values[i]
    return rows


def largest_magnitudes(steps: Pipeline, base: pd.DataFrame, names: list[str], sign: float) -> np.ndarray:
    """For each feature, the largest m such that sign * m transforms finitely (bisecting its bits)."""
    good = np.zeros(len(names), dtype=np.int64)  # 0.0: the base row's own arithmetic
    bad = np.full(len(names), INFINITY_BITS, dtype=np.int64)
    while (bad - good > 1).any():
        middle = good + (bad - good) // 2
        ok = within_float32(steps, probe_rows(base, names, sign * middle.view(np.float64)))
        good, bad = np.where(ok, middle, good), np.where(ok, bad, middle)
    return good.view(np.float64)


def predicts_finitely(model: Pipeline, base: pd.DataFrame, names: list[str], low: np.ndarray, high: np.ndarray) -> bool:
    """Whether the whole model answers with finite numbers with each feature, and all at once, at its bounds."""
    rows = pd.concat(
        [probe_rows(base, names, low), probe_rows(base, names, high), base.assign(**dict(zip(names, low, strict=True))),
         base.assign(**dict(zip(names, high, strict=True)))],
        ignore_index=True,
    )  # fmt: skip
    try:
        predictions, probabilities = predict_once(model, rows)
    except (ValueError, OverflowError, FloatingPointError):
        return False
    outputs = [p for p in (predictions, probabilities) if p is not None and np.issubdtype(p.dtype, np.number)]
    return all(np.isfinite(p).all() for p in outputs) and linear_sums_fit_float32(model, rows)


def linear_sums_fit_float32(model: Pipeline, rows: pd.DataFrame) -> bool:
    """Whether a linear estimator's weighted sums stay finite in float32, as the ONNX copy computes them.

    scikit-learn sums in float64, where they hold; the sum of |weight x input| bounds every
    partial sum, in any order the runtime adds them.
    """
    coef = getattr(model[-1], "coef_", None)
    if coef is None:
        return True
    out = model[:-1].transform(rows)
    out = out.toarray() if hasattr(out, "toarray") else np.asarray(out, dtype=float)
    weights = np.abs(np.atleast_2d(coef)).T.astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.abs(np.nan_to_num(out)).astype(np.float32) @ weights).all())


def numeric_bounds(model: Pipeline, schema: list[Feature], rows: pd.DataFrame) -> list[Feature]:
    """The schema with `minimum` and `maximum` on each number feature, probed on the fitted `model`.

    The first of `rows` is the base the other features keep while one is pushed outwards.
    """
    names = [f["name"] for f in schema if f["kind"] == "number"]
    if not names or len(rows) == 0:
        return schema
    base = rows.iloc[[0]].reset_index(drop=True).astype(dict.fromkeys(names, np.float64))  # as the API builds it
    steps = model[:-1]
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # the probes overflow on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = -largest_magnitudes(steps, base, names, -1.0), largest_magnitudes(steps, base, names, 1.0)
        while not predicts_finitely(model, base, names, low, high) and high.max() > 1:
            low, high = low / 2, high / 2  # the estimator's own arithmetic overflows: shrink until it holds
    bounds = {name: (float(lo), float(hi)) for name, lo, hi in zip(names, low, high, strict=True)}
    return [f | {"minimum": bounds[f["name"]][0], "maximum": bounds[f["name"]][1]} if f["name"] in bounds else f
            for f in schema]  # fmt: skip

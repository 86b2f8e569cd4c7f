"""Histogram boosting's native encoding: categories as ordinal codes, encoded once up front to save memory.

HistGradientBoosting bins numbers and handles missing values and categories itself; it needs only
ordinal codes and a mask of which columns are categories. The plumbing here also lets train encode
the table once, free it, and fit on the matrix, instead of holding table and encoding at once.
"""

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from ...progress import chunks
from ...registry.manifest import Feature
from .custom import OWN_FEATURES

# The model that bins numbers and handles missing values and categories itself (the native encoder).
NATIVE_MODEL = "hist_gradient_boosting"


def observed_categories(features: pd.DataFrame, schema: list[Feature]) -> list[list[Any]]:
    """Each categorical column's values, sorted, then NaN if any is missing (None too): what OrdinalEncoder learns."""
    observed = []
    for column in (features[f["name"]] for f in schema if f["kind"] == "category"):
        values = sorted(column.dropna().unique().tolist())
        observed.append([*values, np.nan] if column.isna().any() else values)
    return observed


def fitting_rows(features: pd.DataFrame, schema: list[Feature]) -> pd.DataFrame:
    """Enough rows to fit the native encoder given its categories: the first, and a missing value per column.

    A missing value lets each categorical column show the dtype that holds NaN, as in the whole table.
    """
    rows = {0}
    for feature in schema:
        if feature["kind"] == "category" and feature["nullable"]:
            rows.add(int(features[feature["name"]].isna().to_numpy().argmax()))
    return features.iloc[sorted(rows)]


def native_dtype(features: pd.DataFrame, schema: list[Feature]) -> np.dtype:
    """The dtype of the native encoder's output: float32, unless a number needs float64 to stay exact."""
    numbers = [features[f["name"]].dtype for f in schema if f["kind"] == "number"]
    try:
        return np.result_type(np.float32, *numbers)  # what the ColumnTransformer's stacking gives
    except TypeError:  # a pandas extension dtype (nullable integers): keep every value exact
        return np.dtype(np.float64)


def native_categorical_mask(schema: list[Feature], max_levels: int) -> list[bool]:
    """Which columns of the native encoder's output (numbers, own features, date parts) are categories.

    Histogram boosting takes a category natively up to `max_levels` levels (its max_bins); one with
    more is ordinal-encoded and split on as a number.
    """
    numbers = [False for f in schema if f["kind"] == "number"] + [False for _ in OWN_FEATURES]
    numbers += [False for f in schema if f["kind"] == "date" for _ in f["parts"]]
    levels = [len(f["categories"] or []) <= max_levels for f in schema if f["kind"] == "category"]
    return numbers + levels


def encode_matrix(
    encoder: ColumnTransformer, features: pd.DataFrame, dtype: npt.DTypeLike = np.float64, desc: str = "encode"
) -> np.ndarray:
    """`features` through the fitted `encoder`, CHUNK_ROWS at a time, into one matrix of `dtype`.

    Unlike Pipeline.fit, which holds the table and its whole encoding at once, this lets the caller
    free the table as soon as the matrix is made.
    """
    matrix = np.empty((len(features), len(encoder.get_feature_names_out())), dtype=dtype)
    for start, chunk in chunks(features, desc):
        matrix[start : start + len(chunk)] = encoder.transform(chunk)
    return matrix


def encode_up_front(pipeline: Pipeline, features: pd.DataFrame, schema: list[Feature]) -> tuple[Any, ColumnTransformer]:
    """Fit the native encoder and encode the table once; the pipeline then fits on the matrix (encoder passthrough).

    Given its categories, the native encoder's output does not depend on the rows it is fitted on.
    Boosting takes a float64 matrix without a copy, unless it has categorical features: it copies
    then whatever it gets, so the encoder's own dtype (float32 mostly) is cheaper. Put the returned
    encoder back with `pipeline.set_params(features=encoder)` once fitted.
    """
    encoder = pipeline.named_steps["features"].fit(fitting_rows(features, schema))
    categorical = pipeline[-1].get_params()["categorical_features"]
    dtype = np.float64 if categorical is None else native_dtype(features, schema)
    matrix = encode_matrix(encoder, features, dtype, "train: encode")
    pipeline.set_params(features="passthrough")
    return matrix, encoder

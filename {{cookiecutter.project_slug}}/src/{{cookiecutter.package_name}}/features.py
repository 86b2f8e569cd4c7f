"""The feature pipeline: a ColumnTransformer built from the data's schema."""

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler


def split_xy(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Separate the features from the target column."""
    return frame.drop(columns=[target]), frame[target]


def feature_schema(features: pd.DataFrame) -> list[dict[str, Any]]:
    """Describe each input feature: name, dtype, kind, whether it may be missing, its categories."""
    schema = []
    for name, column in features.items():
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        categories = None if numeric else sorted(map(str, column.dropna().unique()))
        schema.append(
            {
                "name": str(name),
                "dtype": str(column.dtype),
                "kind": "number" if numeric else "category",
                "nullable": bool(column.isna().any()),
                "categories": categories,
            }
        )
    return schema


def build_preprocessor(schema: list[dict[str, Any]], native: bool = False) -> ColumnTransformer:
    """The encoder for the estimator: one-hot and scaling by default, `native` for histogram boosting.

    The encoders write float32 (what scikit-learn's trees compute in): half the memory of float64.
    """
    numbers = [f["name"] for f in schema if f["kind"] == "number"]
    categories = [f["name"] for f in schema if f["kind"] == "category"]
    if native:  # histogram boosting bins numbers and handles missing values and categories itself
        ordinal = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan, dtype=np.float32
        )
        return ColumnTransformer([("numeric", "passthrough", numbers), ("categorical", ordinal, categories)])
    numeric = Pipeline(
        [("impute", SimpleImputer(strategy="median", keep_empty_features=True)), ("scale", StandardScaler())]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)),
        ]
    )
    return ColumnTransformer([("numeric", numeric, numbers), ("categorical", categorical, categories)])


def native_categorical_mask(schema: list[dict[str, Any]], max_levels: int) -> list[bool]:
    """Which columns of the native encoder's output (numbers first) histogram boosting treats as categories.

    It takes a category natively up to `max_levels` levels (its max_bins); one with more is
    ordinal-encoded and split on as a number.
    """
    numbers = [False for f in schema if f["kind"] == "number"]
    levels = [len(f["categories"]) <= max_levels for f in schema if f["kind"] == "category"]
    return numbers + levels

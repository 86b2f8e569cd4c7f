"""The feature pipeline: a ColumnTransformer built from the data's schema."""

from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


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


def build_preprocessor(schema: list[dict[str, Any]]) -> ColumnTransformer:
    """Impute and scale numbers; impute and one-hot encode categories (unseen ones encode as all zeros)."""
    numbers = [f["name"] for f in schema if f["kind"] == "number"]
    categories = [f["name"] for f in schema if f["kind"] == "category"]
    numeric = Pipeline(
        [("impute", SimpleImputer(strategy="median", keep_empty_features=True)), ("scale", StandardScaler())]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer([("numeric", numeric, numbers), ("categorical", categorical, categories)])

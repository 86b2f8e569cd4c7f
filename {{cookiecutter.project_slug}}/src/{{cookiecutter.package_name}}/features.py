"""The feature pipeline: a ColumnTransformer built from the data's schema."""

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from .progress import progress

# Rows encoded at a time: bounds the memory of the feature matrix built for each transform or predict call.
CHUNK_ROWS = 100_000
# The numbers a date feature becomes; "hour" too when the times of day vary.
DATE_PARTS = ("year", "month", "day_of_year", "day_of_week")


class DateParts(TransformerMixin, BaseEstimator):
    """Dates (datetimes, or ISO 8601 text as the API sends them) as numbers: year, month, day of year...

    Stateless: the parts come from the feature schema, so the encoding does not depend on the rows fitted.
    """

    def __init__(self, parts: tuple[str, ...] = DATE_PARTS) -> None:
        self.parts = parts

    def fit(self, features: pd.DataFrame, labels: Any = None) -> "DateParts":
        """Remember the input columns."""
        self.feature_names_in_ = np.asarray(features.columns, dtype=object)
        return self

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        """Each column's parts side by side, NaN where a date is missing; times in UTC."""
        columns = []
        for _, column in features.items():
            dates = pd.to_datetime(column, format="ISO8601", utc=True)
            columns += [getattr(dates.dt, part).to_numpy(dtype=np.float32, na_value=np.nan) for part in self.parts]
        return np.column_stack(columns) if columns else np.empty((len(features), 0), dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """`<column>_<part>` for each column and part."""
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{name}_{part}" for name in names for part in self.parts], dtype=object)


def date_parts(column: pd.Series) -> list[str]:
    """The parts that encode a date column: the hour too when not every value is at midnight."""
    hours = column.dropna().dt.hour
    return [*DATE_PARTS, "hour"] if (hours != 0).any() else list(DATE_PARTS)


def split_xy(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Separate the features from the target column."""
    return frame.drop(columns=[target]), frame[target]


def feature_schema(features: pd.DataFrame) -> list[dict[str, Any]]:
    """Describe each input feature: name, dtype, kind, whether it may be missing, its categories."""
    schema = []
    for name, column in features.items():
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        date = pd.api.types.is_datetime64_any_dtype(column)
        categories = None if numeric or date else sorted(map(str, column.dropna().unique()))
        spec = {
            "name": str(name),
            "dtype": str(column.dtype),
            "kind": "date" if date else "number" if numeric else "category",
            "nullable": bool(column.isna().any()),
            "categories": categories,
        }
        schema.append(spec | ({"parts": date_parts(column)} if date else {}))
    return schema


def observed_categories(features: pd.DataFrame, schema: list[dict[str, Any]]) -> list[list[Any]]:
    """Each categorical column's values, sorted, then NaN if any is missing (None too): what OrdinalEncoder learns."""
    observed = []
    for column in (features[f["name"]] for f in schema if f["kind"] == "category"):
        values = sorted(column.dropna().unique().tolist())
        observed.append([*values, np.nan] if column.isna().any() else values)
    return observed


def fitting_rows(features: pd.DataFrame, schema: list[dict[str, Any]]) -> pd.DataFrame:
    """Enough rows to fit the native encoder given its categories: the first, and a missing value per column.

    A missing value lets each categorical column show the dtype that holds NaN, as in the whole table.
    """
    rows = {0}
    for feature in schema:
        if feature["kind"] == "category" and feature["nullable"]:
            rows.add(int(features[feature["name"]].isna().to_numpy().argmax()))
    return features.iloc[sorted(rows)]


def native_dtype(features: pd.DataFrame, schema: list[dict[str, Any]]) -> np.dtype:
    """The dtype of the native encoder's output: float32, unless a number needs float64 to stay exact."""
    numbers = [features[f["name"]].dtype for f in schema if f["kind"] == "number"]
    try:
        return np.result_type(np.float32, *numbers)  # what the ColumnTransformer's stacking gives
    except TypeError:  # a pandas extension dtype (nullable integers): keep every value exact
        return np.dtype(np.float64)


def build_preprocessor(
    schema: list[dict[str, Any]], native: bool = False, categories: list[list[Any]] | None = None
) -> ColumnTransformer:
    """The encoder for the estimator: one-hot and scaling by default, `native` for histogram boosting.

    The encoders write float32 (what scikit-learn's trees compute in): half the memory of float64.
    Given the `categories` (observed_categories), the native encoder's output does not depend on
    the rows it is fitted on: see encode_matrix.
    """
    numbers = [f["name"] for f in schema if f["kind"] == "number"]
    categorical = [f["name"] for f in schema if f["kind"] == "category"]
    dates = [(f"date_{f['name']}", DateParts(tuple(f["parts"])), [f["name"]]) for f in schema if f["kind"] == "date"]
    if native:  # histogram boosting bins numbers and handles missing values and categories itself
        ordinal = OrdinalEncoder(
            categories=categories or "auto",
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            dtype=np.float32,
        )
        return ColumnTransformer([("numeric", "passthrough", numbers), *dates, ("categorical", ordinal, categorical)])
    numeric = scaled_numbers()
    encode = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)),
        ]
    )
    scaled = [(name, Pipeline([("parts", parts), *scaled_numbers().steps]), columns) for name, parts, columns in dates]
    return ColumnTransformer([("numeric", numeric, numbers), *scaled, ("categorical", encode, categorical)])


def scaled_numbers() -> Pipeline:
    """Numbers with missing values imputed by the median, then standardised."""
    return Pipeline(
        [("impute", SimpleImputer(strategy="median", keep_empty_features=True)), ("scale", StandardScaler())]
    )


def native_categorical_mask(schema: list[dict[str, Any]], max_levels: int) -> list[bool]:
    """Which columns of the native encoder's output (numbers, then date parts) histogram boosting treats as categories.

    It takes a category natively up to `max_levels` levels (its max_bins); one with more is
    ordinal-encoded and split on as a number.
    """
    numbers = [False for f in schema if f["kind"] == "number"]
    numbers += [False for f in schema if f["kind"] == "date" for _ in f["parts"]]
    levels = [len(f["categories"]) <= max_levels for f in schema if f["kind"] == "category"]
    return numbers + levels


def encode_matrix(
    encoder: ColumnTransformer, features: pd.DataFrame, dtype: npt.DTypeLike = np.float64, desc: str = "encode"
) -> np.ndarray:
    """`features` through the fitted `encoder`, CHUNK_ROWS at a time, into one matrix of `dtype`.

    Unlike Pipeline.fit, which holds the table and its whole encoding at once, this lets the caller
    free the table as soon as the matrix is made.
    """
    matrix = np.empty((len(features), len(encoder.get_feature_names_out())), dtype=dtype)
    with progress(len(features), desc) as bar:
        for start in range(0, len(features), CHUNK_ROWS):
            chunk = features.iloc[start : start + CHUNK_ROWS]
            matrix[start : start + len(chunk)] = encoder.transform(chunk)
            bar.update(len(chunk))
    return matrix

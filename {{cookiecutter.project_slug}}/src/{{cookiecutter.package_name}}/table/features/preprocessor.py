"""The feature encoder: a ColumnTransformer built from the data's schema, feature kind by feature kind."""

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from ...data.date_parts import date_part_values
from ...data.dates import parse_dates
from ...data.schema import DATE_PARTS
from ...registry.manifest import Feature, image_feature
from . import custom

# Words of two or more letters or digits: a plain pattern that skl2onnx's TfidfVectorizer converter expresses.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
# The most frequent words and word pairs kept per text column: enough for topics, bounded for memory.
MAX_TERMS = 20_000
# An image's pixels become the principal components that keep this share of their variance.
IMAGE_VARIANCE = 0.95


class DateParts(TransformerMixin, BaseEstimator):
    """Dates (datetimes, or ISO 8601 text as the API sends them) as numbers: year, month, day of year...

    Stateless: the parts come from the feature schema, so the encoding does not depend on the rows fitted.
    modeling/portable.py computes them, for serving's ONNX model too.
    """

    def __init__(self, parts: tuple[str, ...] = DATE_PARTS) -> None:
        self.parts = parts

    def fit(self, features: pd.DataFrame, labels: Any = None) -> "DateParts":
        """Remember the input columns."""
        self.feature_names_in_ = np.asarray(features.columns, dtype=object)
        return self

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        """Each column's parts side by side, NaN where a date is missing; times in UTC."""
        columns = [date_part_values(column, self.parts) for _, column in features.items()]
        return np.hstack(columns) if columns else np.empty((len(features), 0), dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """`<column>_<part>` for each column and part."""
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{name}_{part}" for name in names for part in self.parts], dtype=object)


class OwnFeatures(TransformerMixin, BaseEstimator):
    """The columns of features/custom.py's OWN_FEATURES, computed from the input rows, as float32.

    The functions see the rows as training has them, wherever they come from: the `dates` columns
    as datetimes in UTC (the API and predict_file send ISO 8601 text).
    """

    dates: tuple[str, ...] = ()  # a model pickled before date columns were parsed here has none

    def __init__(self, names: tuple[str, ...] = (), dates: tuple[str, ...] = ()) -> None:
        self.names = names
        self.dates = dates

    def fit(self, features: pd.DataFrame, labels: Any = None) -> "OwnFeatures":
        """Nothing to learn: the functions in custom.py compute each column."""
        return self

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        """One column per name, by the function custom.py gives it now."""
        texts = [name for name in self.dates if not pd.api.types.is_datetime64_any_dtype(features[name])]
        rows = features.assign(**{name: parse_dates(features[name]) for name in texts}) if texts else features
        columns = [pd.to_numeric(custom.OWN_FEATURES[name](rows)).to_numpy(dtype=np.float32) for name in self.names]
        return np.column_stack(columns) if columns else np.empty((len(features), 0), dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The names custom.py gives the columns."""
        return np.asarray(self.names, dtype=object)


def build_preprocessor(
    schema: list[Feature], native: bool = False, categories: list[list[Any]] | None = None, scale: bool = True
) -> ColumnTransformer | Pipeline:
    """The encoder for the estimator: one-hot and scaling by default, `native` for histogram boosting.

    `scale=False` leaves numbers unscaled, for trees: scaling moves no split, and without it the ONNX
    copy (modeling/export.py) computes in float32 exactly what scikit-learn does.

    The encoders write float32 (what scikit-learn's trees compute in): half the memory of float64.
    Given the `categories` (native.observed_categories), the native encoder's output does not depend
    on the rows it is fitted on: see native.encode_matrix. The output's columns come in this order:
    numbers, your own features, date parts, categories (native.categorical_mask relies on it), then
    the TF-IDF of each text column (not for histogram boosting: train refuses text with it).
    """
    if image_feature(schema):
        return image_pixels()
    numbers = [f["name"] for f in schema if f["kind"] == "number"]
    categorical = [f["name"] for f in schema if f["kind"] == "category"]
    dates = [(f"date_{f['name']}", DateParts(tuple(f["parts"])), [f["name"]]) for f in schema if f["kind"] == "date"]
    own = own_features(schema)
    if native:  # histogram boosting bins numbers and handles missing values and categories itself
        ordinal = OrdinalEncoder(
            categories=categories or "auto",
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            dtype=np.float32,
        )
        return ColumnTransformer(
            [("numeric", "passthrough", numbers), *own, *dates, ("categorical", ordinal, categorical)]
        )
    encode = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)),
        ]
    )
    scaled = [
        (name, Pipeline([(part, step), *scaled_numbers(scale).steps]), columns)
        for part, (name, step, columns) in [
            *[("derive", entry) for entry in own],
            *[("parts", entry) for entry in dates],
        ]
    ]
    numeric = ("numeric", scaled_numbers(scale), numbers)
    return ColumnTransformer([numeric, *scaled, ("categorical", encode, categorical), *text_terms(schema)])


def image_pixels() -> Pipeline:
    """An image's pixels (data/images.py) as their principal components, standardised.

    Neighbouring pixels move together: a few dozen components carry most of an image, so an SVM
    or a linear model fits fast and generalises better than on every pixel.
    """
    pca = PCA(n_components=IMAGE_VARIANCE, random_state=0)  # a share of variance: an exact, seeded solver
    return Pipeline([("pca", pca), ("scale", StandardScaler())])


def text_terms(schema: list[Feature]) -> list[tuple[str, TfidfVectorizer, str]]:
    """A TF-IDF of word uni- and bigrams per text column; a column name, not a list, hands it the 1-D texts."""
    words = {"token_pattern": TOKEN_PATTERN, "ngram_range": (1, 2), "max_features": MAX_TERMS}
    return [(f"text_{f['name']}", TfidfVectorizer(**words), f["name"]) for f in schema if f["kind"] == "text"]


def own_features(schema: list[Feature]) -> list[tuple[str, OwnFeatures, list[str]]]:
    """The ColumnTransformer entry of custom.py's features (none when it lists none): they read every input."""
    if not custom.OWN_FEATURES:
        return []
    dates = tuple(f["name"] for f in schema if f["kind"] == "date")
    return [("own", OwnFeatures(tuple(custom.OWN_FEATURES), dates), [f["name"] for f in schema])]


def scaled_numbers(scale: bool = True) -> Pipeline:
    """Numbers with missing values imputed by the median, then standardised (unless not `scale`)."""
    impute = ("impute", SimpleImputer(strategy="median", keep_empty_features=True))
    return Pipeline([impute, ("scale", StandardScaler())] if scale else [impute])

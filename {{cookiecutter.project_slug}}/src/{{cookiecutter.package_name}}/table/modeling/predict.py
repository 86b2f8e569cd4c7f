"""Run a model over a table once, in chunks with progress: predicted labels and class probabilities."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...progress import chunks

if TYPE_CHECKING:  # a type only: the server imports this module and must not need scikit-learn
    from sklearn.base import BaseEstimator


@dataclass(frozen=True)
class Predictions:
    """A model's outputs for each row: its prediction, and class probabilities when it has them."""

    predicted: np.ndarray
    proba: np.ndarray | None
    classes: np.ndarray | None


def predict_table(model: "BaseEstimator", features: pd.DataFrame, desc: str = "predict") -> Predictions:
    """Predict every row of `features`, CHUNK_ROWS at a time."""
    predicted: list[np.ndarray] = []
    proba: list[np.ndarray] = []  # a model gives probabilities for every chunk or for none
    for _, chunk in chunks(features, desc):
        labels, probabilities = predict_once(model, chunk)
        predicted.append(labels)
        if probabilities is not None:
            proba.append(probabilities)
    probabilistic = bool(proba)
    return Predictions(
        predicted=np.concatenate(predicted) if predicted else np.array([]),
        proba=np.concatenate(proba) if probabilistic else None,
        classes=getattr(model, "classes_", None),
    )


def predict_once(model: "BaseEstimator", features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """The predictions and, for a classifier that has them, the class probabilities, in one model pass.

    The prediction is the most probable class, as scikit-learn's classifiers compute predict().
    """
    if hasattr(model, "predict_proba") and hasattr(model, "classes_"):  # a Pipeline has it when its estimator does
        probabilities = model.predict_proba(features)
        return model.classes_[probabilities.argmax(axis=1)], probabilities
    return model.predict(features), None

"""Run a model over a table once, in chunks with progress: predicted labels and class probabilities."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .progress import progress

# Rows per chunk: bounds the memory of the feature matrix built for each predict call.
CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class Predictions:
    """A model's outputs for each row: its prediction, and class probabilities when it has them."""

    predicted: np.ndarray
    proba: np.ndarray | None
    classes: np.ndarray | None


def predict(model: BaseEstimator, features: pd.DataFrame, desc: str = "predict") -> Predictions:
    """Predict every row of `features`, CHUNK_ROWS at a time."""
    probabilistic = hasattr(model, "predict_proba")  # a Pipeline has it only when its estimator does
    predicted, proba = [], []
    with progress(len(features), desc) as bar:
        for start in range(0, len(features), CHUNK_ROWS):
            chunk = features.iloc[start : start + CHUNK_ROWS]
            predicted.append(model.predict(chunk))
            if probabilistic:
                proba.append(model.predict_proba(chunk))
            bar.update(len(chunk))
    return Predictions(
        predicted=np.concatenate(predicted),
        proba=np.concatenate(proba) if probabilistic else None,
        classes=getattr(model, "classes_", None),
    )

"""The metrics of a model's predictions on held-out data, shared by the train and evaluate stages."""

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics

from ...formatting import rounded
from .predict import Predictions


def score(task: str, target: pd.Series, predictions: Predictions) -> dict[str, float | None]:
    """Return the task's metrics, rounded so that reruns compare equal in git diffs; None for an undefined one."""
    predicted = predictions.predicted
    if task == "regression":
        values = {
            "r2": metrics.r2_score(target, predicted),
            "rmse": metrics.root_mean_squared_error(target, predicted),
            "mae": metrics.mean_absolute_error(target, predicted),
        }
    else:
        values = {
            "accuracy": metrics.accuracy_score(target, predicted),
            "balanced_accuracy": metrics.balanced_accuracy_score(target, predicted),
            "f1_macro": metrics.f1_score(target, predicted, average="macro"),
        }
        if predictions.proba is not None:
            assert predictions.classes is not None  # a model with class probabilities has classes_
            values.update(probability_metrics(target, predictions.proba, predictions.classes))
    return {name: rounded(value) for name, value in values.items()}


def probability_metrics(target: pd.Series, proba: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """ROC AUC (one-vs-rest for several classes) and log loss, from predicted probabilities."""
    if len(np.unique(target)) < 2:
        return {"log_loss": metrics.log_loss(target, proba, labels=classes)}
    positive = proba[:, 1] if len(classes) == 2 else proba
    return {
        "roc_auc": metrics.roc_auc_score(target, positive, multi_class="ovr", labels=classes),
        "log_loss": metrics.log_loss(target, proba, labels=classes),
    }


def cv_metrics(search: dict[str, Any] | None) -> dict[str, float]:
    """A hyperparameter search's cross-validated score (from the manifest) as a metric beside the test ones."""
    return {"cv_score": search["cv_score"]} if search else {}

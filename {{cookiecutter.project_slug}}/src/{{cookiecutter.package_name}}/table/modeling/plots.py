"""Plot data for DVC (`dvc plots show`) and the report: curves, predictions and feature importances."""

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.base import BaseEstimator
from sklearn.inspection import permutation_importance
from sklearn.preprocessing import label_binarize

from ...formatting import Rows, rounded
from .predict import Predictions

# Permutation importance on at most this many rows keeps evaluate fast on big test sets.
IMPORTANCE_ROWS = 2000
CURVE_POINTS = 200
# Per-row plots (confusion, predictions, residuals) keep a fixed sample: plot files stay small in git.
PLOT_ROWS = 5000


def classification_plots(predictions: Predictions, target: pd.Series) -> dict[str, Rows]:
    """ROC and precision-recall curves (micro-averaged over classes) and the confusion rows."""
    predicted = predictions.predicted
    rows = sample_rows(len(target))
    confusion = [{"actual": str(target.iloc[i]), "predicted": str(predicted[i])} for i in rows]
    if predictions.proba is None:
        return {"confusion": confusion}
    proba, classes = predictions.proba, predictions.classes
    assert classes is not None  # a model with class probabilities has classes_
    truth = label_binarize(target, classes=classes)
    if len(classes) == 2:
        truth, proba = truth.ravel(), proba[:, 1]
    else:
        truth, proba = truth.ravel(), proba.ravel()
    fpr, tpr, _ = metrics.roc_curve(truth, proba)
    precision, recall, _ = metrics.precision_recall_curve(truth, proba)
    return {
        "roc": thin([{"fpr": f, "tpr": t} for f, t in zip(fpr, tpr, strict=True)]),
        "precision_recall": thin([{"recall": r, "precision": p} for r, p in zip(recall, precision, strict=True)]),
        "confusion": confusion,
    }


def regression_plots(predictions: Predictions, target: pd.Series) -> dict[str, Rows]:
    """Predicted against actual values, and the residuals against the predictions."""
    predicted = predictions.predicted
    actual = np.asarray(target, dtype=float)
    pairs = [(actual[i], predicted[i]) for i in sample_rows(len(actual))]
    return {
        "predictions": [{"actual": rounded(a), "predicted": rounded(p)} for a, p in pairs],
        "residuals": [{"predicted": rounded(p), "residual": rounded(a - p)} for a, p in pairs],
    }


def feature_importance(model: BaseEstimator, features: pd.DataFrame, target: pd.Series, seed: int) -> Rows:
    """Permutation importance of each input feature, largest first (model-agnostic, in input terms)."""
    sample = features.sample(n=min(len(features), IMPORTANCE_ROWS), random_state=seed)
    result = permutation_importance(model, sample, target.loc[sample.index], n_repeats=5, random_state=seed)
    rows = [
        {"feature": str(name), "importance": rounded(mean)}
        for name, mean in zip(features.columns, result.importances_mean, strict=True)
    ]
    return sorted(rows, key=lambda row: -row["importance"])


def sample_rows(count: int) -> np.ndarray:
    """All row positions, or PLOT_ROWS of them evenly spread (deterministic) when there are more."""
    return np.unique(np.linspace(0, count - 1, num=min(count, PLOT_ROWS)).round().astype(int))


def thin(rows: Rows) -> Rows:
    """Keep at most CURVE_POINTS evenly spaced points of a curve (ends included), rounded."""
    keep = np.unique(np.linspace(0, len(rows) - 1, num=min(len(rows), CURVE_POINTS)).round().astype(int))
    return [{key: rounded(value) for key, value in rows[i].items()} for i in keep]

"""The served model's metrics on the rows whose true label came back as feedback, overall and per day."""

from typing import Any

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error

from ..formatting import rounded

# The test metrics shown beside the live ones, by task (the names evaluate writes).
TEST_METRICS = {"classification": ("accuracy", "f1_macro"), "regression": ("mae", "r2")}


def scores(task: str, truth: pd.Series, predicted: pd.Series) -> dict[str, Any]:
    """Accuracy and macro F1 for classes, the mean absolute error for numbers."""
    if task == "classification":
        truth, predicted = truth.astype(str), predicted.astype(str)
        return {"accuracy": rounded(accuracy_score(truth, predicted)),
                "f1_macro": rounded(f1_score(truth, predicted, average="macro", zero_division=0))}  # fmt: skip
    return {"mae": rounded(mean_absolute_error(truth.astype(float), predicted.astype(float)))}


def live_metrics(labelled: pd.DataFrame, task: str, test_metrics: dict[str, Any]) -> dict[str, Any] | None:
    """Metrics of `labelled` (columns created, prediction, label), overall and by the day predicted; None if empty."""
    if labelled.empty:
        return None
    days = [
        {"day": day.isoformat(), "rows": len(rows), **scores(task, rows["label"], rows["prediction"])}
        for day, rows in labelled.groupby(labelled["created"].dt.date, sort=True)
    ]
    return {
        "metric": "accuracy" if task == "classification" else "mae",
        "test": {name: test_metrics.get(name) for name in TEST_METRICS[task]},
        "labelled": len(labelled),
        "overall": {"rows": len(labelled), **scores(task, labelled["label"], labelled["prediction"])},
        "days": days,
    }

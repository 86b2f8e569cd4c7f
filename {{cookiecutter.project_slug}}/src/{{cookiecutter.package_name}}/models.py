"""Pick the task and the estimator that params.yaml's `train` section names."""

import difflib
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge

from .errors import PipelineError

TASKS = ("classification", "regression")
ESTIMATORS: dict[str, dict[str, type[BaseEstimator]]] = {
    "random_forest": {"classification": RandomForestClassifier, "regression": RandomForestRegressor},
    "gradient_boosting": {"classification": GradientBoostingClassifier, "regression": GradientBoostingRegressor},
    "hist_gradient_boosting": {
        "classification": HistGradientBoostingClassifier,
        "regression": HistGradientBoostingRegressor,
    },
    "linear": {"classification": LogisticRegression, "regression": Ridge},
}
# A numeric target with at most this many distinct values is taken for class labels.
MAX_CLASSES = 20


def infer_task(target: pd.Series, task: str = "auto") -> str:
    """Return `task`, or when it is 'auto' infer it: text, booleans and few integers are classes."""
    if task in TASKS:
        return task
    if task != "auto":
        raise PipelineError(f"train.task {task!r} is not one of auto, {', '.join(TASKS)}")
    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return "classification"
    if pd.api.types.is_integer_dtype(target) and target.nunique() <= MAX_CLASSES:
        return "classification"
    return "regression"


def build_estimator(name: str, task: str, hyperparams: dict[str, Any] | None, seed: int) -> BaseEstimator:
    """Instantiate the estimator `name` for `task` with `hyperparams`, seeded for reproducibility."""
    if name not in ESTIMATORS:
        raise PipelineError(f"train.model {name!r} is not one of {', '.join(ESTIMATORS)}")
    estimator = ESTIMATORS[name][task]()
    allowed = estimator.get_params()
    for key in hyperparams or {}:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PipelineError(
                f"train.hyperparams.{name}: {key!r} is not a parameter of {type(estimator).__name__}{hint}"
            )
    defaults = {"random_state": seed} if "random_state" in allowed else {}
    if isinstance(estimator, LogisticRegression):
        defaults["max_iter"] = 1000
    try:
        return estimator.set_params(**{**defaults, **(hyperparams or {})})
    except (TypeError, ValueError) as exc:
        raise PipelineError(f"train.hyperparams.{name}: {exc}") from None

"""An optional cross-validated hyperparameter search around the model (params.yaml: train.search)."""

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline

from ...errors import PipelineError
from ...formatting import did_you_mean, rounded
from .estimators import tuned_part

METHODS = ("none", "grid", "random")


def with_search(model: Pipeline, search: dict[str, Any] | None, seed: int) -> BaseEstimator:
    """The model itself, or a grid/randomized search over its estimator's hyperparameters."""
    method = (search or {}).get("method") or "none"
    if method not in METHODS:
        raise PipelineError(f"train.search.method {method!r} is not one of {', '.join(METHODS)}")
    if method == "none":
        return model
    assert search is not None  # no search settings means method "none"
    space = search.get("space") or {}
    if not space:
        raise PipelineError("train.search.space is empty: list values for the hyperparameters to search")
    tuned, prefix = tuned_part(model.named_steps["estimator"])
    allowed = tuned.get_params()
    for key, values in space.items():
        if key not in allowed:
            raise PipelineError(f"train.search.space: {key!r} is not a hyperparameter{did_you_mean(key, allowed)}")
        if not isinstance(values, list) or not values:
            raise PipelineError(f"train.search.space: {key!r} needs a non-empty list of values")
    grid = {f"estimator__{prefix}{key}": values for key, values in space.items()}
    common = {"cv": search.get("cv", 5), "scoring": search.get("scoring"), "n_jobs": -1, "refit": True}
    if method == "grid":
        return GridSearchCV(model, grid, **common)
    return RandomizedSearchCV(model, grid, n_iter=search.get("iterations", 10), random_state=seed, **common)


def best_model(fitted: BaseEstimator) -> BaseEstimator:
    """The pipeline to save: the search's refitted best, or the model itself."""
    return getattr(fitted, "best_estimator_", fitted)


def search_summary(fitted: BaseEstimator) -> dict[str, Any] | None:
    """The best hyperparameters and their cross-validated score, for the manifest."""
    if not hasattr(fitted, "best_params_"):
        return None
    return {
        "best_params": {key.rsplit("__", 1)[-1]: value for key, value in fitted.best_params_.items()},
        "cv_score": rounded(fitted.best_score_),
        "scoring": fitted.scoring or "default (accuracy or r2)",
        "candidates": len(fitted.cv_results_["params"]),
    }

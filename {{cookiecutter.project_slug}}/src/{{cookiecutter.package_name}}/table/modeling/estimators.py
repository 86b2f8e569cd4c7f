"""The estimators by name (params.yaml: train.model), for either task."""

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import SVC, SVR

from ...errors import PipelineError
from ...formatting import did_you_mean

ESTIMATORS: dict[str, dict[str, type[BaseEstimator]]] = {
    "random_forest": {"classification": RandomForestClassifier, "regression": RandomForestRegressor},
    "gradient_boosting": {"classification": GradientBoostingClassifier, "regression": GradientBoostingRegressor},
    "hist_gradient_boosting": {
        "classification": HistGradientBoostingClassifier,
        "regression": HistGradientBoostingRegressor,
    },
    "linear": {"classification": LogisticRegression, "regression": Ridge},
    "svm": {"classification": SVC, "regression": SVR},  # the default for images; slow beyond ~50k rows
}
# Trees split on the order of values: they take numbers unscaled (features/preprocessor.py), which moves
# no split and lets their ONNX copy compute exactly what scikit-learn does (float32 scaling differs by ulps).
UNSCALED = ("random_forest", "gradient_boosting")


def build_estimator(name: str, task: str, hyperparams: dict[str, Any] | None, seed: int) -> BaseEstimator:
    """Instantiate the estimator `name` for `task` with `hyperparams`, seeded for reproducibility."""
    if name not in ESTIMATORS:
        raise PipelineError(f"train.model {name!r} is not one of {', '.join(ESTIMATORS)}")
    estimator = ESTIMATORS[name][task]()
    allowed = estimator.get_params()
    for key in hyperparams or {}:
        if key not in allowed:
            raise PipelineError(
                f"train.hyperparams.{name}: {key!r} is not a parameter of {type(estimator).__name__}"
                + did_you_mean(key, allowed)
            )
    defaults = {"random_state": seed} if "random_state" in allowed else {}
    if isinstance(estimator, LogisticRegression):
        defaults["max_iter"] = 1000
    try:
        estimator.set_params(**{**defaults, **(hyperparams or {})})
    except (TypeError, ValueError) as exc:
        raise PipelineError(f"train.hyperparams.{name}: {exc}") from None
    if isinstance(estimator, SVC):  # class probabilities by cross-validated calibration (SVC's own is deprecated)
        return CalibratedClassifierCV(estimator, ensemble=False)
    return estimator


def tuned_part(estimator: BaseEstimator) -> tuple[BaseEstimator, str]:
    """The estimator train.hyperparams names and its parameters' prefix: a calibrated SVM's SVC, or itself."""
    if isinstance(estimator, CalibratedClassifierCV):
        return estimator.estimator, "estimator__"
    return estimator, ""


def parameter_names(model: str) -> list[str]:
    """The parameter names of `model`'s scikit-learn classifier and regressor: params.py's hints."""
    return sorted({name for cls in ESTIMATORS[model].values() for name in cls().get_params()})

"""The feature encoder and the estimator `train.model` names, as one scikit-learn Pipeline."""

from typing import Any

from sklearn.pipeline import Pipeline

from ...errors import PipelineError
from ...params import model_hyperparams
from ...registry.manifest import Feature, image_feature
from ..features.native import NATIVE_MODEL, native_categorical_mask
from ..features.preprocessor import build_preprocessor
from .estimators import UNSCALED, build_estimator


def native_encoding(model: str, schema: list[Feature]) -> bool:
    """Whether histogram boosting encodes categories itself (features/native.py): tables only, not pixels."""
    return model == NATIVE_MODEL and image_feature(schema) is None


def build_pipeline(
    train_params: dict[str, Any], task: str, schema: list[Feature], categories: list[list[Any]] | None = None
) -> Pipeline:
    """The encoder of `schema` and the estimator of train.model, its categories native when it takes them."""
    hyperparams = model_hyperparams(train_params)
    estimator = build_estimator(train_params["model"], task, hyperparams, train_params["seed"])
    native = native_encoding(train_params["model"], schema)
    if native and (text := [f["name"] for f in schema if f["kind"] == "text"]):
        raise PipelineError(
            f"train.model {NATIVE_MODEL} cannot learn from text columns ({', '.join(text)} in data.text): "
            "set train.model: linear, the recommended model for text"
        )
    if native and "categorical_features" not in hyperparams:
        searched = ((train_params.get("search") or {}).get("space") or {}).get("max_bins") or []
        max_levels = min([estimator.get_params()["max_bins"], *searched])  # every candidate must accept it
        mask = native_categorical_mask(schema, max_levels)
        estimator.set_params(categorical_features=mask if any(mask) else None)
    scale = train_params["model"] not in UNSCALED
    encoder = build_preprocessor(schema, native=native, categories=categories, scale=scale)
    return Pipeline([("features", encoder), ("estimator", estimator)])

"""The manifest, models/model.json: what a trained model is, typed once for train, serving and the report."""

from typing import Any, Literal, NotRequired, TypedDict

from ..data.schema import Feature

__all__ = ["Feature", "Manifest"]


class Manifest(TypedDict):
    """models/model.json: written by train (through registry.artifacts.save_model), read by everything after."""

    model_file: str
    sha256: str
    size_bytes: int
    task: Literal["classification", "regression"]
    target: str
    classes: list[Any] | None  # class labels in the order of predict_proba's columns; None for regression
    features: list[Feature]
    estimator: str
    params: dict[str, Any]  # {"train": ..., "prepare": ...} as in params.yaml
    metrics: dict[str, float]
    search: dict[str, Any] | None
    data: dict[str, Any]  # {"train_rows": ..., "sha256": ...}
    versions: dict[str, str]  # python and library versions
    git_commit: str | None
    version: NotRequired[str]  # the release (model@v0.0.3), set by serving when it loads the model

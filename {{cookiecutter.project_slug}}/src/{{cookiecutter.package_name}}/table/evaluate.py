"""The table kind's evaluate: score the saved pipeline on the test split; metrics and plot data."""

from typing import Any

from ..atomic import write_json
from ..data.dtypes import read_parquet
from ..data.reference import predictions_reference
from ..data.schema import split_xy
from ..paths import MODEL_PATH, PREDICTIONS_REFERENCE_PATH, TEST_PATH
from ..registry.artifacts import load_model
from ..registry.manifest import image_feature
from .modeling.metrics import cv_metrics, score
from .modeling.plots import classification_plots, feature_importance, regression_plots
from .modeling.predict import predict_table

LIBRARIES = ("scikit-learn", "pandas", "numpy", "joblib", "skl2onnx", "onnx", "onnxruntime")


def evaluate() -> tuple[dict[str, Any], dict[str, Any]]:
    """The saved pipeline's metrics and plot data on the test split, and the binned answers the monitor reads."""
    loaded = load_model(MODEL_PATH)
    seed = loaded.manifest["params"]["train"]["seed"]
    model, task = loaded.model, loaded.manifest["task"]
    features, target = split_xy(read_parquet(TEST_PATH), loaded.manifest["target"])

    predictions = predict_table(model, features, "evaluate: predict")
    metrics = score(task, target, predictions) | cv_metrics(loaded.manifest.get("search"))
    plots = (classification_plots if task == "classification" else regression_plots)(predictions, target)
    if image_feature(loaded.manifest["features"]) is None:  # not per pixel
        plots["feature_importance"] = feature_importance(model, features, target, seed)
    answers = predictions_reference(predictions.predicted, task, loaded.manifest["sha256"])
    write_json(PREDICTIONS_REFERENCE_PATH, answers)
    return metrics, plots

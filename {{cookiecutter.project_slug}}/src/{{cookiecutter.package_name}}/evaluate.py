"""Stage evaluate: score the saved model on the test split; write metrics and plot data."""

from typing import Any

from .atomic import atomic_dir, write_json
from .data.dtypes import read_parquet
from .data.reference import predictions_reference
from .data.schema import image_feature, split_xy
from .errors import run_main
from .modeling.metrics import cv_metrics, score
from .modeling.plots import PLOT_NAMES, classification_plots, feature_importance, regression_plots
from .modeling.predict import predict_table
from .modeling.recommending import evaluate_recommender
from .modeling.tagging import evaluate_entities
from .paths import ENTITY_EXAMPLES_PATH, METRICS_PATH, MODEL_PATH, PLOTS_DIR, PREDICTIONS_REFERENCE_PATH, TEST_PATH
from .registry.artifacts import load_model, read_manifest


def main() -> None:
    """Load the model through its hash check, then write metrics and plots."""
    task = read_manifest(MODEL_PATH).get("task")
    if task == "recommend":  # ranking metrics: modeling/recommending.py
        write_results(evaluate_recommender(), {})
        return
    if task == "entities":  # entity scores, and a few held-out texts for the report: modeling/tagging.py
        metrics, examples = evaluate_entities()
        write_json(ENTITY_EXAMPLES_PATH, examples)
        write_results(metrics, {})
        return
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
    write_results(metrics, plots)


def write_results(metrics: dict[str, Any], plots: dict[str, Any]) -> None:
    """Every plot file dvc.yaml lists (empty where this task has none), then the metrics."""
    with atomic_dir(PLOTS_DIR) as tmp:
        for name in PLOT_NAMES:
            write_json(tmp / f"{name}.json", plots.get(name, []))
    write_json(METRICS_PATH, metrics)
    print(f"evaluate: {metrics}")


if __name__ == "__main__":
    run_main(main)

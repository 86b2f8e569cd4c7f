"""Stage evaluate: score the saved model on the test split; write metrics and plot data."""

from pathlib import Path

from .artifacts import MODEL_PATH, load_model
from .atomic import atomic_dir, write_json
from .dtypes import read_parquet
from .errors import run_stage
from .features import split_xy
from .plots import PLOT_NAMES, classification_plots, feature_importance, regression_plots
from .predictions import predict
from .scoring import cv_metrics, score

TEST_PATH = Path("data/prepared/test.parquet")
METRICS_PATH = Path("metrics/metrics.json")
PLOTS_DIR = Path("plots")


def main() -> None:
    """Load the model through its hash check, then write metrics and plots."""
    loaded = load_model(MODEL_PATH)
    seed = loaded.manifest["params"]["train"]["seed"]
    model, task = loaded.model, loaded.manifest["task"]
    features, target = split_xy(read_parquet(TEST_PATH), loaded.manifest["target"])

    predictions = predict(model, features, "evaluate: predict")
    metrics = score(task, target, predictions) | cv_metrics(loaded.manifest.get("search"))
    plots = (classification_plots if task == "classification" else regression_plots)(predictions, target)
    plots["feature_importance"] = feature_importance(model, features, target, seed)
    with atomic_dir(PLOTS_DIR) as tmp:
        for name in PLOT_NAMES:
            write_json(tmp / f"{name}.json", plots.get(name, []))
    write_json(METRICS_PATH, metrics)
    print(f"evaluate: {metrics}")


if __name__ == "__main__":
    run_stage(main)

"""Stage evaluate: score the saved model on the test split; write metrics and plot data.

The kind of the saved model (its manifest's task, kinds.py) loads it through the hash check and
scores it; this stage writes what dvc.yaml declares.
"""

from typing import Any

from . import kinds
from .atomic import atomic_dir, write_json
from .errors import run_main
from .paths import METRICS_PATH, MODEL_PATH, PLOT_NAMES, PLOTS_DIR
from .registry.artifacts import read_manifest


def main() -> None:
    """Score the model the manifest describes, then write its metrics and plots."""
    manifest = read_manifest(MODEL_PATH)
    metrics, plots = kinds.part(kinds.for_task(manifest.get("task")), "evaluate").evaluate()
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

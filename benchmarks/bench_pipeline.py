"""Time the default bake: bake, first/no-op/param-change `dvc repro`, beside one plain Python process.

Run with `make bench`; writes results/pipeline.{json,md} and quotes the table in README.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from common import BIN, MACHINE, Runner, bake, median_of, timed, write_figures

REPEATS = 5


def main() -> None:
    """Bake into a scratch folder, time each step, write the figures."""
    with tempfile.TemporaryDirectory() as scratch:
        bake_times, project = [], Path()
        for attempt in range(3):
            output = Path(scratch) / f"bake{attempt}"
            bake_times.append(timed(lambda out=output: bake(out)))
            project = output / "my-ml-project"
        run, dvc = Runner(project), str(BIN / "dvc")
        params_file, trees = project / "params.yaml", iter(range(101, 200))

        def change_train_param() -> None:
            params = yaml.safe_load(params_file.read_text())
            params["train"]["hyperparams"]["n_estimators"] = next(trees)
            params_file.write_text(yaml.safe_dump(params, sort_keys=False))

        first = timed(lambda: run(dvc, "repro"))
        noop = median_of(lambda: run(dvc, "repro"), REPEATS)
        param_change = median_of(lambda: run(dvc, "repro"), 3, before=change_train_param)
        floor_code = "from my_ml_project import evaluate, train; train.main(); evaluate.main()"
        floor = median_of(lambda: run(sys.executable, "-c", floor_code), 3, before=change_train_param)
        # What dvc repro cannot avoid over the floor: DVC itself, and a second interpreter that
        # needs scikit-learn (evaluate unpickles the model).
        sklearn_import = median_of(lambda: run(sys.executable, "-c", "import sklearn.base"), REPEATS)

    figures = {
        "machine": MACHINE,
        "bake_s": round(statistics.median(bake_times), 3),
        "first_repro_s": round(first, 3),
        "noop_repro_s": round(noop, 3),
        "param_change_repro_s": round(param_change, 3),
        "floor_train_evaluate_s": round(floor, 3),
        "param_change_vs_floor": round(param_change / floor, 2),
        "sklearn_import_s": round(sklearn_import, 3),
        "least_param_change_vs_floor": round((floor + noop + sklearn_import) / floor, 2),
        "goals": {"noop_repro_s": "< 1.0", "param_change_vs_floor": "<= 1.5"},
    }
    table = "\n".join(
        [
            f"Default bake (breast_cancer, random forest), {MACHINE}; medians.",
            "",
            "| step | seconds | goal |",
            "|---|---|---|",
            f"| bake (cookiecutter + git/dvc init) | {figures['bake_s']} | |",
            f"| first `dvc repro` (3 stages) | {figures['first_repro_s']} | |",
            f"| no-op `dvc repro` | {figures['noop_repro_s']} | < 1 s |",
            f"| `dvc repro` after a `train` param change | {figures['param_change_repro_s']} | <= 1.5x floor |",
            f"| floor: train + evaluate in one Python process | {figures['floor_train_evaluate_s']} | |",
            f"| param-change repro / floor | {figures['param_change_vs_floor']}x | <= 1.5x |",
            f"| a second interpreter importing scikit-learn | {figures['sklearn_import_s']} | |",
            "| least possible ratio: (floor + no-op repro + that import) / floor | "
            f"{figures['least_param_change_vs_floor']}x | |",
        ]
    )
    write_figures("pipeline", figures, table)


if __name__ == "__main__":
    main()

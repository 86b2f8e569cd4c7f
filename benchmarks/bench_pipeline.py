"""Time the default bake: bake, first/no-op/param-change `dvc repro`, beside one plain Python process.

Run with `make bench`; writes results/pipeline.{json,md} and quotes the table in README.md.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from common import BIN, MACHINE, Runner, bake, median_of, timed, write_figures

REPEATS = 5
# The floor: train and evaluate in one interpreter, timing evaluate once its imports are warm.
FLOOR = (
    "import json, time\n"
    "from my_ml_project import evaluate, train\n"
    "train.main()\n"
    "start = time.perf_counter()\n"
    "evaluate.main()\n"
    "print(json.dumps({'warm_evaluate_s': time.perf_counter() - start}))\n"
)


def main() -> None:
    """Bake into a scratch folder, time each step, write the figures."""
    with tempfile.TemporaryDirectory() as scratch:
        bake_times, project = [], Path()
        for attempt in range(3):
            output = Path(scratch) / f"bake{attempt}"
            bake_times.append(timed(lambda out=output: bake(out)))
            project = output / "my-ml-project"
        run, dvc, python = Runner(project), str(BIN / "dvc"), sys.executable
        params_file, trees = project / "params.yaml", iter(range(101, 200))

        def change_train_param() -> None:
            params = yaml.safe_load(params_file.read_text())
            params["train"]["hyperparams"]["random_forest"]["n_estimators"] = next(trees)
            params_file.write_text(yaml.safe_dump(params, sort_keys=False))

        first = timed(lambda: run(dvc, "repro"))
        noop = median_of(lambda: run(dvc, "repro"), REPEATS)
        dvc_start = median_of(lambda: run(dvc, "version"), REPEATS)
        param_change = median_of(lambda: run(dvc, "repro"), 3, before=change_train_param)
        warm: list[float] = []

        def run_floor() -> None:
            warm.append(json.loads(run(python, "-c", FLOOR).splitlines()[-1])["warm_evaluate_s"])

        floor = median_of(run_floor, 3, before=change_train_param)
        # The same two stages as their own processes, as dvc repro runs them.
        train_alone = median_of(lambda: run(python, "-m", "my_ml_project.train"), 3, before=change_train_param)
        evaluate_alone = median_of(lambda: run(python, "-m", "my_ml_project.evaluate"), 3)

    # What the DAG's second interpreter costs: evaluate on its own minus evaluate with warm imports.
    second_interpreter = evaluate_alone - statistics.median(warm)
    figures = {
        "machine": MACHINE,
        "bake_s": round(statistics.median(bake_times), 3),
        "first_repro_s": round(first, 3),
        "noop_repro_s": round(noop, 3),
        "dvc_start_s": round(dvc_start, 3),
        "param_change_repro_s": round(param_change, 3),
        "train_alone_s": round(train_alone, 3),
        "evaluate_alone_s": round(evaluate_alone, 3),
        "floor_train_evaluate_s": round(floor, 3),
        "param_change_vs_floor": round(param_change / floor, 2),
        "second_interpreter_s": round(second_interpreter, 3),
        "least_param_change_vs_floor": round((floor + noop + second_interpreter) / floor, 2),
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
            f"| DVC's own start-up (`dvc version`) | {figures['dvc_start_s']} | |",
            f"| `dvc repro` after a `train` param change | {figures['param_change_repro_s']} | <= 1.5x floor |",
            f"| train, then evaluate, each as its own process | {figures['train_alone_s']} + "
            f"{figures['evaluate_alone_s']} | |",
            f"| floor: train + evaluate in one Python process | {figures['floor_train_evaluate_s']} | |",
            f"| param-change repro / floor | {figures['param_change_vs_floor']}x | <= 1.5x |",
            f"| evaluate's own interpreter (alone, minus evaluate in the floor's process) | "
            f"{figures['second_interpreter_s']} | |",
            "| least possible ratio: (floor + no-op repro + evaluate's own interpreter) / floor | "
            f"{figures['least_param_change_vs_floor']}x | |",
        ]
    )
    write_figures("pipeline", figures, table)


if __name__ == "__main__":
    main()

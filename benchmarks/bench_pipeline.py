"""Measure the default bake: bake, first/no-op/param-change `dvc repro`, beside one plain Python process.

Run with `make bench`; writes benchmarks/results/pipeline.json and pipeline.md, and quotes the table in README.md.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
REPEATS = 5


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of `action` takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_of(
    action: Callable[[], object], repeats: int = REPEATS, before: Callable[[], object] | None = None
) -> float:
    """Median seconds of `action` over `repeats` runs, calling `before` (untimed) ahead of each."""
    times = []
    for _ in range(repeats):
        if before:
            before()
        times.append(timed(action))
    return statistics.median(times)


def main() -> None:
    """Bake into a scratch folder, time each step, write the figures."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    with tempfile.TemporaryDirectory() as scratch:
        bake_times, project = [], Path()
        for attempt in range(3):
            output = Path(scratch) / f"bake{attempt}"
            bake_times.append(timed(lambda out=output: cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out))))
            project = output / "my-ml-project"
        env["PYTHONPATH"] = str(project / "src")

        def run(*command: str) -> None:
            subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)

        params_file = project / "params.yaml"
        trees = iter(range(101, 200))

        def change_train_param() -> None:
            params = yaml.safe_load(params_file.read_text())
            params["train"]["hyperparams"]["n_estimators"] = next(trees)
            params_file.write_text(yaml.safe_dump(params, sort_keys=False))

        dvc = str(BIN / "dvc")
        first = timed(lambda: run(dvc, "repro"))
        noop = median_of(lambda: run(dvc, "repro"))
        param_change = median_of(lambda: run(dvc, "repro"), repeats=3, before=change_train_param)
        floor_code = "from my_ml_project import evaluate, train; train.main(); evaluate.main()"
        floor = median_of(lambda: run(sys.executable, "-c", floor_code), repeats=3, before=change_train_param)

    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "bake_s": round(statistics.median(bake_times), 3),
        "first_repro_s": round(first, 3),
        "noop_repro_s": round(noop, 3),
        "param_change_repro_s": round(param_change, 3),
        "floor_train_evaluate_s": round(floor, 3),
        "param_change_vs_floor": round(param_change / floor, 2),
        "goals": {"noop_repro_s": "< 1.0", "param_change_vs_floor": "<= 1.5"},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(figures, indent=2) + "\n")
    table = "\n".join(
        [
            f"Default bake (breast_cancer, random forest), {figures['machine']}; medians.",
            "",
            "| step | seconds | goal |",
            "|---|---|---|",
            f"| bake (cookiecutter + git/dvc init) | {figures['bake_s']} | |",
            f"| first `dvc repro` (3 stages) | {figures['first_repro_s']} | |",
            f"| no-op `dvc repro` | {figures['noop_repro_s']} | < 1 s |",
            f"| `dvc repro` after a `train` param change | {figures['param_change_repro_s']} | <= 1.5x floor |",
            f"| floor: train + evaluate in one Python process | {figures['floor_train_evaluate_s']} | |",
            f"| param-change repro / floor | {figures['param_change_vs_floor']}x | <= 1.5x |",
        ]
    )
    (RESULTS / "pipeline.md").write_text(table + "\n")
    quote_in_readme("pipeline", table)
    print(table)


def quote_in_readme(name: str, table: str) -> None:
    """Replace the README's block between <!-- bench:NAME --> markers with the new table."""
    readme = TEMPLATE / "README.md"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = readme.read_text()
    if start in text and end in text:
        before, rest = text.split(start, 1)
        readme.write_text(f"{before}{start}\n{table}\n{end}{rest.split(end, 1)[1]}")


if __name__ == "__main__":
    main()

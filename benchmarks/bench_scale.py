"""Rows per second and peak memory of each stage at growing data sizes, local and on a Dask cluster.

Data: 30 numeric and 5 categorical columns with 5% missing values and a binary target, generated
and written as Parquet; model: histogram gradient boosting with 50 iterations and no early stopping
(so that every size fits the same number of trees and the fit time is linear in the rows).
Each stage runs as its own process; its peak memory is the largest sum of the proportional set
sizes (PSS) of its process tree, sampled every 0.1 s, or the exact peak RSS of its largest process
if that is higher. Runs: the default (native categories) for every stage; train with categories
split on as numbers (`categorical_features: null`, the lean setting for big data); and train with a
cross-validated grid search (the joblib work a Dask cluster takes over) on each backend.
Run: `python benchmarks/bench_scale.py 100000 1000000 [10000000]`; writes results/scale.{json,md}.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import yaml
from common import MACHINE, Runner, bake, write_figures

STAGES = ("prepare", "train", "evaluate")
HYPERPARAMS = {"max_iter": 50, "early_stopping": False}
LEAN = {"categorical_features": None}
# Four fits on half the rows (two candidates, two folds) and the refit on all of them.
SEARCH = {"method": "grid", "cv": 2, "space": {"max_leaf_nodes": [15, 31]}}
SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Run:
    """One configuration of the pipeline and the stages measured with it."""

    backend: str
    categories: str  # native (the default) or numbers (categorical_features: null)
    search: bool
    stages: tuple[str, ...] = ("train",)

    def train_params(self) -> dict:
        hyperparams = HYPERPARAMS | (LEAN if self.categories == "numbers" else {})
        search = SEARCH if self.search else {"method": "none", "space": {}}
        return {"model": "hist_gradient_boosting", "hyperparams": {"hist_gradient_boosting": hyperparams},
                "backend": self.backend, "search": search}  # fmt: skip


RUNS = [
    Run("local", "native", search=False, stages=STAGES),
    Run("local", "numbers", search=False),
    Run("local", "numbers", search=True),
    Run("dask", "numbers", search=True),
]


def make_data(rows: int, path: Path, seed: int = 0) -> float:
    """Write the generated table to `path`; return its in-memory size in MB."""
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(rows, 30)).astype("float32")
    frame = pd.DataFrame(numbers, columns=[f"x{i}" for i in range(30)])
    for i in range(5):
        frame[f"c{i}"] = pd.Series(rng.choice([f"level{j}" for j in range(8)], rows)).astype("category")
    signal = numbers[:, :5].sum(axis=1) + (frame["c0"].cat.codes.to_numpy() % 2)
    frame["target"] = np.where(signal + rng.normal(size=rows) > 0.5, "yes", "no")
    for column in frame.columns[:-1]:
        frame.loc[rng.random(rows) < 0.05, column] = None
    frame.to_parquet(path, index=False)
    return frame.memory_usage(deep=True).sum() / 2**20


def tree_memory(process: psutil.Process) -> int:
    """Bytes the process and its descendants (Dask's workers, joblib's) hold: the sum of their PSS."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        with suppress(psutil.NoSuchProcess, psutil.AccessDenied):  # it ended between listing and reading
            total += member.memory_full_info().pss
    return total


def run_stage(run: Runner, package: str, stage: str) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one stage process and its children."""
    with tempfile.TemporaryFile("w+") as errors:
        start = time.perf_counter()
        child = psutil.Popen(
            ["/usr/bin/time", "-v", sys.executable, "-m", f"{package}.{stage}"],
            cwd=run.project, env=run.env, stdout=subprocess.DEVNULL, stderr=errors,
        )  # fmt: skip
        sampled = 0
        while child.poll() is None:
            sampled = max(sampled, tree_memory(child))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - start
        errors.seek(0)
        log = errors.read()
    if child.returncode != 0:
        raise RuntimeError(f"{stage} exited {child.returncode}:\n{log}")
    largest_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", log).group(1))
    return seconds, max(sampled / 2**20, largest_kb / 1024)


def run_name(result: dict) -> str:
    """A short name for the run a result comes from: default, lean, lean + search, lean + search, dask."""
    name = "default" if result["categories"] == "native" else "lean"
    name += "" if result["search"] == "none" else " + search"
    return name + ("" if result["backend"] == "local" else ", dask")


def tables(results: list[dict]) -> list[str]:
    """The figures, then for each 10x step in rows the time ratio over 10 (1.0 = linear; goal <= 1.3)."""
    lines = [
        f"30 numeric + 5 categorical columns, 5% missing, hist gradient boosting (50 iterations), {MACHINE}.",
        "Runs: default = native categories; lean = categories as numbers (`categorical_features: null`);",
        "search = a grid of 2 candidates with 2-fold cross-validation, then the refit on every row;",
        "dask = on a LocalCluster of 2 workers. Peak memory is the stage's whole process tree: Python and",
        "its libraries (about 200 MB before any data), and joblib's or the cluster's processes when they run.",
        "",
        "| rows | run | stage | seconds | rows/s | peak / data | peak MB | data MB |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {r['rows']:,} | {run_name(r)} | {r['stage']} | {r['seconds']} | {r['rows_per_s']:,} | "
          f"{r['peak_vs_data']} | {r['peak_mb']} | {r['data_mb']} |" for r in results),
        "",
        "| rows | run | stage | time / (10 x time at a tenth of the rows) |",
        "|---|---|---|---|",
    ]  # fmt: skip
    seconds = {(r["rows"], run_name(r), r["stage"]): r["seconds"] for r in results}
    for (rows, name, stage), value in seconds.items():
        if (smaller := seconds.get((rows // 10, name, stage))) is not None:
            lines.append(f"| {rows:,} | {name} | {stage} | {value / (10 * smaller):.2f} |")
    return lines


def main(sizes: list[int]) -> None:
    """Bake a csv project, then measure every run at each size; write the figures."""
    scratch = Path(tempfile.mkdtemp())
    project = bake(scratch, project_name="Scale", dataset="csv", use_django="no")
    run, package = Runner(project), "scale"
    results = []
    for rows in sizes:
        data_mb = make_data(rows, project / "data" / "raw" / "big.parquet")
        for config in RUNS:
            params = yaml.safe_load((project / "params.yaml").read_text())
            params["data"].update(path="data/raw/big.parquet", target="target")
            params["train"].update(config.train_params())
            (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            for stage in config.stages:
                seconds, peak = run_stage(run, package, stage)
                results.append({"rows": rows, "backend": config.backend, "categories": config.categories,
                                "search": "grid 2x2" if config.search else "none", "stage": stage,
                                "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
                                "peak_mb": round(peak), "data_mb": round(data_mb),
                                "peak_vs_data": round(peak / data_mb, 2)})  # fmt: skip
                print(json.dumps(results[-1]), flush=True)
    write_figures("scale", {"machine": MACHINE, "results": results}, "\n".join(tables(results)))


if __name__ == "__main__":
    main([int(size) for size in sys.argv[1:]] or [100_000, 1_000_000])

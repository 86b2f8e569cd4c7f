"""Rows per second and peak memory of each stage at growing data sizes, local and Dask backends.

Data: 30 numeric and 5 categorical columns with 5% missing values and a binary target, generated
and written as Parquet; model: histogram gradient boosting with 50 iterations and no early stopping
(so that every size fits the same number of trees and the fit time is linear in the rows).
Each stage runs as its own process under GNU time for its peak resident memory. Train runs three
ways: local with native categories (the default), local with categories split on as numbers
(`categorical_features: null`, the lean setting for big data), and on a Dask LocalCluster.
Run: `python benchmarks/bench_scale.py 100000 1000000 [10000000]`; writes results/scale.{json,md}.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from common import MACHINE, Runner, bake, write_figures

STAGES = ("prepare", "train", "evaluate")
HYPERPARAMS = {"max_iter": 50, "early_stopping": False}
# (backend, categories, stages): "native" is the default, "numbers" sets categorical_features: null.
RUNS = [("local", "native", STAGES), ("local", "numbers", ("train",)), ("dask", "native", ("train",))]


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


def run_stage(run: Runner, package: str, stage: str) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one stage process."""
    start = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", f"{package}.{stage}"],
        cwd=run.project, env=run.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    return seconds, peak_kb / 1024


def linearity(results: list[dict]) -> list[str]:
    """For each 10x step in rows: the time ratio over 10 (1.0 = linear; goal <= 1.3)."""
    seconds = {(r["rows"], r["backend"], r["categories"], r["stage"]): r["seconds"] for r in results}
    lines = [
        "",
        "| stage | backend | categories | rows | time / (10 x time at a tenth of the rows) |",
        "|---|---|---|---|---|",
    ]
    for (rows, backend, categories, stage), value in seconds.items():
        if (smaller := seconds.get((rows // 10, backend, categories, stage))) is not None:
            lines.append(f"| {stage} | {backend} | {categories} | {rows:,} | {value / (10 * smaller):.2f} |")
    return lines


def main(sizes: list[int]) -> None:
    scratch = Path(tempfile.mkdtemp())
    project = bake(scratch, project_name="Scale", dataset="csv", use_django="no")
    run, package = Runner(project), "scale"
    results = []
    for rows in sizes:
        data_mb = make_data(rows, project / "data" / "raw" / "big.parquet")
        for backend, categories, stages in RUNS:
            hyperparams = HYPERPARAMS | ({"categorical_features": None} if categories == "numbers" else {})
            params = yaml.safe_load((project / "params.yaml").read_text())
            params["data"].update(path="data/raw/big.parquet", target="target")
            params["train"].update(model="hist_gradient_boosting", hyperparams=hyperparams, backend=backend)
            (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            for stage in stages:
                seconds, peak = run_stage(run, package, stage)
                results.append({"rows": rows, "backend": backend, "categories": categories, "stage": stage,
                                "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
                                "peak_mb": round(peak), "data_mb": round(data_mb),
                                "peak_vs_data": round(peak / data_mb, 2)})  # fmt: skip
                print(json.dumps(results[-1]), flush=True)
    lines = [
        f"30 numeric + 5 categorical columns, 5% missing, hist gradient boosting (50 iterations), {MACHINE}.",
        "Peak RSS is the whole process (Python and its libraries: about 200 MB before any data).",
        "",
        "| rows | backend | categories | stage | seconds | rows/s | peak RSS MB | data MB | peak / data |",
        "|---|---|---|---|---|---|---|---|---|",
        *(f"| {r['rows']:,} | {r['backend']} | {r['categories']} | {r['stage']} | {r['seconds']} | "
          f"{r['rows_per_s']:,} | {r['peak_mb']} | {r['data_mb']} | {r['peak_vs_data']} |" for r in results),
        *linearity(results),
    ]  # fmt: skip
    write_figures("scale", {"machine": MACHINE, "results": results}, "\n".join(lines))


if __name__ == "__main__":
    main([int(size) for size in sys.argv[1:]] or [100_000, 1_000_000])

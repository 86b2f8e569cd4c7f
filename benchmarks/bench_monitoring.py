"""Measure the monitoring feature's goals on the default bake, side by side in one run.

- Overhead: the baked project's production server (start.sh: gunicorn, 2 sync workers, production
  settings, SQLite), started with the prediction log and the metrics on
  (SERVING_PREDICTION_LOG=on SERVING_METRICS=on), with both off, and with one of them on each;
  rounds of sequential one-row `POST /api/predict` alternate between them (p50, p99; the goal is
  the ratio of the first two: <= 1.2x). A server with the log on is first sent FILL_ROWS rows, so
  its log is at its cap (10,000 rows, the default) and every write of queued rows (each worker's
  thread, every SERVING_PREDICTION_LOG_FLUSH_SECONDS) also trims the oldest, as in a long-running
  service. Then the p50 of `GET /metrics` on the first (< 5 ms).
- The monitor: `manage.py monitor --last 100000` over a prediction log of 100,000 rows of the
  served model (rows resampled from the prepared train split, logged as the API logs them, with
  the model's answers, every one with a true label drawn at the test set's accuracy, so the
  quality verdict runs too), wall-clock as a subprocess and its peak RSS (goal < 10 s).
- False alarms: `monitoring.report.verdict`, the monitor's Django-free judgement, on SAMPLES
  samples of 100 rows with no drift, each row with a true label drawn at the test set's accuracy
  (right with that chance, else another class), so the quality check judges them too, two ways.
  (1) The goal's: the data set re-split at random
  each time into 455 reference rows and 114 held-out rows, 100 of which are served (without
  replacement), the 30 input checks judged against that split's reference (no answers check: the
  served model has seen some of those rows). Served rows and reference are then fresh draws of one
  population, as in service. (2) The issue's design: 100 rows drawn with replacement from the
  114-row test split, against the pipeline's reference and the answers' check. Every sample reuses
  the same 114 rows, so its counts vary about twice as much as fresh rows' would: this overstates
  the false alarms, and is kept beside (1) for comparison. The share of runs that alarm (status
  "drift" or "quality") is the false-alarm rate (goal <= monitor.p_value, 0.05, what the Bonferroni
  correction promises); beside it, the quality check's own share, and how often at least one
  check's uncorrected p-value is under 0.05.
  Detection: the same samples with "mean radius" x3 and x1.2.
Run with `.venv/bin/python benchmarks/bench_monitoring.py`; writes results/monitoring.{json,md}.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from bench_serving import free_port, get, post, server
from common import BIN, MACHINE, timed, trained_default, write_figures

PACKAGE = "my_ml_project"  # the default bake's package
ROUNDS = 6  # alternating rounds of one-row predicts, per server
REQUESTS = 250  # sequential requests per round
FILL_ROWS = 10_000  # logged before the latency rounds, in requests of 1,000 rows
FLUSH_S = 1.0  # SERVING_PREDICTION_LOG_FLUSH_SECONDS, the default: how often a worker writes its queued rows
METRICS_REQUESTS = 300
LOG_ROWS = 100_000  # the monitor's window
MONITOR_RUNS = 3
SAMPLES = 200  # random samples per false-alarm and detection figure (each of the 6 verdicts: ~0.5 s)
SAMPLE_ROWS = 100
SEED = 42
# The servers, by (SERVING_PREDICTION_LOG, SERVING_METRICS): the goal compares the first two.
SERVERS = {"on": ("on", "on"), "off": ("off", "off"), "log_only": ("on", "off"), "metrics_only": ("off", "on")}
GOALS = {"overhead_p50": 1.2, "metrics_p50_ms": 5.0, "monitor_s": 10.0, "false_alarm_rate": 0.05}

FILL_LOG = """
import json, sys
import django
django.setup()
from django.db import transaction
from {package}.serving.models import PredictionLog
sha256, inputs_file, predictions_file, labels_file = sys.argv[1:5]
inputs = json.loads(open(inputs_file).read())
predictions = json.loads(open(predictions_file).read())
labels = json.loads(open(labels_file).read())
with transaction.atomic():
    PredictionLog.objects.bulk_create(
        (PredictionLog(model_sha256=sha256, inputs=row, prediction=answer, label=label)
         for row, answer, label in zip(inputs, predictions, labels)),
        batch_size=5000,
    )
print(PredictionLog.objects.count())
"""


def percentiles(times: list[float]) -> tuple[float, float]:
    """p50 and p99 of `times`."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def overhead(project: Path, env: dict[str, str], scratch: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One-row predict latency, the log and metrics on and off, alternating; /metrics after FILL_ROWS logged rows."""
    one_row = json.dumps({"instances": rows[:1]}).encode()
    command = [str(project / "start.sh"), "--access-logfile", "/dev/null"]
    specs = {}
    for name, (log, metrics) in SERVERS.items():
        port, folder = free_port(), scratch / f"server-{name}"
        folder.mkdir()
        specs[name] = {
            "port": port,
            "log": log,
            "env": env | {
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
                "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
                "DJANGO_STATIC_ROOT": str(folder / "static"),
                "SERVING_PREDICTION_LOG": log,
                "SERVING_METRICS": metrics,
                "SERVING_PREDICTION_LOG_FLUSH_SECONDS": str(FLUSH_S),
            },
        }  # fmt: skip
    probe = ("/api/predict", one_row)
    times: dict[str, list[float]] = {name: [] for name in specs}
    with ExitStack() as servers:
        for spec in specs.values():
            servers.enter_context(server(command, project, spec["env"], spec["port"], probe))
        for spec in specs.values():  # every log at its cap: each request adds a row and deletes the oldest
            if spec["log"] == "on":
                for start in range(0, FILL_ROWS, 1000):
                    batch = [rows[(start + i) % len(rows)] for i in range(1000)]
                    post(spec["port"], "/api/predict", json.dumps({"instances": batch}).encode())
        time.sleep(2 * FLUSH_S)  # the writers' threads have written the queued rows
        for _ in range(ROUNDS):
            for name, spec in specs.items():
                times[name] += [timed(lambda port=spec["port"]: post(port, *probe)) * 1000 for _ in range(REQUESTS)]
        on_port = specs["on"]["port"]
        metrics_ms = [timed(lambda: get(on_port, "/metrics")) * 1000 for _ in range(METRICS_REQUESTS)]
        health_ms = [timed(lambda: get(on_port, "/api/health")) * 1000 for _ in range(METRICS_REQUESTS)]
        metrics_bytes = len(get(on_port, "/metrics"))
        time.sleep(2 * FLUSH_S)
        with closing(sqlite3.connect(scratch / "server-on" / "db.sqlite3")) as database:
            held = database.execute("SELECT COUNT(*) FROM serving_predictionlog").fetchone()[0]
    figures: dict[str, Any] = {}
    for name, values in times.items():
        p50, p99 = percentiles(values)
        figures[name] = {"p50_ms": round(p50, 3), "p99_ms": round(p99, 3)}
    figures |= {
        "ratio_p50": round(figures["on"]["p50_ms"] / figures["off"]["p50_ms"], 2),
        "ratio_p99": round(figures["on"]["p99_ms"] / figures["off"]["p99_ms"], 2),
        "rows_logged_before_metrics": FILL_ROWS + ROUNDS * REQUESTS,
        "rows_held_by_log": held,
        "metrics_p50_ms": round(statistics.median(metrics_ms), 3),
        "metrics_p99_ms": round(percentiles(metrics_ms)[1], 3),
        "metrics_bytes": metrics_bytes,
        "health_p50_ms": round(statistics.median(health_ms), 3),
    }
    return figures


def monitor_run(project: Path, env: dict[str, str], scratch: Path, train: pd.DataFrame, model: Any,
                manifest: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """Fill a prediction log with LOG_ROWS labelled rows, then time `manage.py monitor --last LOG_ROWS` and its RSS."""
    folder = scratch / "monitor"
    folder.mkdir()
    env = env | {"DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}", "SERVING_PREDICTION_LOG_MAX_ROWS": "200000"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=project, env=env, check=True,
                   capture_output=True)  # fmt: skip
    served = train.sample(LOG_ROWS, replace=True, random_state=SEED)
    inputs, predictions, labels = folder / "inputs.json", folder / "predictions.json", folder / "labels.json"
    inputs.write_text(served.to_json(orient="records"))
    answers = model.predict(served)
    predictions.write_text(json.dumps(answers.tolist()))
    labels.write_text(json.dumps(true_labels(answers, manifest, np.random.default_rng(SEED)).tolist()))
    fill_s = timed(lambda: subprocess.run(
        [sys.executable, "-c", FILL_LOG.format(package=PACKAGE), manifest["sha256"], str(inputs), str(predictions),
         str(labels)],
        cwd=project, env=env | {"DJANGO_SETTINGS_MODULE": "config.settings"}, check=True, capture_output=True,
    ))  # fmt: skip
    command = ["/usr/bin/time", "-v", sys.executable, "manage.py", "monitor", "--last", str(LOG_ROWS),
               "--output", str(folder / "monitoring.json")]  # fmt: skip
    seconds, peaks = [], []
    for _ in range(MONITOR_RUNS):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        if result.returncode not in (0, 1):  # 1: an alarm, still a run
            raise RuntimeError(f"monitor failed ({result.returncode}): {result.stderr[-2000:]}")
        peaks.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1]) / 1024)
    report = json.loads((folder / "monitoring.json").read_text())
    imports_s = statistics.median(
        timed(lambda: subprocess.run([sys.executable, "manage.py", "monitor", "--help"], cwd=project, env=env,
                                     check=True, capture_output=True))
        for _ in range(MONITOR_RUNS)
    )  # fmt: skip
    return {
        "rows": report["window"]["rows"],
        "labelled": report["quality"]["labelled"],
        "status": report["status"],
        "message": report["message"],
        "seconds": round(statistics.median(seconds), 2),
        "peak_rss_mb": round(statistics.median(peaks)),
        "start_up_s": round(imports_s, 2),
        "fill_s": round(fill_s, 1),
    }


def true_labels(predictions: np.ndarray, manifest: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """True labels drawn at the test set's accuracy: each prediction right with that chance, else another class."""
    classes = np.asarray(manifest["classes"])
    right = rng.random(len(predictions)) < manifest["metrics"]["accuracy"]
    others = np.array([rng.choice(classes[classes != answer]) for answer in predictions])
    return np.where(right, predictions, others)


def served_frame(rows: pd.DataFrame, predictions: Any, labels: Any = None) -> pd.DataFrame:
    """Rows as the monitor reads them from the log: created, inputs (the JSON the API logged), prediction, label."""
    return pd.DataFrame({
        "created": pd.Timestamp.now(tz="UTC"),
        "inputs": json.loads(rows.to_json(orient="records")),
        "prediction": list(predictions),
        "label": None if labels is None else list(labels),
    })  # fmt: skip


def judged(outcome: dict[str, Any], feature: str) -> dict[str, bool]:
    """A verdict's readings: an alarm (drift or quality), the quality check's own, any uncorrected p < the threshold,
    and the feature's own check drifted."""
    checks = [*outcome["checks"], *([outcome["predictions"]] if outcome["predictions"] else [])]
    return {
        "drift": outcome["status"] in ("drift", "quality"),
        "quality": bool(outcome["quality"]["dropped"]),
        "uncorrected": any(check["p_value"] < outcome["thresholds"]["p_value"] for check in checks),
        "feature": any(check["drifted"] for check in checks if check["name"] == feature),
    }


FACTORS = {"none": 1.0, "x3": 3.0, "x1.2": 1.2}  # "mean radius" times this
DESIGNS = ("test_resampled", "resplit")
_context: dict[str, Any] = {}  # each worker's: the package's functions, the data, the reference


def load_context(project: Path, manifest: dict[str, Any]) -> None:
    """Load in this worker what every sample needs (the baked package, its data, the model)."""
    sys.path.insert(0, str(project / "src"))
    report = importlib.import_module(f"{PACKAGE}.monitoring.report")
    params = importlib.import_module(f"{PACKAGE}.params")
    prepared = {
        split: pd.read_parquet(project / "data" / "prepared" / f"{split}.parquet") for split in ("train", "test")
    }
    _context.update(
        report=report,
        training_reference=importlib.import_module(f"{PACKAGE}.data.reference").training_reference,
        limits=report.thresholds(params.load_params(project / "params.yaml", sections=("monitor",)).get("monitor")),
        reference=json.loads((project / "reports" / "reference.json").read_text()),
        answers=json.loads((project / "reports" / "predictions_reference.json").read_text()),
        model=joblib.load(project / "models" / "model.joblib"),
        manifest=manifest,
        test=prepared["test"].drop(columns=manifest["target"]),
        everything=pd.concat(prepared.values(), ignore_index=True),
        reference_rows=len(prepared["train"]),
    )


def one_sample(seed: np.random.SeedSequence) -> dict[str, dict[str, dict[str, bool]]]:
    """One sample of each design, unchanged and scaled: each verdict's readings."""
    c, feature, rng = _context, "mean radius", np.random.default_rng(seed)
    report, manifest, limits, target = c["report"], c["manifest"], c["limits"], c["manifest"]["target"]
    flags: dict[str, dict[str, dict[str, bool]]] = {design: {} for design in DESIGNS}
    # (1) 100 rows drawn with replacement from the test split, against the pipeline's reference and answers
    sample = c["test"].sample(SAMPLE_ROWS, replace=True, random_state=rng)
    for name, factor in FACTORS.items():
        rows = sample.assign(**{feature: sample[feature] * factor})
        answers = c["model"].predict(rows)
        served = served_frame(rows, answers, true_labels(answers, manifest, rng))
        outcome = report.verdict(served, manifest, c["reference"], c["answers"], limits)
        flags["test_resampled"][name] = judged(outcome, feature)
    # (2) a fresh split: the reference of 455 random rows, 100 of the other 114 served (the input checks only)
    order = rng.permutation(len(c["everything"]))
    train, held = c["everything"].iloc[order[: c["reference_rows"]]], c["everything"].iloc[order[c["reference_rows"] :]]
    split_reference = c["training_reference"](train, held, target, None, ())
    sample = held.drop(columns=target).sample(SAMPLE_ROWS, random_state=rng)
    for name, factor in FACTORS.items():
        rows = sample.assign(**{feature: sample[feature] * factor})
        answers = c["model"].predict(rows)  # judged by quality alone: no answers check on rows the model saw
        served = served_frame(rows, answers, true_labels(answers, manifest, rng))
        flags["resplit"][name] = judged(report.verdict(served, manifest, split_reference, None, limits), feature)
    return flags


def false_alarms(project: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The verdict on SAMPLES samples of held-out rows, unchanged and with one feature scaled: shares of runs.

    The samples run in a process per core (a verdict draws thousands of random tables per check);
    each has a seed of its own, so the figures do not depend on how they are shared out.
    """
    start = time.perf_counter()
    seeds = np.random.SeedSequence(SEED).spawn(SAMPLES)
    with ProcessPoolExecutor(os.cpu_count(), initializer=load_context, initargs=(project, manifest)) as pool:
        results = list(pool.map(one_sample, seeds))
    shares = {
        design: {
            name: {
                key: round(sum(r[design][name][key] for r in results) / SAMPLES, 3) for key in results[0][design][name]
            }
            for name in FACTORS
        }
        for design in DESIGNS
    }
    load_context(project, manifest)  # here too, for the figures' context
    return {
        "samples": SAMPLES,
        "rows_per_sample": SAMPLE_ROWS,
        "test_rows": len(_context["test"]),
        "reference_rows": _context["reference_rows"],
        "checks": {"test_resampled": len(_context["reference"]["checks"]) + 1,
                   "resplit": len(_context["reference"]["checks"])},
        "p_value": _context["limits"].p_value,
        "distance": _context["limits"].distance,
        "shares": shares,
        "seconds": round(time.perf_counter() - start, 1),
    }  # fmt: skip


def main() -> None:
    """Bake, train, then measure the overhead, the monitor's time and its false alarms."""
    scratch = Path(tempfile.mkdtemp())
    project, run, manifest = trained_default(scratch)
    model_path = project / "models" / "model.joblib"
    target = manifest["target"]
    train = pd.read_parquet(project / "data" / "prepared" / "train.parquet").drop(columns=target)
    test = pd.read_parquet(project / "data" / "prepared" / "test.parquet").drop(columns=target)
    model = joblib.load(model_path)

    env = run.env | {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "off",  # plain HTTP on loopback
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SERVING_MODEL_PATH": str(model_path),
        "WEB_CONCURRENCY": "2",
        "BIN": str(BIN),
    }
    serving = overhead(project, env, scratch, json.loads(test.to_json(orient="records")))
    monitor = monitor_run(project, env, scratch, train, model, manifest)
    alarms = false_alarms(project, manifest)
    shutil.rmtree(scratch, ignore_errors=True)

    shares = alarms["shares"]
    false_alarm, resampled_alarm = shares["resplit"]["none"]["drift"], shares["test_resampled"]["none"]["drift"]
    goals = {
        "overhead_p50": {"goal": f"<= {GOALS['overhead_p50']}x", "value": serving["ratio_p50"],
                         "met": serving["ratio_p50"] <= GOALS["overhead_p50"]},
        "metrics_p50_ms": {"goal": f"< {GOALS['metrics_p50_ms']:g} ms", "value": serving["metrics_p50_ms"],
                           "met": serving["metrics_p50_ms"] < GOALS["metrics_p50_ms"]},
        "monitor_s": {"goal": f"< {GOALS['monitor_s']:g} s", "value": monitor["seconds"],
                      "met": monitor["seconds"] < GOALS["monitor_s"]},
        "false_alarm_rate": {"goal": f"<= {alarms['p_value']:g}", "value": false_alarm,
                             "met": false_alarm <= alarms["p_value"]},
        "false_alarm_rate_test_resampled": {"goal": f"<= {alarms['p_value']:g}", "value": resampled_alarm,
                                            "met": resampled_alarm <= alarms["p_value"]},
    }  # fmt: skip
    figures = {"machine": MACHINE, "serving": serving, "monitor": monitor, "false_alarms": alarms, "goals": goals}

    def row(goal: str, measured: str, key: str) -> str:
        return f"| {goal} | {measured} | {goals[key]['goal']} | {'met' if goals[key]['met'] else 'missed'} |"

    def pct(value: float) -> str:
        return f"{value:.1%}"

    on, off = serving["on"], serving["off"]
    resampled, resplit = shares["test_resampled"], shares["resplit"]
    lines = [
        f"Default bake (random forest, 30 features), gunicorn 2 sync workers through start.sh, SQLite, {MACHINE}; "
        f"{ROUNDS} alternating rounds of {REQUESTS} one-row requests per server.",
        "",
        "| goal | measured | target | |",
        "|---|---|---|---|",
        row(
            "one-row predict, log and metrics on vs off (p50)",
            f"{serving['ratio_p50']}x ({on['p50_ms']} vs {off['p50_ms']} ms; p99 {on['p99_ms']} vs {off['p99_ms']} ms, "
            f"{serving['ratio_p99']}x)",
            "overhead_p50",
        ),
        row(
            f"`GET /metrics` p50, {serving['rows_logged_before_metrics']:,} rows logged "
            f"(the log keeps {serving['rows_held_by_log']:,})",
            f"{serving['metrics_p50_ms']} ms (p99 {serving['metrics_p99_ms']} ms, {serving['metrics_bytes']:,} bytes; "
            f"`/api/health` {serving['health_p50_ms']} ms)",
            "metrics_p50_ms",
        ),
        row(
            f"`manage.py monitor --last {LOG_ROWS:,}`, wall-clock",
            f"{monitor['seconds']} s (peak RSS {monitor['peak_rss_mb']} MB; `monitor --help` alone "
            f"{monitor['start_up_s']} s)",
            "monitor_s",
        ),
        row(
            f"false alarms: a fresh random split each run, {SAMPLE_ROWS} of its held-out rows, "
            f"{alarms['checks']['resplit']} input checks",
            f"{pct(resplit['none']['drift'])} of {SAMPLES} runs (quality alone: {pct(resplit['none']['quality'])}; "
            f"uncorrected p < {alarms['p_value']:g}: {pct(resplit['none']['uncorrected'])})",
            "false_alarm_rate",
        ),
        row(
            f"false alarms: {SAMPLE_ROWS} of the {alarms['test_rows']} test rows drawn with replacement, "
            f"{alarms['checks']['test_resampled']} checks",
            f"{pct(resampled['none']['drift'])} of {SAMPLES} runs (quality alone: "
            f"{pct(resampled['none']['quality'])}; uncorrected: {pct(resampled['none']['uncorrected'])})",
            "false_alarm_rate_test_resampled",
        ),
        "",
        "One-row predict by server (all four alternating; a server with the log on keeps its log at the cap):",
        "",
        "| log | metrics | p50 (ms) | p99 (ms) | p50 vs both off |",
        "|---|---|---|---|---|",
        *(
            f"| {log} | {metrics} | {serving[name]['p50_ms']} | {serving[name]['p99_ms']} | "
            f"{serving[name]['p50_ms'] / off['p50_ms']:.2f}x |"
            for name, (log, metrics) in SERVERS.items()
        ),
        "",
        "Detection, the same samples with one feature scaled (share of runs that alarm; in brackets, "
        "the runs where the scaled feature's own check drifted):",
        "",
        "| samples | no change | mean radius x1.2 | mean radius x3 |",
        "|---|---|---|---|",
        *(
            f"| {label} | {pct(by['none']['drift'])} | {pct(by['x1.2']['drift'])} ({pct(by['x1.2']['feature'])}) | "
            f"{pct(by['x3']['drift'])} ({pct(by['x3']['feature'])}) |"
            for label, by in (("fresh split, held-out rows", resplit), ("test rows, with replacement", resampled))
        ),
        "",
        f"The monitor's log held {monitor['rows']:,} rows of the served model, {monitor['labelled']:,} of them "
        f"labelled (filled in {monitor['fill_s']} s); its verdict: {monitor['status']}.",
    ]
    write_figures("monitoring", figures, "\n".join(lines))


if __name__ == "__main__":
    main()

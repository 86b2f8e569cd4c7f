"""Serve the default bake's model four ways, side by side, and measure latency, throughput and memory.

- django-onnx: the baked project's API under gunicorn (2 sync workers, preload), production
  settings, answering from models/model.onnx (SERVING_RUNTIME=onnx);
- django-pickle: the same API answering from the pickle (SERVING_RUNTIME=sklearn);
- floor: a bare WSGI function (serving/floor_app.py) serving the ONNX model through the project's
  runtime under the same gunicorn;
- mlflow: `mlflow models serve` on the same model, when mlflow is installed in the Python named by
  MLFLOW_PYTHON (skipped otherwise).

Measurements alternate between the servers round by round. Latency, back to back: sequential
requests from Python (p50, p99), each kind in a block of its own: one row, 100 rows, and
`GET /api/health` (the Django round trip with no model work).
Latency, light load: the same requests with the kinds alternating and a pause of PACE_S before
each, so that every request meets an idle server, as an API called now and then does.
Throughput: wrk at 4 and 16 connections (Debian's `wrk`), one-row and 100-row bodies.
Memory: RSS of each worker. Beside them: predict_proba in this process.
Run with `make bench`; writes results/serving.{json,md} and quotes the table in README.md.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import psutil
from common import BIN, MACHINE, timed, trained_default, write_figures

HERE = Path(__file__).resolve().parent / "serving"
LATENCY_REQUESTS = 300
WRK_SECONDS = 8
ROUNDS = 3
PACE_S = 0.002  # light load: the server idles this long before each request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def send(port: int, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> bytes:
    """One request on a new connection (sync gunicorn workers close each connection); its body, or an error."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body, {"Content-Type": content_type} if content_type else {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}: {data[:200]!r}")
    return data


def post(port: int, path: str, body: bytes, content_type: str = "application/json") -> bytes:
    """One POST of `body`."""
    return send(port, "POST", path, body, content_type)


def get(port: int, path: str) -> bytes:
    """One GET."""
    return send(port, "GET", path)


@contextmanager
def server(command: list[str], cwd: Path, env: dict[str, str], port: int, probe: tuple):
    """Start a server, wait until it answers the probe request (post's arguments), stop it afterwards."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while True:
        try:
            post(port, *probe)
            break
        except (OSError, RuntimeError, http.client.HTTPException):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start: {process.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.5)
    try:
        yield process
    finally:
        for child in psutil.Process(process.pid).children(recursive=True):
            child.terminate()
        process.terminate()
        process.wait(timeout=30)


def latency_ms(request: Callable[[], bytes]) -> tuple[float, float]:
    """p50 and p99 in ms of sequential requests."""
    times = sorted(timed(request) * 1000 for _ in range(LATENCY_REQUESTS))
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def paced_ms(requests: dict[str, Callable[[], bytes]]) -> dict[str, float]:
    """p50 in ms of each kind of request, the kinds alternating, each after a pause of PACE_S."""
    times: dict[str, list[float]] = {name: [] for name in requests}
    for _ in range(LATENCY_REQUESTS):
        for name, request in requests.items():
            time.sleep(PACE_S)
            times[name].append(timed(request) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def wrk_rps(port: int, path: str, body_file: Path, connections: int) -> float:
    """Requests per second that wrk sustains."""
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{WRK_SECONDS}s", "-s", str(HERE / "post.lua"),
         f"http://127.0.0.1:{port}{path}"],
        env={**os.environ, "BODY": str(body_file)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    if "Non-2xx" in result.stdout:
        raise RuntimeError(f"wrk saw errors: {result.stdout}")
    return float(next(line for line in result.stdout.splitlines() if "Requests/sec" in line).split()[1])


def worker_rss_mb(process: subprocess.Popen) -> float:
    """Mean resident memory of the server's worker processes, in MB."""
    workers = psutil.Process(process.pid).children(recursive=True) or [psutil.Process(process.pid)]
    return statistics.mean(worker.memory_info().rss for worker in workers) / 2**20


def mlflow_python() -> str | None:
    """The Python that has mlflow, if any (MLFLOW_PYTHON)."""
    python = os.environ.get("MLFLOW_PYTHON")
    if python and subprocess.run([python, "-c", "import mlflow"], capture_output=True).returncode == 0:
        return python
    return None


def main() -> None:
    """Bake, train, then measure each server round by round."""
    scratch = Path(tempfile.mkdtemp())
    project, run, manifest = trained_default(scratch)
    model_path = project / "models" / "model.joblib"
    target = manifest["target"]
    test = pd.read_parquet(project / "data" / "prepared" / "test.parquet").drop(columns=target)
    rows = json.loads(pd.concat([test] * 2).head(100).to_json(orient="records"))
    bodies = {n: scratch / f"body{n}.json" for n in (1, 100)}
    for n, path in bodies.items():
        path.write_text(json.dumps({"instances": rows[:n]}))
    mlflow_bodies = {n: scratch / f"mlflow{n}.json" for n in (1, 100)}
    for n, path in mlflow_bodies.items():
        path.write_text(json.dumps({"dataframe_records": rows[:n]}))

    model = joblib.load(model_path)
    frames = {n: pd.DataFrame.from_records(rows[:n]) for n in (1, 100)}
    in_process = {
        n: statistics.median(timed(lambda n=n: model.predict_proba(frames[n])) * 1000 for _ in range(100))
        for n in (1, 100)
    }

    env = run.env | {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "off",  # plain HTTP on loopback
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "SERVING_MODEL_PATH": str(model_path),
        "WEB_CONCURRENCY": "2",
        "SERVING_PACKAGE": "my_ml_project",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=project, env=env, check=True)
    servers: dict[str, dict[str, Any]] = {}
    gunicorn = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--access-logfile", "/dev/null"]
    for name, choice in (("django-onnx", "onnx"), ("django-pickle", "sklearn")):
        port = free_port()
        servers[name] = {
            "command": gunicorn, "cwd": project, "port": port, "path": "/api/predict", "bodies": bodies,
            "env": env | {"GUNICORN_BIND": f"127.0.0.1:{port}", "SERVING_RUNTIME": choice}, "health": "/api/health",
        }  # fmt: skip
    floor_port = free_port()
    servers["floor"] = {
        "command": [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{floor_port}", "floor_app:app"],
        "cwd": HERE, "env": env | {"SERVING_RUNTIME": "onnx"}, "port": floor_port, "path": "/", "bodies": bodies,
    }  # fmt: skip
    if python := mlflow_python():
        exported = scratch / "mlflow-model"
        subprocess.run([python, str(HERE / "mlflow_export.py"), str(model_path), str(exported)], check=True)
        mlflow_port = free_port()
        servers["mlflow"] = {
            "command": [str(Path(python).parent / "mlflow"), "models", "serve", "-m", str(exported), "-h", "127.0.0.1",
                        "-p", str(mlflow_port), "--env-manager", "local", "-w", "2"],
            "cwd": scratch, "env": {**os.environ, "PATH": f"{Path(python).parent}:{os.environ['PATH']}"},
            "port": mlflow_port, "path": "/invocations", "bodies": mlflow_bodies,
        }  # fmt: skip

    samples: dict[str, dict[str, list[float]]] = {name: {} for name in servers}
    for _ in range(ROUNDS):
        for name, spec in servers.items():
            probe = (spec["path"], spec["bodies"][1].read_bytes())
            with server(spec["command"], spec["cwd"], spec["env"], spec["port"], probe) as process:
                p50, p99 = latency_ms(lambda spec=spec, probe=probe: post(spec["port"], *probe))
                rows_100 = (spec["path"], spec["bodies"][100].read_bytes())
                figures = {
                    "p50_ms": p50,
                    "p99_ms": p99,
                    "p50_100_rows_ms": latency_ms(lambda spec=spec, body=rows_100: post(spec["port"], *body))[0],
                    "rps_c4": wrk_rps(spec["port"], spec["path"], spec["bodies"][1], 4),
                    "rps_c16": wrk_rps(spec["port"], spec["path"], spec["bodies"][1], 16),
                    "rows_per_s_100": 100 * wrk_rps(spec["port"], spec["path"], spec["bodies"][100], 4),
                    "rss_mb_per_worker": worker_rss_mb(process),
                }
                paced = {
                    "paced_p50_ms": lambda spec=spec, probe=probe: post(spec["port"], *probe),
                    "paced_p50_100_rows_ms": lambda spec=spec, body=rows_100: post(spec["port"], *body),
                }
                if "health" in spec:
                    figures["p50_health_ms"] = latency_ms(lambda spec=spec: get(spec["port"], spec["health"]))[0]
                    paced["paced_p50_health_ms"] = lambda spec=spec: get(spec["port"], spec["health"])
                figures |= paced_ms(paced)
            for key, value in figures.items():
                samples[name].setdefault(key, []).append(value)
    shutil.rmtree(scratch, ignore_errors=True)

    result = {name: {k: round(statistics.median(v), 2) for k, v in s.items()} for name, s in samples.items()}
    onnx, pickle, floor = result["django-onnx"], result["django-pickle"], result["floor"]
    ratios = {
        "one_row_vs_health": round(onnx["p50_ms"] / onnx["p50_health_ms"], 2),
        "100_rows_vs_health": round(onnx["p50_100_rows_ms"] / onnx["p50_health_ms"], 2),
        "one_row_pickle_vs_health": round(pickle["p50_ms"] / pickle["p50_health_ms"], 2),
        "light_load_one_row_vs_health": round(onnx["paced_p50_ms"] / onnx["paced_p50_health_ms"], 2),
        "light_load_100_rows_vs_health": round(onnx["paced_p50_100_rows_ms"] / onnx["paced_p50_health_ms"], 2),
        "p50_vs_floor": round(onnx["p50_ms"] / floor["p50_ms"], 2),
    }
    if "mlflow" in result:
        ratios["rps_c4_vs_mlflow"] = round(onnx["rps_c4"] / result["mlflow"]["rps_c4"], 2)
    goals = {"one_row_vs_health": "<= 1.5", "100_rows_vs_health": "<= 3", "rps_c4_vs_mlflow": ">= 10",
             "light_load_one_row_vs_health": "<= 1.5", "light_load_100_rows_vs_health": "<= 3"}  # fmt: skip
    figures_out = {
        "machine": MACHINE,
        "servers": result,
        "in_process_predict_proba_ms": {"1_row": round(in_process[1], 2), "100_rows": round(in_process[100], 2)},
        "ratios": ratios,
        "goals": goals,
    }
    lines = [
        f"Default bake (random forest, 100 trees, 30 features), gunicorn 2 sync workers, {MACHINE}; "
        f"medians of {ROUNDS} alternating rounds.",
        "",
        "| server | p50 1 row (ms) | p99 1 row (ms) | p50 100 rows (ms) | p50 health (ms) | req/s c=4 | req/s c=16 "
        "| rows/s (100-row req) | RSS/worker MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, values in result.items():
        lines.append(
            f"| {name} | {values['p50_ms']} | {values['p99_ms']} | {values['p50_100_rows_ms']} | "
            f"{values.get('p50_health_ms', '')} | {values['rps_c4']} | {values['rps_c16']} | "
            f"{values['rows_per_s_100']} | {values['rss_mb_per_worker']} |"
        )
    if "mlflow" not in result:
        lines.append("| mlflow | not measured: set MLFLOW_PYTHON to a Python with mlflow installed | | | | | | | |")
    lines += [
        f"| in process (predict_proba) | {in_process[1]:.2f} | | {in_process[100]:.2f} | | | | "
        f"{100_000 / in_process[100]:.0f} | |",
        "",
        f"Light load (a pause of {PACE_S * 1000:g} ms before each request, the kinds alternating):",
        "",
        "| server | p50 1 row (ms) | p50 100 rows (ms) | p50 health (ms) |",
        "|---|---|---|---|",
        *(
            f"| {name} | {values['paced_p50_ms']} | {values['paced_p50_100_rows_ms']} | "
            f"{values.get('paced_p50_health_ms', '')} |"
            for name, values in result.items()
        ),
        "",
        f"Django serving ONNX, back to back: one-row p50 {ratios['one_row_vs_health']}x the health round trip "
        f"(goal <= 1.5x; the pickle: {ratios['one_row_pickle_vs_health']}x), 100-row p50 "
        f"{ratios['100_rows_vs_health']}x (goal <= 3x), one-row p50 {ratios['p50_vs_floor']}x the floor's. "
        f"Under light load: one row {ratios['light_load_one_row_vs_health']}x, 100 rows "
        f"{ratios['light_load_100_rows_vs_health']}x"
        + (f"; requests/s at c=4 {ratios['rps_c4_vs_mlflow']}x MLflow's (goal >= 10x)." if "mlflow" in result else "."),
    ]
    write_figures("serving", figures_out, "\n".join(lines))


if __name__ == "__main__":
    main()

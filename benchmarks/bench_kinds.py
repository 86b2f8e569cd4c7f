"""The package cut by task kind against the package cut by layer, side by side on the default bake.

Bakes the default project twice, from the last template commit cut by layer (before the kinds moved
into their folders) and from this checkout, trains both, then alternates them, round by round:
- `dvc repro --force` (the three stages, as a retrain runs them);
- sequential one-row `POST /api/predict` on each project's production server (start.sh: gunicorn,
  2 sync workers), p50 per round;
- `manage.py monitor --help` (Django's start-up with the serving app's ready(): every command's cost).
The goal: each ratio (kinds / layers) within noise of 1. It also counts the lines of each bake's
package (migrations aside). Run with `.venv/bin/python benchmarks/bench_kinds.py`; writes
results/kinds.{json,md}.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import BIN, MACHINE, TEMPLATE, Runner, timed, write_figures
from cookiecutter.main import cookiecutter

ROUNDS = 7
REQUESTS = 1000  # one-row predicts per server and round
MEASURES = ("repro", "predict", "help")
# A file of the package as it was cut by layer: the commit that moved it is where the kinds began.
BY_LAYER = "{{cookiecutter.project_slug}}/src/{{cookiecutter.package_name}}/modeling/estimators.py"
SERVER_ENV = {
    "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "off",
}


def git(*args: str, cwd: Path) -> str:
    """A git command's output."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def bake_trained(template: Path, scratch: Path) -> tuple[Path, Runner]:
    """The default bake of `template`, trained by `dvc repro`."""
    project = Path(cookiecutter(str(template), no_input=True, output_dir=str(scratch)))
    run = Runner(project)
    run(str(BIN / "dvc"), "repro")
    return project, run


def package_lines(project: Path) -> int:
    """Lines of the baked package's Python files, migrations aside."""
    files = [p for p in (project / "src").rglob("*.py") if "migrations" not in p.parts]
    return sum(len(path.read_text().splitlines()) for path in files)


def serve(project: Path, run: Runner, port: int) -> subprocess.Popen:
    """The project's production server on `port`, once its health check answers."""
    env = {**run.env, **SERVER_ENV, "GUNICORN_BIND": f"127.0.0.1:{port}",
           "PROMETHEUS_MULTIPROC_DIR": str(project / "var" / "metrics")}  # fmt: skip
    server = subprocess.Popen(
        ["./start.sh"], cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/api/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"the server of {project} did not answer on port {port}")


def command_help(run: Runner) -> None:
    """`manage.py monitor --help`: Django's start-up and the apps' ready(), as every command pays it."""
    command = [str(BIN / "python"), "manage.py", "monitor", "--help"]
    subprocess.run(command, cwd=run.project, env={**run.env, **SERVER_ENV}, check=True, capture_output=True)


def predict_p50(port: int, body: str) -> float:
    """The median milliseconds of REQUESTS sequential one-row predicts on one connection."""
    connection, times = http.client.HTTPConnection("127.0.0.1", port), []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        connection.request("POST", "/api/predict", body, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        times.append(time.perf_counter() - start)
        if answer.status != 200:
            raise SystemExit(f"predict answered {answer.status}")
    return statistics.median(times) * 1000


def main() -> None:
    """Bake both, alternate the measures, write the figures."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        moved = git("log", "-1", "--format=%H", "--", BY_LAYER, cwd=TEMPLATE)
        before = git("rev-parse", f"{moved}^", cwd=TEMPLATE)
        git("clone", "--quiet", str(TEMPLATE), str(root / "layers-template"), cwd=root)
        git("checkout", "--quiet", before, cwd=root / "layers-template")
        projects = {
            "layers": bake_trained(root / "layers-template", root / "layers"),
            "kinds": bake_trained(TEMPLATE, root / "kinds"),
        }
        manifest = json.loads((projects["kinds"][0] / "models" / "model.json").read_text())
        body = json.dumps({"instances": [{feature["name"]: 1.0 for feature in manifest["features"]}]})
        servers = {name: serve(project, run, 8210 + i) for i, (name, (project, run)) in enumerate(projects.items())}
        lines = {name: package_lines(project) for name, (project, _run) in projects.items()}
        figures: dict[str, dict[str, list[float]]] = {name: {key: [] for key in MEASURES} for name in projects}
        try:
            for _ in range(ROUNDS):
                for i, (name, (_project, run)) in enumerate(projects.items()):
                    figures[name]["repro"].append(timed(lambda run=run: run(str(BIN / "dvc"), "repro", "--force")))
                    figures[name]["predict"].append(predict_p50(8210 + i, body))
                    figures[name]["help"].append(timed(lambda run=run: command_help(run)))
        finally:
            for server in servers.values():
                server.terminate()
                server.wait()
    medians = {name: {key: statistics.median(values) for key, values in measures.items()} for name, measures in
               figures.items()}  # fmt: skip
    pairs = {key: zip(figures["kinds"][key], figures["layers"][key], strict=True) for key in MEASURES}
    ratios = {key: statistics.median(kind / layer for kind, layer in pairs[key]) for key in MEASURES}
    rows = [
        ("`dvc repro --force` (3 stages), s", "repro", 2),
        ("one-row `POST /api/predict` p50, ms", "predict", 3),
        ("`manage.py monitor --help`, s", "help", 2),
    ]
    table = "\n".join([
        f"Default bake (breast_cancer, random forest, Django), {MACHINE}; medians of {ROUNDS} alternating rounds, "
        "the ratio the median of the rounds' ratios.",
        "",
        "| measure | cut by layer | cut by kind | kind / layer |",
        "|---|---|---|---|",
        *(f"| {label} | {medians['layers'][key]:.{digits}f} | {medians['kinds'][key]:.{digits}f} | {ratios[key]:.3f}x |"
          for label, key, digits in rows),
        f"| lines of the package (migrations aside) | {lines['layers']:,} | {lines['kinds']:,} | "
        f"{lines['kinds'] / lines['layers']:.3f}x |",
    ])  # fmt: skip
    write_figures("kinds", {"machine": MACHINE, "rounds": ROUNDS, "requests": REQUESTS, "before": before,
                            "medians": medians, "ratios": ratios, "lines": lines}, table)  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    main()

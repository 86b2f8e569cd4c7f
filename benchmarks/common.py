"""Helpers shared by the benchmarks: timing, baking a scratch project, writing and quoting figures."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
MACHINE = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of `action` takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_of(action: Callable[[], object], repeats: int, before: Callable[[], object] | None = None) -> float:
    """Median seconds of `action` over `repeats` runs, calling `before` (untimed) ahead of each."""
    times = []
    for _ in range(repeats):
        if before:
            before()
        times.append(timed(action))
    return statistics.median(times)


def bake(output_dir: Path, **answers: str) -> Path:
    """Bake the template into `output_dir` and return the project folder."""
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=answers))


class Runner:
    """Runs commands in a baked project with this environment's tools, as an installed project would."""

    def __init__(self, project: Path) -> None:
        self.project = project
        if not (project / ".venv").exists():  # the stages' bin/python runs .venv's: this environment's
            (project / ".venv").symlink_to(BIN.parent)
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(project / "src"),
            "DVC_NO_ANALYTICS": "1",
            "NO_MKDOCS_2_WARNING": "1",
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com",
        }

    def __call__(self, *command: str) -> str:
        """Run `command` in the project; return what it printed."""
        result = subprocess.run(command, cwd=self.project, env=self.env, check=True, capture_output=True, text=True)
        return result.stdout


def trained_default(scratch: Path) -> tuple[Path, Runner, dict]:
    """The default bake in `scratch` after `dvc repro`: the project, its Runner and the model's manifest."""
    project = bake(scratch)
    run = Runner(project)
    run(str(BIN / "dvc"), "repro")
    return project, run, json.loads((project / "models" / "model.json").read_text())


def write_figures(name: str, figures: dict, table: str) -> None:
    """Write results/NAME.json and NAME.md, quote the table in the README, and print it."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(table + "\n")
    readme = TEMPLATE / "README.md"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = readme.read_text()
    if start in text and end in text:
        before, rest = text.split(start, 1)
        readme.write_text(f"{before}{start}\n{table}\n{end}{rest.split(end, 1)[1]}")
    print(table)

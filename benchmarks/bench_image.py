"""The serving image: size, build time (cold, and with the dependency layer cached) and time to healthy.

Bakes the default project (python_version=3.11, the Python of `.ci/base-image`'s stand-in for
python:3.11-slim, as no registry is reachable here), trains it, then builds in one run, with podman:
- the slim image (this Dockerfile, `make docker`'s build), cold (`--no-cache`) and after a change to
  src/ (once a plain build has left its layers in the cache: the dependency layer is reused);
- the image before the slim one (the Dockerfile of the last commit with one stage, every dependency).
Each image is started ROUNDS times (the slim one read-only, with a volume for /app/var) and timed until
/api/health answers 200 inside it. Run with `.venv/bin/python benchmarks/bench_image.py`
(podman, runc and the base image as `.ci/run` sets them up); writes results/image.{json,md}.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import BIN, MACHINE, TEMPLATE, Runner, bake, write_figures

ROUNDS = 5
SINGLE_STAGE = "Dockerfile of the last commit with one stage"
# The commit whose Dockerfile was the last built in one stage, with every dependency.
BEFORE = "1cefd33"
ENV = {**os.environ, "CONTAINERS_CONF": str(TEMPLATE / ".ci" / "containers.conf")}
SECRET = "bench-only-secret-key-not-for-production-0123456789"


def podman(*args: str) -> str:
    """Run podman; return what it printed."""
    return subprocess.run(["podman", *args], env=ENV, check=True, capture_output=True, text=True).stdout


def build(project: Path, tag: str, dockerfile: str, *options: str) -> float:
    """Seconds one `podman build` takes."""
    start = time.perf_counter()
    podman("build", "--format", "docker", "-f", dockerfile, "-t", tag, *options, str(project))
    return time.perf_counter() - start


def size_mb(tag: str) -> float:
    """The image's uncompressed size in MB (10^6 bytes), as `podman images` shows it."""
    return round(json.loads(podman("image", "inspect", tag))[0]["Size"] / 1e6, 1)


def seconds_to_healthy(tag: str, name: str, read_only: bool) -> float:
    """Seconds from `podman run` to a 200 from /api/health inside the container."""
    probe = "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/api/health', timeout=2)"
    start = time.perf_counter()
    options = ["--read-only", "-v", f"{name}:/app/var"] if read_only else []  # the one-stage image wrote its files
    podman("run", "-d", "--name", name, "--network", "none", *options, "-e", f"DJANGO_SECRET_KEY={SECRET}", tag)
    try:
        while subprocess.run(["podman", "exec", name, "python", "-c", probe], env=ENV, capture_output=True).returncode:
            time.sleep(0.05)
        return time.perf_counter() - start
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], env=ENV, capture_output=True)
        subprocess.run(["podman", "volume", "rm", "-f", name], env=ENV, capture_output=True)


def before_dockerfile(project: Path) -> str:
    """The single-stage Dockerfile, rendered for this project (its start.sh also collected static files)."""
    old = subprocess.run(["git", "show", f"{BEFORE}:{{{{cookiecutter.project_slug}}}}/Dockerfile"], cwd=TEMPLATE,
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    path = project / "Dockerfile.before"
    path.write_text(old.replace("{{ cookiecutter.python_version }}", "3.11"))
    return path.name


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        project = bake(Path(scratch), python_version="3.11", project_name="Bench Image")
        run = Runner(project)
        run(str(BIN / "dvc"), "repro")
        figures: dict[str, dict[str, float]] = {}
        for label, dockerfile, tag in (
            ("slim (multi-stage, `serve` group)", "Dockerfile", "bench-image:slim"),
            (SINGLE_STAGE, before_dockerfile(project), "bench-image:before"),
        ):
            cold = build(project, tag, dockerfile, "--no-cache", "--build-arg", "DEPENDENCY_GROUP=serve")
            build(project, tag, dockerfile, "--build-arg", "DEPENDENCY_GROUP=serve")  # the cache a first build leaves
            with (project / "src" / "bench_image" / "__init__.py").open("a") as module:
                module.write("\n# a change to src/\n")
            cached = build(project, tag, dockerfile, "--build-arg", "DEPENDENCY_GROUP=serve")
            starts = [seconds_to_healthy(tag, f"bench-image-{i}", dockerfile == "Dockerfile") for i in range(ROUNDS)]
            figures[label] = {
                "size_mb": size_mb(tag),
                "cold_build_s": round(cold, 1),
                "cached_build_s": round(cached, 1),
                "healthy_s_median": round(statistics.median(starts), 2),
                "healthy_s_max": round(max(starts), 2),
            }
    rows = [
        f"| {label} | {f['size_mb']:.0f} MB | {f['cold_build_s']:.0f} s | {f['cached_build_s']:.0f} s | "
        f"{f['healthy_s_median']:.1f} s (max {f['healthy_s_max']:.1f}) |"
        for label, f in figures.items()
    ]
    table = "\n".join([
        f"Serving image of the default project ({MACHINE}; podman, the CI's debootstrapped base; {ROUNDS} starts):",
        "",
        "| image | size | cold build | build after a src/ change | healthy after start (median) |",
        "|---|---|---|---|---|",
        *rows,
    ])  # fmt: skip
    write_figures("image", figures, table)


if __name__ == "__main__":
    main()

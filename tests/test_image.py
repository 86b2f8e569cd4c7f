"""The serving image, built once with podman and run for real: slim, offline, non-root, read-only, on PostgreSQL.

No registry is reachable here: `.ci/run` makes a CI-only stand-in for the Dockerfile's base image
(`.ci/base-image`: Debian bookworm's Python 3.11, so these bakes answer python_version=3.11) and
installs podman with runc; where a registry answers, the fixture pulls the real one. Where neither
podman nor the image is to be had, the module skips, saying why (and fails under CI).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
import yaml

from conftest import BIN, TEMPLATE, Project, require

pytestmark = pytest.mark.xdist_group("image")  # one worker: the module builds the image once

BASE = "docker.io/library/python:3.11-slim"
GOAL_BYTES = 400 * 1000**2  # the slim image's goal, uncompressed
SECRET = secrets.token_urlsafe(50)
TRAINING_LIBRARIES = ("sklearn", "pandas", "pyarrow", "scipy", "dvc", "joblib", "skl2onnx", "onnx", "gto")
DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def podman(*args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run podman with the CI's containers.conf (runc; the limits root may set here), unless one is set."""
    env = {"CONTAINERS_CONF": str(TEMPLATE / ".ci" / "containers.conf"), **os.environ}
    result = subprocess.run(["podman", *args], input=stdin, capture_output=True, text=True, env=env, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"podman {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


@dataclass
class Image:
    project: Project
    name: str
    rows: list[dict[str, Any]]  # held-out rows, as a client sends them
    expected: list[Any]  # the pickle's predictions of those rows, made outside the image


@pytest.fixture(scope="module")
def image(bake_shared: Callable[..., Project]) -> Iterator[Image]:
    """The default bake's image, its model registered as model@v0.0.1, built by `make docker`."""
    require(shutil.which("podman"), "podman is not installed (.ci/run installs it, with runc)")
    if podman("image", "exists", BASE, check=False).returncode != 0 and podman("pull", BASE, check=False).returncode:
        require(None, f"no {BASE} image, and no registry to pull it from: run .ci/base-image")
    project = bake_shared(project_name="Image Test", python_version="3.11")
    project.dvc("repro")
    project.commit_all("First model")
    project.run(str(BIN / "gto"), "register", "model", "HEAD", "--version", "v0.0.1")
    project.run("make", "docker", f"BIN={BIN}")
    test = pd.read_parquet(project.path / "data" / "prepared" / "test.parquet").head(3)
    features = test.drop(columns=[project.json("models/model.json")["target"]])
    expected = joblib.load(project.path / "models" / "model.joblib").predict(features).tolist()
    rows = json.loads(features.to_json(orient="records"))
    yield Image(project, "localhost/image-test:model-v0.0.1", rows, expected)


@pytest.fixture
def names() -> Iterator[list[str]]:
    """Names for a test's containers and volumes, removed afterwards."""
    made: list[str] = []
    yield made
    for name in made:
        podman("rm", "-f", "-t", "0", name, check=False)
        podman("volume", "rm", "-f", name, check=False)


def request(container: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A request made inside the container (it may have no network): the status and the JSON answer."""
    script = (
        "import sys, urllib.error, urllib.request\n"
        "data = sys.stdin.buffer.read() or None\n"
        f"req = urllib.request.Request('http://127.0.0.1:8000{path}', data=data, "
        "headers={'Content-Type': 'application/json'})\n"
        "try:\n    answer = urllib.request.urlopen(req, timeout=10)\n"
        "except urllib.error.HTTPError as exc:\n    answer = exc\n"
        "print(answer.status)\nprint(answer.read().decode())\n"
    )
    result = podman("exec", "-i", container, "python", "-c", script, stdin=json.dumps(body) if body else "")
    status, text = result.stdout.split("\n", 1)
    return int(status), json.loads(text)


def wait_healthy(container: str, seconds: float = 60) -> float:
    """Seconds until /api/health answers 200 inside the container; fails with its log otherwise."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if podman("exec", container, "python", "-c", "import urllib.request as u; u.urlopen("
                  "'http://127.0.0.1:8000/api/health', timeout=2)", check=False).returncode == 0:  # fmt: skip
            return time.monotonic() - start
        time.sleep(0.2)
    pytest.fail(f"{container} was not healthy within {seconds} s:\n{podman('logs', container, check=False).stderr}")


def serve(image: Image, names: list[str], *options: str) -> str:
    """Start the image as production runs it: read-only root, a volume for /app/var, the secret key set."""
    name = f"image-test-{uuid.uuid4().hex[:8]}"
    names.append(name)
    environment = ["-e", f"DJANGO_SECRET_KEY={SECRET}", "-e", "DJANGO_SECURE_SSL_REDIRECT=false"]
    podman("run", "-d", "--name", name, "--read-only", "-v", f"{name}:/app/var", *environment, *options, image.name)
    return name


def test_the_image_is_slim_labelled_and_holds_no_training_library(image: Image) -> None:
    (inspected,) = json.loads(podman("image", "inspect", image.name).stdout)
    assert inspected["Size"] <= GOAL_BYTES, f"{inspected['Size'] / 1e6:.0f} MB"
    config = inspected["Config"]
    assert config["User"] == "10001"
    assert "/api/health" in " ".join(inspected["Healthcheck"]["Test"])  # kept: built in docker format
    manifest = image.project.json("models/model.json")
    assert config["Labels"]["org.opencontainers.image.version"] == "model@v0.0.1"
    assert config["Labels"]["ai.image-test.model.sha256"] == manifest["sha256"]
    assert config["Labels"]["ai.image-test.dependency-group"] == "serve"
    probe = f"import importlib.util as u; print([m for m in {TRAINING_LIBRARIES!r} if u.find_spec(m)])"
    found = podman("run", "--rm", "--network", "none", image.name, "python", "-c", probe).stdout.strip()
    assert found == "[]"


def test_it_serves_offline_as_non_root_from_a_read_only_root_and_stops_cleanly(image: Image, names: list[str]) -> None:
    container = serve(image, names, "--network", "none")
    wait_healthy(container)
    assert podman("healthcheck", "run", container, check=False).returncode == 0  # the image's own HEALTHCHECK
    assert podman("exec", container, "id", "-u").stdout.strip() == "10001"
    status, answer = request(container, "/api/predict", {"instances": image.rows})
    assert status == 200, answer
    assert answer["predictions"] == image.expected  # ONNX in the image answers as the pickle outside it
    assert answer["model"]["version"] == "model@v0.0.1"
    status, health = request(container, "/api/health")
    assert (status, health["runtime"]) == (200, "onnx")

    start = time.monotonic()
    podman("stop", "--time", "30", container)  # SIGTERM, then SIGKILL after 30 s
    assert time.monotonic() - start < 15  # gunicorn's graceful timeout is 10 s
    assert podman("inspect", "--format", "{{.State.ExitCode}}", container).stdout.strip() == "0"


def test_without_a_secret_key_it_refuses_in_one_line(image: Image) -> None:
    result = podman("run", "--rm", "--network", "none", image.name, check=False)
    assert result.returncode == 1
    output = (result.stdout + result.stderr).strip().splitlines()
    assert "DJANGO_SECRET_KEY" in output[-1] and "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def database() -> Iterator[str]:
    """A new PostgreSQL database on the server TEST_DATABASE_URL names, dropped afterwards."""
    if not DATABASE_URL:
        pytest.skip("set TEST_DATABASE_URL=postgres://... (.ci/run starts PostgreSQL)")
    import psycopg

    name = f"image_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    yield re.sub(r"/[^/]*$", f"/{name}", DATABASE_URL)
    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_the_log_the_feedback_and_the_monitor_work_against_postgresql_outside(
    image: Image, names: list[str], database: str
) -> None:
    port = free_port()
    outside = ["--network", "host", "-e", f"DATABASE_URL={database}", "-e", f"GUNICORN_BIND=127.0.0.1:{port}"]
    container = serve(image, names, *outside, "-e", "SERVING_PREDICTION_LOG=true")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/health", timeout=2)
            break
        except OSError:
            assert time.monotonic() < deadline, podman("logs", container, check=False).stderr
            time.sleep(0.2)

    def post(path: str, body: Any) -> Any:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        return json.load(urllib.request.urlopen(urllib.request.Request(f"{base}{path}", data, headers), timeout=10))

    answer = post("/api/predict", {"instances": image.rows})
    truths = zip(answer["prediction_ids"], image.expected, strict=True)
    feedback = [{"prediction_id": pid, "label": label} for pid, label in truths]
    assert post("/api/feedback", {"feedback": feedback}) == {"recorded": len(feedback)}
    metrics = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    assert f"model_log_rows_written_total {float(len(image.rows))}" in metrics
    assert "model_log_rows_dropped_total 0.0" in metrics

    import psycopg

    with psycopg.connect(database) as connection:
        logged = connection.execute("SELECT count(*), count(label) FROM serving_predictionlog").fetchone()
    assert logged == (len(image.rows), len(feedback))

    # The monitor's CronJob: its own image (GROUP=monitor), reading the same database from outside the server.
    image.project.run("make", "docker", f"BIN={BIN}", "GROUP=monitor")
    monitor = ["run", "--rm", "--read-only", "--network", "host", "-e", f"DATABASE_URL={database}"]
    monitor += ["-e", f"DJANGO_SECRET_KEY={SECRET}", "-e", "SERVING_PREDICTION_LOG=true"]
    command = ["python", "manage.py", "monitor", "--output", "/tmp/monitoring.json"]  # as deploy/'s CronJob
    judged = podman(*monitor, "localhost/image-test-monitor:model-v0.0.1", *command, check=False)
    assert judged.returncode == 2, judged.stdout + judged.stderr  # 3 rows: too little to judge, never green
    assert "too little" in judged.stdout + judged.stderr


def test_the_promoted_staging_deployment_runs_as_a_pod(image: Image, names: list[str], tmp_path: Path) -> None:
    kubectl = require(shutil.which("kubectl"), "kubectl is not installed (it builds the kustomize overlays)")
    project = image.project.copy(tmp_path / "project")
    project.run("make", "promote", f"BIN={BIN}", "VERSION=v0.0.1", "STAGE=staging", "IMAGE=localhost/image-test")
    built = yaml.safe_load_all(project.run(kubectl, "kustomize", "deploy/kubernetes/overlays/staging").stdout)
    (deployment,) = [document for document in built if document["kind"] == "Deployment"]
    server = deployment["spec"]["template"]["spec"]["containers"][0]
    assert server["image"] == image.name
    server["ports"][0]["hostPort"] = free_port()  # podman publishes the port on the host: not 8000, maybe taken
    # podman 4.3 removes a finished init container while it may still be running: keep it instead
    for metadata in (deployment["metadata"], deployment["spec"]["template"]["metadata"]):
        metadata.setdefault("annotations", {})["io.podman.annotations.init.container.type"] = "always"
    # podman reads a Secret from its own store: a JSON map of base64 values, made as `kubectl create secret` would
    values = {"DJANGO_SECRET_KEY": SECRET, "DATABASE_URL": "sqlite:////app/var/db.sqlite3"}
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({key: base64.b64encode(value.encode()).decode() for key, value in values.items()}))
    podman("secret", "rm", "image-test", check=False)
    podman("secret", "create", "image-test", str(secret))
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(yaml.safe_dump(deployment))
    try:
        podman("kube", "play", str(manifest))
        container = "image-test-pod-0-server"
        wait_healthy(container)
        status, answer = request(container, "/api/predict", {"instances": image.rows})
        assert status == 200 and answer["predictions"] == image.expected
        # the server skips migrate (START_MIGRATE=no): the init container migrated its database first
        assert podman("exec", container, "python", "manage.py", "migrate", "--check", check=False).returncode == 0
    finally:
        podman("kube", "down", str(manifest), check=False)
        podman("secret", "rm", "image-test", check=False)

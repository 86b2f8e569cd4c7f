"""Deployment checks: production settings pass `check --deploy`, migrations are complete, gunicorn serves."""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest

PROJECT = Path(__file__).resolve().parents[1]


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a production deployment (a real secret key, DEBUG off)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "model.example.com,127.0.0.1",
        "PYTHONPATH": os.pathsep.join([str(PROJECT / "src"), str(PROJECT), os.environ.get("PYTHONPATH", "")]),
    }
    return env | extra


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True)


def test_check_deploy_passes_with_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_secret_key_is_required_outside_debug() -> None:
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr
    wsgi = [sys.executable, "-c", "import config.wsgi"]  # gunicorn runs no system checks
    server = subprocess.run(wsgi, cwd=PROJECT, env=env, capture_output=True, text=True)
    assert server.returncode != 0 and "DJANGO_SECRET_KEY must be set" in server.stderr


def test_a_fallback_key_keeps_what_the_old_key_signed_valid() -> None:
    old, new = secrets.token_urlsafe(50), secrets.token_urlsafe(50)
    check = "from django.core import signing; print(signing.loads(signing.dumps('session', key={old!r})))"
    code = f"import django; django.setup(); {check.format(old=old)}"
    rotated = production_env(DJANGO_SECRET_KEY=new)
    run = [sys.executable, "-c", code]
    refused = subprocess.run(run, cwd=PROJECT, env=rotated, capture_output=True, text=True)
    assert refused.returncode != 0 and "BadSignature" in refused.stderr
    kept = subprocess.run(
        run, cwd=PROJECT, env=rotated | {"DJANGO_SECRET_KEY_FALLBACKS": old}, capture_output=True, text=True
    )
    assert kept.returncode == 0 and kept.stdout.strip() == "session", kept.stderr


def registered_checkout(trained: Path, tmp_path: Path) -> Path:
    """A checkout of the trained model, committed and registered as model@v0.0.1."""
    shutil.copy(PROJECT / "Makefile", tmp_path)
    shutil.copytree(trained / "models", tmp_path / "models")
    identity = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    register = [*identity, "tag", "-a", "model@v0.0.1", "-m", "Register"]
    for command in [["init", "-q", "-b", "main"], ["add", "."], [*identity, "commit", "-qm", "Model"], register]:
        subprocess.run(["git", *command], cwd=tmp_path, check=True, capture_output=True)
    return tmp_path


def recorded_engine(tmp_path: Path) -> Path:
    """A `docker` that records each call, one line each: the build and push commands, not a real engine."""
    docker = tmp_path / "bin" / "docker"
    docker.parent.mkdir()
    docker.write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/calls"\n')
    docker.chmod(0o755)
    return docker


def test_make_docker_push_builds_the_served_runtimes_group_tagged_with_the_release(
    trained: Path, tmp_path: Path
) -> None:
    (tmp_path / "checkout").mkdir()
    checkout, docker = registered_checkout(trained, tmp_path / "checkout"), recorded_engine(tmp_path)
    sha256 = json.loads((checkout / "models" / "model.json").read_text())["sha256"]
    env = production_env(PATH=f"{docker.parent}{os.pathsep}{os.environ['PATH']}")
    image, commit = "ghcr.io/acme/{{ cookiecutter.project_slug }}", "0123456789abcdef"
    make = ["make", "docker-push", f"BIN={Path(sys.executable).parent}", "ENGINE=docker", f"IMAGE={image}"]
    for group in ("", "monitor"):
        command = [*make, f"COMMIT={commit}", f"GROUP={group}"]
        result = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    calls = [line.split() for line in (docker.parent / "calls").read_text().splitlines()]
    served = [f"{image}:{tag}" for tag in ("model-v0.0.1", "latest", "sha-0123456")]
    monitor = [name.replace(image, f"{image}-monitor") for name in served]
    model = ["--build-arg", "MODEL_VERSION=model@v0.0.1", "--build-arg", f"MODEL_SHA256={sha256}"]
    assert calls == [
        ["build", "--build-arg", "DEPENDENCY_GROUP=serve", *model, *(o for n in served for o in ("--tag", n)), "."],
        *(["push", name] for name in served),
        ["build", "--build-arg", "DEPENDENCY_GROUP=monitor", *model, *(o for n in monitor for o in ("--tag", n)), "."],
        *(["push", name] for name in monitor),
    ]


{% if cookiecutter.__kind == "table" -%}
def test_a_model_served_from_its_pickle_gets_the_pickles_libraries_in_its_image(trained: Path, tmp_path: Path) -> None:
    checkout = registered_checkout(trained, tmp_path)
    manifest_path = checkout / "models" / "model.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["onnx"] = {"status": "fallback", "reason": "the check failed"}  # as train writes a failed check
    manifest_path.write_text(json.dumps(manifest))
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}.serving.image", "--engine", "podman", "--dry-run"]
    result = subprocess.run(command, cwd=checkout, env=production_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    build = ["podman", "build", "--format", "docker", "--build-arg", "DEPENDENCY_GROUP=serve-pickle"]
    assert result.stdout.split()[:6] == build


{% endif -%}
def test_migrations_match_the_models() -> None:
    result = manage("makemigrations", "--check", "--dry-run", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def deploy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch folder for the gunicorn fixture's server: its log, database and static files."""
    return tmp_path_factory.mktemp("deploy")


@pytest.fixture(scope="module")
def server_log(deploy_folder: Path) -> Path:
    """Where the gunicorn fixture's server writes its output."""
    return deploy_folder / "server.log"


@pytest.fixture(scope="module")
def database_url(deploy_folder: Path) -> Iterator[str]:
    """A new database for the server: on the PostgreSQL that TEST_DATABASE_URL names (CI), else SQLite."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{deploy_folder / 'db.sqlite3'}"
        return
    import psycopg

    name = f"deploy_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(server)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def gunicorn(table_trained: Path, deploy_folder: Path, server_log: Path, database_url: str) -> Iterator[str]:
    """The documented production start (start.sh) on a fresh database and a loopback port; its base URL.

    Started once for the module: its tests only send requests (start.sh costs seconds: migrate, collectstatic).
    """
    port = free_port()
    env = production_env(
        DJANGO_SECURE_SSL_REDIRECT="off",  # plain HTTP on loopback
        SERVING_MODEL_PATH=str(table_trained / "models" / "model.joblib"),
        DATABASE_URL=database_url,
        DJANGO_STATIC_ROOT=str(deploy_folder / "staticfiles"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        BIN=str(Path(sys.executable).parent),
    )
    with server_log.open("wb") as log:
        server = subprocess.Popen(["sh", "start.sh"], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server_log.read_text()
                time.sleep(0.3)
        else:
            pytest.fail(f"gunicorn did not answer {base}/api/health within 120 s:\n{server_log.read_text()}")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail(f"gunicorn did not stop within 30 s of SIGTERM:\n{server_log.read_text()[-3000:]}")


def test_gunicorn_serves_predictions_over_http(gunicorn: str, table_trained: Path) -> None:
    manifest = json.loads((table_trained / "models" / "model.json").read_text())
    frame = pd.read_parquet(table_trained / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    body = json.dumps({"instances": json.loads(frame.head(3).to_json(orient="records"))}).encode()
    request = urllib.request.Request(f"{gunicorn}/api/predict", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert len(answer["predictions"]) == 3 and answer["model"]["sha256"] == manifest["sha256"]
    bad = urllib.request.Request(f"{gunicorn}/api/predict", data=b"{oops", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(bad, timeout=10)
    assert error.value.code == 400 and b"Traceback" not in error.value.read()


def test_the_documented_start_migrates_and_serves_the_admin_with_its_css(
    gunicorn: str, server_log: Path, database_url: str
) -> None:
    with urllib.request.urlopen(f"{gunicorn}/static/admin/css/base.css", timeout=10) as css:
        assert css.status == 200 and b"{" in css.read()
    with urllib.request.urlopen(f"{gunicorn}/admin/login/", timeout=10) as login:
        assert login.status == 200 and b"/static/admin/css/" in login.read()
    assert "no such table" not in server_log.read_text()
    if database_url.startswith("postgres"):  # CI: the server migrated the PostgreSQL database it was given
        import psycopg

        with psycopg.connect(database_url) as connection:
            assert connection.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0


def test_a_daemon_writes_why_it_serves_no_model_to_its_error_log(table_trained: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(table_trained / "models", models)
    (models / "model.onnx").write_bytes((models / "model.onnx").read_bytes()[:-1])  # refused by its sha256
    port, pid, log = free_port(), tmp_path / "gunicorn.pid", tmp_path / "gunicorn.log"
    env = production_env(
        DJANGO_SECURE_SSL_REDIRECT="off",
        SERVING_MODEL_PATH=str(models / "model.joblib"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp_path / "staticfiles"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        BIN=str(Path(sys.executable).parent),
    )
    daemon = ["sh", "start.sh", "--daemon", "--pid", str(pid), "--error-logfile", str(log)]  # as the tutorial runs it
    subprocess.run(daemon, cwd=PROJECT, env=env, check=True, capture_output=True, timeout=120)
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline:  # the pid file and the log come before the bind
            try:
                answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=10).status
            except urllib.error.HTTPError as refused:
                answer = refused.code
            except urllib.error.URLError:  # not listening yet
                time.sleep(0.3)
        assert answer == 503
        assert re.search(r"model not served: \S*model\.onnx has sha256", log.read_text()), log.read_text()[-2000:]
    finally:
        master = int(pid.read_text())
        os.kill(master, 15)
        deadline = time.monotonic() + 30
        while pid.exists() and time.monotonic() < deadline:  # gunicorn removes its pid file on exit
            time.sleep(0.2)

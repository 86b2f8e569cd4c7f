"""The serving app in a Django site of one's own: `django-admin startproject`, the package pip-installed, mounted."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from conftest import BIN, Project

pytestmark = pytest.mark.xdist_group("existing-site")  # one worker: its module fixture trains a project once


@pytest.fixture(scope="module")
def trained(bake_shared: Callable[..., Project]) -> Project:
    """A default Django project after its first `dvc repro`: the model the host site serves."""
    project = bake_shared(project_name="Site Model", use_django="yes")
    project.dvc("repro")
    return project


def sh(*command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command; fail the test with its output if it fails."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def packages(trained: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baked package pip-installed into a folder of its own, once for the module (the sites only import it)."""
    packages = tmp_path_factory.mktemp("packages")
    sh(str(BIN / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(packages), ".",
       cwd=trained.path, env=trained.env())  # fmt: skip
    return packages


@pytest.fixture
def host(trained: Project, packages: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A fresh `django-admin startproject hostsite` with the baked package pip-installed into a folder of its own."""
    env = {**trained.env(), "PYTHONPATH": str(packages)}  # the installed package, not the checkout's src/
    env.pop("DJANGO_SETTINGS_MODULE", None)
    site = tmp_path / "host"
    site.mkdir()
    sh(str(BIN / "django-admin"), "startproject", "hostsite", ".", cwd=site, env=env)
    with (site / "hostsite" / "settings.py").open("a") as settings:
        settings.write(f'\nINSTALLED_APPS += ["{trained.package}.serving"]\n')
    return site, env


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(host: tuple[Path, dict[str, str]], trained: Project) -> Iterator[str]:
    """The host site set up as the how-to says (the model copied to ml/, URLs under ml/, metrics, the log on,
    migrate), run by runserver; its base URL."""
    site, env = host
    for folder in ("models", "reports"):  # the files `dvc repro` made, in the project's layout
        shutil.copytree(trained.path / folder, site / "ml" / folder)
    middleware = f"{trained.package}.serving.metrics.MetricsMiddleware"
    with (site / "hostsite" / "settings.py").open("a") as settings:
        settings.write(f"SERVING_MODEL_PATH = BASE_DIR / 'ml' / 'models' / 'model.joblib'\n"
                       "SERVING_PREDICTION_LOG = True\n"
                       "SERVING_PREDICTION_LOG_FLUSH_SECONDS = 0.1\n"  # written before the test's monitor reads
                       f"MIDDLEWARE = ['{middleware}', *MIDDLEWARE]\n")  # fmt: skip
    urlconf = f"{trained.package}.serving.urls"
    with (site / "hostsite" / "urls.py").open("a") as urls:
        urls.write(f'\nfrom django.urls import include\nfrom {trained.package}.serving.metrics import metrics_view\n\n'
                   f'urlpatterns += [path("ml/", include("{urlconf}")), path("metrics", metrics_view)]\n')  # fmt: skip
    manage = (str(BIN / "python"), "manage.py")
    assert "no issues" in sh(*manage, "check", cwd=site, env=env).stdout
    sh(*manage, "migrate", cwd=site, env=env)
    port = free_port()
    log = site / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
                                   cwd=site, env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}/ml"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError) as exc:
                assert process.poll() is None, log.read_text()
                if time.monotonic() > deadline:
                    pytest.fail(f"the host site did not answer {base}/health within 60 s ({exc}):\n{log.read_text()}")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(url: str, body: Any = None) -> Any:
    """GET `url`, or POST `body` as JSON to it; the decoded JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_without_a_model_path_check_warns_and_names_the_setting(host: tuple[Path, dict[str, str]]) -> None:
    site, env = host
    result = sh(str(BIN / "python"), "manage.py", "check", cwd=site, env=env)
    assert "serving.W001" in result.stderr and "SERVING_MODEL_PATH is not set" in result.stderr


def test_a_startproject_site_serves_the_model_under_its_own_prefix(server: str, trained: Project) -> None:
    manifest = trained.json("models/model.json")
    frame = pd.read_parquet(trained.path / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    answer = get(f"{server}/predict", {"instances": json.loads(frame.head(3).to_json(orient="records"))})
    assert len(answer["predictions"]) == 3 and set(answer["predictions"]) <= set(manifest["classes"])
    assert answer["model"]["sha256"] == manifest["sha256"]
    health = get(f"{server}/health")
    assert health["status"] == "ok" and health["model"]["sha256"] == manifest["sha256"]
    assert get(f"{server}/model")["sha256"] == manifest["sha256"]
    with urllib.request.urlopen(f"{server}/openapi.json", timeout=30) as response:
        assert "/ml/predict" in json.loads(response.read())["paths"]


def test_the_host_site_logs_counts_and_monitors_as_the_how_to_says(
    server: str, trained: Project, host: tuple[Path, dict[str, str]]
) -> None:
    site, env = host
    manifest = trained.json("models/model.json")
    frame = pd.read_parquet(trained.path / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    answer = get(f"{server}/predict", {"instances": json.loads(frame.to_json(orient="records"))})
    assert len(answer["prediction_ids"]) == len(frame)
    with urllib.request.urlopen(server.removesuffix("/ml") + "/metrics", timeout=30) as response:
        metrics = response.read().decode()
    assert f'model_rows_predicted_total{{source="api"}} {float(len(frame))}' in metrics
    monitor = subprocess.run([str(BIN / "python"), "manage.py", "monitor", "--last", str(len(frame))],
                             cwd=site, env=env, capture_output=True, text=True)  # fmt: skip
    assert monitor.returncode == 0, monitor.stdout + monitor.stderr  # no params.yaml: the default thresholds
    report = json.loads((site / "ml" / "reports" / "monitoring.json").read_text())
    assert report["status"] == "ok" and report["window"]["rows"] == len(frame)

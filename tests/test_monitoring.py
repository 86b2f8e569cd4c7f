"""The ops view end to end on the default bake: gunicorn with the log on, a real Prometheus, the monitor, the site.

One story, built once for the module: the model is trained and started with `start.sh` (2 workers,
the log on); a day of traffic sends the test rows unchanged, the next day sends them with one
feature tripled; true labels come back for the first day. `manage.py monitor` judges each day,
Prometheus scrapes /metrics, and `make docs` draws the Monitoring page from the report.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_report import page, painted
from test_report import screenshot as shoot

from conftest import Project, require

pytestmark = pytest.mark.xdist_group("monitoring")  # one worker serves the model and builds the site once

SHIFTED = "mean radius"
BATCH = 19  # rows per request: 114 test rows in 6 requests
SERVED, DRIFTED, TRAINING = (30, 136, 229), (229, 57, 53), (144, 164, 174)  # report/charts.py's colours


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    """One request through urllib, as any HTTP client sends it; the JSON (or text) answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if response.headers.get_content_type() == "application/json" else text


@dataclass
class Story:
    """What the module's fixture did, for its tests to check."""

    project: Project
    base: str
    env: dict[str, str]
    manifest: dict[str, Any]
    test: pd.DataFrame
    days: list[tuple[int, str, str, dict[str, Any]]] = field(default_factory=list)  # exit code, out, err, report
    predictions: list[list[Any]] = field(default_factory=list)  # each day's answers
    requests: int = 0
    metrics_text: str = ""

    def predict(self, rows: pd.DataFrame) -> dict[str, list[Any]]:
        """POST the rows in batches; the predictions and their ids."""
        answers: dict[str, list[Any]] = {"predictions": [], "prediction_ids": []}
        for start in range(0, len(rows), BATCH):
            instances = json.loads(rows.iloc[start : start + BATCH].to_json(orient="records"))
            answer = call(f"{self.base}/api/predict", {"instances": instances})
            self.requests += 1
            for key in answers:
                answers[key] += answer[key]
        return answers

    def monitor(self, *args: str) -> tuple[int, str, str, dict[str, Any]]:
        """`manage.py monitor` as `make monitor` runs it, against the server's database."""
        ran = subprocess.run([str(self.project.path / ".venv" / "bin" / "python"), "manage.py", "monitor", *args],
                             cwd=self.project.path, env=self.env, capture_output=True, text=True)  # fmt: skip
        return ran.returncode, ran.stdout, ran.stderr, self.project.json("reports/monitoring.json")


def production_env(project: Project, scratch: Path, port: int) -> dict[str, str]:
    """start.sh's environment for a plain-HTTP production run on `port`: its files in `scratch`."""
    return project.env() | {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "off",
        "DJANGO_STATIC_ROOT": str(scratch / "static"),
        "DATABASE_URL": f"sqlite:///{scratch / 'production.sqlite3'}",
        "PROMETHEUS_MULTIPROC_DIR": str(scratch / "metrics"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }


def gunicorn(project: Project, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """start.sh with `env`, answering /api/health; fails the test with the server's log otherwise."""
    with log.open("wb") as output:
        server = subprocess.Popen(["sh", "start.sh"], cwd=project.path, env=env, stdout=output,
                                  stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        try:
            call(f"http://{env['GUNICORN_BIND']}/api/health")
            return server
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def story(bake_shared: Callable[..., Project], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """The default project trained, served by gunicorn with the log on, two days of traffic judged, its site built."""
    project = bake_shared(project_name="Monitored")
    project.dvc("repro")
    scratch = tmp_path_factory.mktemp("served")
    port = free_port()
    env = production_env(project, scratch, port) | {"SERVING_PREDICTION_LOG": "on"}
    manifest = project.json("models/model.json")
    test = pd.read_parquet(project.path / "data" / "prepared" / "test.parquet")
    server = gunicorn(project, env, scratch / "server.log")
    story = Story(project, f"http://127.0.0.1:{port}", env, manifest, test)
    try:
        features, truths = test.drop(columns=manifest["target"]), test[manifest["target"]].tolist()
        for rows in (features, features.assign(**{SHIFTED: features[SHIFTED] * 3})):  # day 2: a unit changed upstream
            answers = story.predict(rows)
            story.predictions.append(answers["predictions"])
            ids = answers["prediction_ids"]
            feedback = [{"prediction_id": i, "label": t} for i, t in zip(ids, truths, strict=True)]
            assert call(f"{story.base}/api/feedback", {"feedback": feedback}) == {"recorded": len(test)}
            story.days.append(story.monitor("--last", str(len(test))))
        story.metrics_text = call(f"{story.base}/metrics")
        yield story
    finally:
        stop(server)


def test_unchanged_rows_pass_and_the_tripled_feature_alone_is_named(story: Story) -> None:
    (code, out, err, report), (shifted_code, shifted_out, _, shifted) = story.days
    assert (code, report["status"], report["window"]["rows"]) == (0, "ok", len(story.test)), out + err
    assert not [check["name"] for check in report["checks"] if check["drifted"]]
    assert shifted_code == 1 and shifted["status"] == "drift", shifted_out
    assert {check["feature"] for check in shifted["checks"] if check["drifted"]} == {SHIFTED}
    lines = [line for line in shifted_out.splitlines() if line.startswith("drift: ")]
    assert lines[0].startswith(f"drift: {SHIFTED}: chi-square ") and "Jensen-Shannon distance" in lines[0]
    assert all(line.startswith((f"drift: {SHIFTED}:", "drift: prediction:")) for line in lines), shifted_out


def test_feedback_gives_each_day_the_live_accuracy_of_its_answers(story: Story) -> None:
    truths = story.test[story.manifest["target"]].astype(str).reset_index(drop=True)
    for predictions, (_, _, _, report) in zip(story.predictions, story.days, strict=True):
        right = (pd.Series(predictions).astype(str) == truths).mean()
        assert report["live"]["labelled"] == len(story.test)
        assert report["live"]["overall"]["accuracy"] == pytest.approx(right, abs=1e-6)
        assert report["live"]["test"]["accuracy"] == story.manifest["metrics"]["accuracy"]
    assert story.days[0][3]["live"]["overall"]["accuracy"] == story.manifest["metrics"]["accuracy"]  # the test set


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """The Prometheus text format read by prometheus_client's parser: each sample's value by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_add_up_both_workers_counts(story: Story) -> None:
    found = samples(story.metrics_text)
    rows = 2 * len(story.test)
    assert found[("model_requests_total", (("endpoint", "predict"), ("status", "200")))] == story.requests
    assert found[("model_requests_total", (("endpoint", "feedback"), ("status", "200")))] == 2
    assert found[("model_rows_predicted_total", (("source", "api"),))] == rows
    classes = sum(value for (name, _), value in found.items() if name == "model_predictions_total")
    assert classes == rows
    outside = found.get(("model_values_outside_training_range_total", (("feature", SHIFTED),)), 0)
    assert outside > 0  # tripled radii beyond the largest in training
    info = [dict(labels) for (name, labels), value in found.items() if name == "model_info" and value == 1]
    assert [entry["sha256"] for entry in info] == [story.manifest["sha256"]] and info[0]["runtime"] == "onnx"


def test_a_real_prometheus_scrapes_the_same_counts(story: Story, tmp_path: Path) -> None:
    prometheus = require(shutil.which("prometheus"), "Prometheus is not installed (apt install prometheus)")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - {{job_name: model, static_configs: [{{targets: ['{story.env['GUNICORN_BIND']}']}}]}}\n"
    )
    server = subprocess.Popen(
        [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    query = 'model_requests_total{endpoint="predict",status="200"}'
    try:
        deadline, found = time.monotonic() + 60, []
        while time.monotonic() < deadline and not found:
            time.sleep(1)
            try:
                answer = call(f"http://127.0.0.1:{port}/api/v1/query?{urllib.parse.urlencode({'query': query})}")
                found = answer["data"]["result"]
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stderr.read().decode()[-2000:] if server.stderr else ""
        assert found, f"Prometheus scraped no {query} within 60 s"
        assert float(found[0]["value"][1]) >= story.requests  # the fixture's requests, and the days that followed
        [target] = call(f"http://127.0.0.1:{port}/api/v1/targets")["data"]["activeTargets"]
        assert target["health"] == "up" and target["scrapeUrl"].endswith("/metrics")
    finally:
        stop(server)


@pytest.fixture(scope="module")
def site(story: Story) -> Project:
    """`make monitor` over the second day, then the site `make docs` builds from its report."""
    make = story.project.run("make", "monitor", f"MONITOR_ARGS=--last {len(story.test)}", check=False, env=story.env)
    assert make.returncode == 2 and f"drift: {SHIFTED}" in make.stdout, make.stdout + make.stderr  # make: 2 on failure
    story.project.run("make", "docs", env=story.env)
    return story.project


def drawn_text(svg: Path) -> set[str]:
    """The words of an SVG chart (svg.fonttype none: its labels stay text)."""
    return {text.strip() for text in ET.parse(svg).getroot().itertext() if text.strip()}


def test_the_monitoring_page_draws_each_check_training_beside_served(site: Project, story: Story) -> None:
    report = site.json("reports/monitoring.json")
    soup = page(site, "monitoring")
    charts = {img["alt"]: (site.path / "site" / "monitoring" / img["src"]).resolve() for img in soup("img")}
    first = next(alt for alt in charts if alt.endswith(": training and served"))
    assert first.startswith(f"{SHIFTED}:")  # drifted first
    for check in report["checks"][:3]:
        assert {"training", "served", *check["bins"][:2]} <= drawn_text(charts[f"{check['name']}: training and served"])
    assert {"test set", "served"} <= drawn_text(charts["Predicted class: test set and served"])
    assert report["message"] in soup.get_text()
    assert "Monitoring" in [a.get_text(strip=True) for a in page(site, "index").select("nav a")]


def test_the_monitoring_page_renders_in_headless_chromium(site: Project, tmp_path: Path) -> None:
    screenshot = shoot(site.path / "site" / "monitoring" / "index.html", tmp_path, height=9000)
    # What Chromium drew: the grey training bars, the red served bars of the drifted check, the blue of the others.
    for colour in (TRAINING, DRIFTED, SERVED):
        assert painted(screenshot, colour) > 500, colour


def test_a_project_without_django_has_no_monitoring_page(bake_shared: Callable[..., Project]) -> None:
    project = bake_shared(project_name="Unserved", use_django="no")
    (project.path / "reports").mkdir(exist_ok=True)
    (project.path / "reports" / "monitoring.json").write_text(json.dumps({"status": "drift", "checks": []}))
    project.run("make", "docs")
    assert not (project.path / "site" / "monitoring").exists()
    assert "Monitoring" not in [a.get_text(strip=True) for a in page(project, "index").select("nav a")]

"""The ops view end to end on the default bake: gunicorn in production settings with the log on, a real Prometheus,
the monitor, the site.

One story, built once for the module. The model is trained, committed and registered as model@v0.0.1, then
started with `start.sh` (2 workers, the log on, the HTTPS redirect on: the API is called as through a TLS proxy,
/metrics is scraped in plain HTTP). The monitor first sees nothing. A day of traffic sends the test rows
unchanged with their true labels; the next the same rows with labels all wrong. The model is then retrained and
committed without restarting the server: a day of traffic is still answered by v0.0.1, and judged as v0.0.1.
The last day sends the rows with one feature tripled. `manage.py monitor` judges each day, Prometheus scrapes
/metrics, and `make docs` draws the Monitoring page from the report.
"""

from __future__ import annotations

import json
import math
import re
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_report import page, painted
from test_report import screenshot as shoot

from conftest import BIN, Project, require

pytestmark = pytest.mark.xdist_group("monitoring")  # one worker serves the model and builds the site once

SHIFTED = "mean radius"
BATCH = 19  # rows per request: 114 test rows in 6 requests
SERVED, DRIFTED, TRAINING = (30, 136, 229), (229, 57, 53), (144, 164, 174)  # report/charts.py's colours
PROXY = {"X-Forwarded-Proto": "https"}  # what production's TLS-terminating proxy adds to each request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body: Any = None, headers: dict[str, str] | None = None, proxied: bool = True) -> Any:
    """One request through urllib, as any HTTP client sends it (through the TLS proxy unless not `proxied`)."""
    data = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json", **(PROXY if proxied else {}), **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=sent)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if response.headers.get_content_type() == "application/json" else text


@dataclass
class Day:
    """One monitor run: its exit code, output and report."""

    code: int
    out: str
    err: str
    report: dict[str, Any]


@dataclass
class Story:
    """What the module's fixture did, for its tests to check."""

    project: Project
    base: str
    env: dict[str, str]
    manifest: dict[str, Any]
    test: pd.DataFrame
    days: dict[str, Day] = field(default_factory=dict)
    predictions: dict[str, list[Any]] = field(default_factory=dict)  # each day's answers
    marks: dict[str, str] = field(default_factory=dict)  # when each day began (ISO 8601), for --since and --until
    requests: int = 0
    metrics_text: str = ""
    retrained: dict[str, Any] = field(default_factory=dict)  # the checkout's manifest after the retrain

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

    def serve_day(self, name: str, rows: pd.DataFrame, labels: Callable[[list[Any]], list[Any]]) -> None:
        """A day: the rows predicted, `labels(predictions)` sent back as feedback, the monitor run on its rows."""
        self.marks[name] = datetime.now(UTC).isoformat()
        answers = self.predict(rows)
        self.predictions[name] = answers["predictions"]
        truths = labels(answers["predictions"])
        feedback = [{"prediction_id": i, "label": t} for i, t in zip(answers["prediction_ids"], truths, strict=True)]
        assert call(f"{self.base}/api/feedback", {"feedback": feedback}) == {"recorded": len(rows)}
        self.days[name] = self.monitor("--last", str(len(rows)))

    def monitor(self, *args: str) -> Day:
        """`manage.py monitor` as `make monitor` runs it, against the server's database."""
        ran = subprocess.run([str(self.project.path / ".venv" / "bin" / "python"), "manage.py", "monitor", *args],
                             cwd=self.project.path, env=self.env, capture_output=True, text=True)  # fmt: skip
        return Day(ran.returncode, ran.stdout, ran.stderr, self.project.json("reports/monitoring.json"))


def production_env(project: Project, scratch: Path, port: int) -> dict[str, str]:
    """start.sh's environment for a production run on `port` (HTTPS behind a proxy): its files in `scratch`."""
    return project.env() | {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
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


def wrong(classes: list[Any]) -> Callable[[list[Any]], list[Any]]:
    """True labels that say each prediction was wrong: another class."""
    return lambda predictions: [next(c for c in classes if str(c) != str(p)) for p in predictions]


@pytest.fixture(scope="module")
def story(bake_shared: Callable[..., Project], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """The default project trained and registered, served by gunicorn with the log on, five days judged."""
    project = bake_shared(project_name="Monitored")
    project.dvc("repro")
    project.commit_all("First model")
    project.run(str(BIN / "gto"), "register", "model", "HEAD")  # model@v0.0.1
    scratch = tmp_path_factory.mktemp("served")
    port = free_port()
    env = production_env(project, scratch, port) | {"SERVING_PREDICTION_LOG": "on"}
    manifest = project.json("models/model.json")
    test = pd.read_parquet(project.path / "data" / "prepared" / "test.parquet")
    server = gunicorn(project, env, scratch / "server.log")
    story = Story(project, f"http://127.0.0.1:{port}", env, manifest, test)
    try:
        story.days["quiet"] = story.monitor()  # no traffic yet
        features, truths = test.drop(columns=manifest["target"]), test[manifest["target"]].tolist()
        story.serve_day("unchanged", features, lambda _: truths)
        story.serve_day("wrong", features, wrong(manifest["classes"]))
        project.set_params("train", seed=7)  # a retrain merged; the server keeps serving v0.0.1 until restarted
        project.dvc("repro")
        project.commit_all("Retrained")
        story.retrained = project.json("models/model.json")
        story.serve_day("retrained", features, lambda _: truths)
        story.serve_day("shifted", features.assign(**{SHIFTED: features[SHIFTED] * 3}), lambda _: truths)
        story.metrics_text = call(f"{story.base}/metrics", proxied=False)  # plain HTTP, as Prometheus scrapes
        yield story
    finally:
        stop(server)


def test_a_monitor_that_sees_nothing_is_blind_and_says_why(story: Story) -> None:
    quiet = story.days["quiet"]
    assert quiet.code == 2 and quiet.report["status"] == "too_little_data" and not quiet.out, quiet.err
    assert "the prediction log is empty" in quiet.err and quiet.err.count("\n") == 1


def test_unchanged_rows_pass_and_the_tripled_feature_alone_is_named(story: Story) -> None:
    day, shifted = story.days["unchanged"], story.days["shifted"]
    assert (day.code, day.report["status"], day.report["window"]["rows"]) == (0, "ok", len(story.test)), day.out
    assert not [check["name"] for check in day.report["checks"] if check["drifted"]]
    assert shifted.code == 1 and shifted.report["status"] == "drift", shifted.out
    assert {check["feature"] for check in shifted.report["checks"] if check["drifted"]} == {SHIFTED}
    lines = [line for line in shifted.out.splitlines() if line.startswith("drift: ")]
    assert lines[0].startswith(f"drift: {SHIFTED}: chi-square ") and "Jensen-Shannon distance" in lines[0]
    assert all(line.startswith((f"drift: {SHIFTED}:", "drift: prediction:")) for line in lines), shifted.out
    assert all("; test set " in line for line in lines if line.startswith("drift: prediction:"))


def test_answers_all_wrong_are_a_quality_alarm_naming_the_metric(story: Story) -> None:
    day = story.days["wrong"]
    test_accuracy = story.manifest["metrics"]["accuracy"]
    assert day.code == 1 and day.report["status"] == "quality", day.out + day.err
    [line] = [line for line in day.out.splitlines() if line.startswith("quality: ")]
    assert line.startswith(f"quality: accuracy 0 on {len(story.test)} labelled rows against {test_accuracy:.4g}")
    assert day.report["quality"]["dropped"] and day.report["quality"]["live"] == 0


def test_after_a_retrain_the_monitor_judges_the_version_still_served(story: Story) -> None:
    day = story.days["retrained"]
    assert story.retrained["sha256"] != story.manifest["sha256"]  # the checkout moved on
    judged = day.report["model"]
    assert (judged["sha256"], judged["version"]) == (story.manifest["sha256"], "model@v0.0.1")
    assert day.report["model"]["chosen_by"] == "the model of the newest logged row"
    assert (day.code, day.report["window"]["rows"]) == (0, len(story.test)), day.out + day.err
    assert "model@v0.0.1 (the model of the newest logged row): 114 served rows" in day.out


def test_feedback_gives_each_day_the_live_accuracy_of_its_answers(story: Story) -> None:
    truths = story.test[story.manifest["target"]].astype(str).reset_index(drop=True)
    for name in ("unchanged", "shifted"):
        report = story.days[name].report
        right = (pd.Series(story.predictions[name]).astype(str) == truths).mean()
        assert report["live"]["labelled"] == len(story.test)
        assert report["live"]["overall"]["accuracy"] == pytest.approx(right, abs=1e-6)
        assert report["live"]["test"]["accuracy"] == story.manifest["metrics"]["accuracy"]
    assert story.days["unchanged"].report["live"]["overall"]["accuracy"] == story.manifest["metrics"]["accuracy"]


def test_each_run_is_kept_and_the_window_can_be_asked_again_by_time(story: Story) -> None:
    assert [run["status"] for run in story.days["shifted"].report["history"]] == [
        "too_little_data", "ok", "quality", "ok", "drift"]  # fmt: skip
    again = story.monitor("--since", story.marks["wrong"], "--until", story.marks["retrained"])
    assert again.code == 1 and again.report["status"] == "quality" and again.report["window"]["rows"] == len(story.test)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """The Prometheus text format read by prometheus_client's parser: each sample's value by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_add_up_both_workers_counts(story: Story) -> None:
    found = samples(story.metrics_text)
    days = len(story.predictions)
    rows = days * len(story.test)
    assert found[("model_requests_total", (("endpoint", "predict"), ("status", "200")))] == story.requests
    assert found[("model_requests_total", (("endpoint", "feedback"), ("status", "200")))] == days
    assert found[("model_requests_total", (("endpoint", "predict"), ("status", "500")))] == 0  # there from the start
    assert found[("model_feedback_labels_total", ())] == rows
    assert found[("model_log_rows_dropped_total", ())] == 0
    assert found[("model_test_metric", (("metric", "accuracy"),))] == story.manifest["metrics"]["accuracy"]
    assert found[("model_monitor_verdict", (("verdict", "drift"),))] == 1  # the last run's
    assert found[("model_monitor_last_run_timestamp_seconds", ())] > time.time() - 600
    workers = [dict(labels)["pid"] for (name, labels) in found if name == "model_worker_resident_memory_bytes"]
    assert len(workers) == 2  # each worker's own process, by pid
    assert found[("model_rows_predicted_total", (("source", "api"),))] == rows
    classes = sum(value for (name, _), value in found.items() if name == "model_predictions_total")
    assert classes == rows
    outside = found.get(("model_values_outside_training_range_total", (("feature", SHIFTED),)), 0)
    assert outside > 0  # tripled radii beyond the largest in training
    info = [dict(labels) for (name, labels), value in found.items() if name == "model_info" and value == 1]
    assert [entry["sha256"] for entry in info] == [story.manifest["sha256"]] and info[0]["runtime"] == "onnx"


def query(base: str, promql: str) -> list[dict[str, Any]]:
    """The result of an instant query through Prometheus' HTTP API."""
    answer = call(f"{base}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


@pytest.fixture(scope="module")
def prometheus(story: Story, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus scraping the story's server every second with the baked alert rules: its URL, once it scraped.

    Its job is named after the project, as the README's scrape config names it and the rules select it.
    """
    binary = require(shutil.which("prometheus"), "Prometheus is not installed (apt install prometheus)")
    scratch = tmp_path_factory.mktemp("prometheus")
    port, job = free_port(), story.project.context["project_slug"]
    config = scratch / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{json.dumps(str(story.project.path / 'deploy' / 'prometheus' / 'alerts.yml'))}]\n"
        "scrape_configs:\n"
        f"  - {{job_name: {job}, static_configs: [{{targets: ['{story.env['GUNICORN_BIND']}']}}]}}\n"
    )
    log = scratch / "prometheus.log"
    with log.open("wb") as output:  # a file, not a pipe nobody reads: Prometheus would block on a full pipe
        server = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={scratch / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if query(base, f'up{{job="{job}"}} == 1'):
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prometheus did not scrape {story.base} within 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        stop(server)


def test_a_real_prometheus_scrapes_the_same_counts(story: Story, prometheus: str) -> None:
    promql = 'model_requests_total{endpoint="predict",status="200"}'
    found = query(prometheus, promql)
    assert found, f"Prometheus scraped no {promql}"
    assert float(found[0]["value"][1]) >= story.requests  # the fixture's requests, and the days that followed
    [target] = call(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
    assert target["health"] == "up" and target["scrapeUrl"].endswith("/metrics")


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


def test_the_page_of_the_day_quality_dropped_says_so_with_the_runs_before(site: Project, story: Story) -> None:
    window = f"MONITOR_ARGS=--since {story.marks['wrong']} --until {story.marks['retrained']}"
    make = story.project.run("make", "monitor", window, check=False, env=story.env)
    assert make.returncode == 2 and "quality: accuracy 0 on 114 labelled rows" in make.stdout, make.stderr
    story.project.run("make", "docs", env=story.env)
    soup = page(site, "monitoring")
    banner = soup.select_one(".admonition.danger")
    assert banner is not None and "Quality dropped" in banner.get_text() and "quality: accuracy 0" in banner.get_text()
    assert "History¶" in [h.get_text(strip=True) for h in soup.select("h2")]  # ¶: the heading's permalink
    assert (site.path / "site" / "assets" / "monitoring" / "history.svg").is_file()


def test_a_project_without_django_has_no_monitoring_page(bake_shared: Callable[..., Project]) -> None:
    project = bake_shared(project_name="Unserved", use_django="no")
    (project.path / "reports").mkdir(exist_ok=True)
    (project.path / "reports" / "monitoring.json").write_text(json.dumps({"status": "drift", "checks": []}))
    project.run("make", "docs")
    assert not (project.path / "site" / "monitoring").exists()
    assert "Monitoring" not in [a.get_text(strip=True) for a in page(project, "index").select("nav a")]


def dashboard_queries(project: Project) -> list[tuple[str, str]]:
    """Each query of the baked Grafana dashboard (panel title, PromQL), its variables set as Grafana sets them."""
    dashboard = json.loads((project.path / "deploy" / "grafana" / "dashboard.json").read_text())
    values = {"$job": project.context["project_slug"], "$__rate_interval": "1m", "$__range": "1h"}
    queries = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in values.items():
                expr = expr.replace(variable, value)
            queries.append((panel["title"], expr))
    return queries


def test_every_dashboard_panel_and_alert_rule_finds_its_series(story: Story, prometheus: str) -> None:
    # Traffic while Prometheus scrapes, a refused row among it: rates and latency quantiles have a minute to show.
    story.predict(story.test.drop(columns=story.manifest["target"]).head(BATCH))
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(f"{story.base}/api/predict", {"instances": [{SHIFTED: "wide"}]})
    assert refused.value.code == 422
    deadline = time.monotonic() + 30
    while not query(prometheus, "sum(model_rows_refused_total) > 0") and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # two more scrapes: each rate has the new counts at both ends of a step
    missing = []
    for title, expr in dashboard_queries(story.project):
        values = [float(sample["value"][1]) for sample in query(prometheus, expr)]
        if not values or not all(math.isfinite(value) for value in values):  # a 0 is data; nothing or NaN is not
            missing.append(f"{title}: {expr} -> {values}")
    assert not missing, "\n".join(missing)

    # The baked rules: Prometheus loaded and evaluated each; each series they read is scraped.
    groups = call(f"{prometheus}/api/v1/rules")["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == 13 and all(rule["health"] == "ok" for rule in rules), [r.get("lastError") for r in rules]
    read = set(re.findall(r"(\w+)\{", " ".join(rule["query"] for rule in rules)))
    scraped = set(call(f"{prometheus}/api/v1/label/__name__/values")["data"])
    assert read - scraped == set()
    alerts = {(alert["labels"]["alertname"], alert["labels"].get("verdict")) for alert in
              call(f"{prometheus}/api/v1/alerts")["data"]["alerts"]}  # fmt: skip
    last = story.project.json("reports/monitoring.json")["status"]  # the last run's verdict, which /metrics carries
    assert last in ("drift", "quality") and ("ModelMonitorAlarm", last) in alerts  # pending (for: 5m), then firing
    healthy = {"ModelServerDown", "ModelNotLoaded", "ModelErrorRatioHigh", "ModelMonitorBlind", "ModelMonitorStale",
               "ModelLogRowsDropped", "ModelWorkerTimeouts", "ModelWorkersRestarting"}  # fmt: skip
    assert not {name for name, _ in alerts} & healthy, alerts

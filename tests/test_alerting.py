"""The alerting layer of a Django bake: Prometheus rules that promtool checks and unit-tests, a Grafana dashboard.

The rules and every panel's query against a real Prometheus scraping a served model: tests/test_monitoring.py
(its served story). Here: the files as baked, promtool on them, and the dashboard's shape.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Project, require

RULES = Path("deploy/prometheus/alerts.yml")
RULE_TESTS = Path("deploy/prometheus/alerts_test.yml")
DASHBOARD = Path("deploy/grafana/dashboard.json")
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
# What the brief asks the rules to watch: each alert below must exist.
ALERTS = {
    "ModelServerDown": "up",
    "ModelNotLoaded": "model_loaded",
    "ModelErrorRatioHigh": "model_requests_total",
    "ModelLatencyP95High": "model_request_duration_seconds_bucket",
    "ModelLatencyP99High": "model_request_duration_seconds_bucket",
    "ModelWorkerTimeouts": "model_worker_timeouts_total",
    "ModelWorkersRestarting": "model_worker_start_time_seconds",
    "ModelLogRowsDropped": "model_log_rows_dropped_total",
    "ModelRowsRefusedHigh": "model_rows_refused_total",
    "ModelPredictedClassShift": "model_test_class_share",
    "ModelMonitorAlarm": "model_monitor_verdict",
    "ModelMonitorBlind": "model_monitor_verdict",
    "ModelMonitorStale": "model_monitor_last_run_timestamp_seconds",
}
# The metrics the dashboard draws (one panel or more each).
DRAWN = (
    "model_loaded", "model_info", "up", "model_monitor_verdict", "model_monitor_last_run_timestamp_seconds",
    "model_requests_total", "model_request_duration_seconds_bucket", "model_rows_predicted_total",
    "model_rows_refused_total", "model_predictions_total", "model_test_class_share", "model_monitor_live_metric",
    "model_test_metric", "model_log_rows_queued_total", "model_log_rows_written_total",
    "model_log_rows_dropped_total", "model_feedback_labels_total", "model_worker_start_time_seconds",
    "model_worker_timeouts_total", "model_worker_resident_memory_bytes", "model_worker_cpu_seconds",
)  # fmt: skip


@pytest.fixture(scope="module")
def project(bake_shared: Callable[..., Project]) -> Project:
    return bake_shared(project_name="Alerted")


def promtool() -> str:
    return require(shutil.which("promtool"), "promtool is not installed (apt install prometheus)")


def alert_rules(project: Project) -> dict[str, dict[str, Any]]:
    """The baked rules by alert name."""
    groups = yaml.safe_load((project.path / RULES).read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


def test_promtool_checks_the_rules(project: Project) -> None:
    checked = project.run(promtool(), "check", "rules", str(RULES))
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout, checked.stdout


def test_promtool_unit_tests_of_the_rules_pass(project: Project) -> None:
    tested = project.run(promtool(), "test", "rules", str(RULE_TESTS))  # fails the test with promtool's diff
    assert "SUCCESS" in tested.stdout + tested.stderr


def test_each_alert_says_how_bad_what_and_what_to_do_and_selects_the_projects_job(project: Project) -> None:
    groups = yaml.safe_load((project.path / RULES).read_text())["groups"]
    assert all(group["name"].startswith("alerted-") for group in groups)  # named after the project
    rules = alert_rules(project)
    assert set(rules) == set(ALERTS)
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"] and len(rule["annotations"]["description"]) > 80, name
        assert "for" in rule, name
        assert ALERTS[name] in rule["expr"] and "absent(" not in rule["expr"], name
        # every selector names the scrape job the README's scrape config sets
        selectors = re.findall(r"\b([a-z_]+)\{([^}]*)\}", rule["expr"])
        assert selectors and all('job="alerted"' in matchers for _, matchers in selectors), (name, selectors)


def test_the_unit_tests_see_each_alert_fire(project: Project) -> None:
    tests = yaml.safe_load((project.path / RULE_TESTS).read_text())["tests"]
    cases = [case for group in tests for case in group["alert_rule_test"]]
    fired = {case["alertname"] for case in cases if case["exp_alerts"]}
    silent = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert fired == silent == set(ALERTS)
    verdicts = {
        alert["exp_labels"].get("verdict")
        for case in cases
        if case["alertname"] == "ModelMonitorAlarm"
        for alert in case["exp_alerts"]
    }
    assert verdicts == {"drift", "quality"}


def test_the_dashboard_is_grafana_json_on_the_datasource_variable(project: Project) -> None:
    dashboard = json.loads((project.path / DASHBOARD).read_text())
    assert dashboard["title"] == "Alerted" and dashboard["schemaVersion"] >= 39
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource" and variables["DS_PROMETHEUS"]["query"] == "prometheus"
    assert variables["job"]["current"]["value"] == "alerted" and variables["job"]["datasource"] == DATASOURCE
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        assert panel["type"] in ("timeseries", "stat") and panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"] and all(t["expr"] and t["datasource"] == DATASOURCE for t in panel["targets"])
        assert all('job="$job"' in t["expr"] for t in panel["targets"]), panel["title"]
        x, y, w, h = (panel["gridPos"][key] for key in "xywh")
        assert x + w <= 24, panel["title"]
        area = {(column, row) for column in range(x, x + w) for row in range(y, y + h)}
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
    exprs = " ".join(t["expr"] for panel in panels for t in panel["targets"])
    assert not [name for name in DRAWN if not re.search(rf"\b{name}\{{", exprs)]


def test_a_bake_without_django_has_no_alerts(bake_shared: Callable[..., Project]) -> None:
    project = bake_shared(project_name="Unalerted", use_django="no")
    assert not (project.path / "deploy").exists()

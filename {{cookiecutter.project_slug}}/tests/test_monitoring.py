"""The ops view in process: prediction ids and feedback, `manage.py monitor`'s verdicts and exit codes, /metrics."""

import io
import json
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import Settings

from {{ cookiecutter.package_name }}.data.reference import reference
from {{ cookiecutter.package_name }}.data.schema import feature_schema
from {{ cookiecutter.package_name }}.monitoring.quality import quality_verdict
from {{ cookiecutter.package_name }}.monitoring.report import thresholds, verdict
from {{ cookiecutter.package_name }}.serving import metrics
from {{ cookiecutter.package_name }}.serving.log_writer import writer
from {{ cookiecutter.package_name }}.serving.models import LogGap, MonitorRun, PredictionLog

BATCH = 500
UNKNOWN = "00000000-0000-4000-8000-000000000000"  # a prediction_id no answer gave


def table(rows: int, seed: int) -> pd.DataFrame:
    """Rows with one input of each kind: a number, a category, a date (as the API sends it) and a text."""
    random = np.random.default_rng(seed)
    words = [f"word{i}" for i in range(300)]
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(random.integers(0, 366, rows), "D")
    return pd.DataFrame({
        "amount": random.normal(50, 10, rows),
        "plan": random.choice(["basic", "plus", "pro"], rows),
        "ordered": days.strftime("%Y-%m-%d"),
        "note": [" ".join(random.choice(words, random.integers(3, 12))) for _ in range(rows)],
    })  # fmt: skip


def test_every_kind_of_input_drifts_by_its_own_aspect_and_no_other() -> None:
    """Django-free: the reference of one table, then served rows with one change per input kind."""
    train, test = table(2000, seed=1), table(400, seed=2)
    train["ordered"] = pd.to_datetime(train["ordered"])  # prepare's parsed dates
    features = feature_schema(train, text=("note",))
    profiled = reference(train, test, features)
    manifest = {"features": features, "task": "classification", "metrics": {}, "sha256": "0" * 64}
    limits = thresholds({"min_rows": 100})

    def drifted(served_inputs: pd.DataFrame) -> set[str]:
        served = pd.DataFrame({
            "created": pd.Timestamp.now(tz="UTC"), "inputs": served_inputs.to_dict("records"),
            "prediction": "yes", "label": None,
        })  # fmt: skip
        report = verdict(served, manifest, profiled, None, limits)
        assert report["status"] in ("ok", "drift") and len(report["checks"]) == 6, report["message"]
        return {check["name"] for check in report["checks"] if check["drifted"]}

    served = table(300, seed=3)
    assert drifted(served) == set()
    assert drifted(served.assign(amount=served["amount"].where(served.index % 2 == 0))) == {"amount"}  # nulls
    assert drifted(served.assign(plan="enterprise")) == {"plan"}  # a value training never had
    assert drifted(served.assign(ordered="2024-03-05")) == {"ordered (month)", "ordered (weekday)"}
    jargon = [f"jargon{i} lingo{i} argot{i}" for i in range(300)]  # short, and no word training had
    assert drifted(served.assign(note=jargon)) == {"note (length)", "note (unknown words)"}


@pytest.fixture
def serving_project(table_trained: Path) -> Path:
    """A table model (an image project's is tested in test_serving_images.py)."""
    return table_trained


@pytest.fixture
def project(model_copy: Path, serving_project: Path, settings: Settings) -> Path:
    """The served copy as a project the monitor reads: models/, reports/ and params.yaml; the log on.

    A small data set holds out fewer test rows than monitor.min_rows: the monitor judges them all.
    """
    root = model_copy.parent.parent
    shutil.copytree(serving_project / "reports", root / "reports")
    params = yaml.safe_load((serving_project / "params.yaml").read_text())
    held_out = len(pd.read_parquet(serving_project / "data" / "prepared" / "test.parquet"))
    params["monitor"]["min_rows"] = min(params["monitor"]["min_rows"], held_out)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    settings.SERVING_PREDICTION_LOG = True
    return root


@pytest.fixture
def manifest(project: Path) -> dict[str, Any]:
    return json.loads((project / "models" / "model.json").read_text())


def prepared(serving_project: Path, manifest: dict[str, Any], parts: tuple[str, ...]) -> pd.DataFrame:
    """The prepared rows of `parts` (train, test), features and target."""
    frames = [pd.read_parquet(serving_project / "data" / "prepared" / f"{part}.parquet") for part in parts]
    return pd.concat(frames, ignore_index=True)[[*(f["name"] for f in manifest["features"]), manifest["target"]]]


def predict(client: Client, rows: pd.DataFrame) -> dict[str, list[Any]]:
    """POST the rows in batches, as a client would send them; the predictions and their ids."""
    answers: dict[str, list[Any]] = {"predictions": [], "prediction_ids": []}
    for start in range(0, len(rows), BATCH):
        instances = json.loads(rows.iloc[start : start + BATCH].to_json(orient="records", date_format="iso"))
        answer = client.post("/api/predict", {"instances": instances}, content_type="application/json")
        assert answer.status_code == 200, answer.content
        for key in answers:
            answers[key] += answer.json()[key]
    return answers


def monitor(*args: str) -> tuple[int, str, str]:
    """Run `manage.py monitor`; its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("monitor", *args, stdout=out, stderr=err)
    return int(exited.value.code or 0), out.getvalue(), err.getvalue()


def shifted(rows: pd.DataFrame, manifest: dict[str, Any]) -> tuple[pd.DataFrame, str]:
    """The rows with one feature moved: the first number tripled, else the first text in words never seen."""
    rows = rows.copy()
    kinds = {feature["name"]: feature["kind"] for feature in manifest["features"]}
    name = next((n for n, kind in kinds.items() if kind == "number"), None)
    if name is not None:
        rows[name] *= 3
        return rows, name
    name = next(n for n, kind in kinds.items() if kind == "text")
    rows[name] = [f"qzxv{i} wvkpq{i} jjyx{i} unseen wording here" for i in range(len(rows))]
    return rows, name


def log_state() -> tuple[int, int | None, int]:
    """The log's rows, newest id and labelled rows: a monitor run must leave them as they were."""
    return PredictionLog.objects.count(), PredictionLog.objects.values_list("id", flat=True).first(), \
        PredictionLog.objects.filter(label__isnull=False).count()  # fmt: skip


@pytest.mark.django_db
def test_unchanged_rows_pass_and_one_shifted_feature_is_named_alone(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any]
) -> None:
    rows = prepared(serving_project, manifest, ("test",)).drop(columns=manifest["target"])  # new to the model
    predict(client, rows)
    before = log_state()
    code, out, _ = monitor()
    report = json.loads((project / "reports" / "monitoring.json").read_text())
    assert (code, report["status"]) == (0, "ok"), out
    assert report["window"]["rows"] == len(rows) and not report["window"]["cut_by_cap"]
    assert report["model"]["sha256"] == manifest["sha256"] and report["predictions"]["drifted"] is False
    assert {check["feature"] for check in report["checks"]} == {f["name"] for f in manifest["features"]}
    assert log_state() == before

    PredictionLog.objects.all().delete()
    moved, name = shifted(rows, manifest)
    predict(client, moved)
    code, out, _ = monitor()
    report = json.loads((project / "reports" / "monitoring.json").read_text())
    drifted = {check["feature"] for check in report["checks"] if check["drifted"]}
    assert (code, report["status"], drifted) == (1, "drift", {name}), out
    lines = [line for line in out.splitlines() if line.startswith("drift: ")]
    assert lines and all(line.startswith(f"drift: {name}") or line.startswith("drift: prediction") for line in lines)
    assert "chi-square" in lines[0] and "Jensen-Shannon distance" in lines[0] and "training" in lines[0]


@pytest.mark.django_db
def test_feedback_moves_the_live_metric_by_what_it_says(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any]
) -> None:
    test = prepared(serving_project, manifest, ("test",))
    answers = predict(client, test.drop(columns=manifest["target"]))
    truths = json.loads(test[manifest["target"]].to_json(orient="values"))
    feedback = [{"prediction_id": i, "label": t} for i, t in zip(answers["prediction_ids"], truths, strict=True)]
    assert client.post("/api/feedback", {"feedback": feedback}, content_type="application/json").json() == {
        "recorded": len(feedback)
    }
    monitor("--last", str(len(test)))
    live = json.loads((project / "reports" / "monitoring.json").read_text())["live"]
    assert live["labelled"] == len(test) and live["days"][-1]["rows"] == len(test)
    predictions = pd.Series(answers["predictions"])
    if manifest["task"] == "classification":
        right = predictions.astype(str) == pd.Series(truths).astype(str)
        assert live["overall"]["accuracy"] == pytest.approx(right.mean(), abs=1e-6)
        assert live["test"]["accuracy"] == manifest["metrics"]["accuracy"]
        # Ten right answers told they were wrong: the live accuracy falls by 10 rows' share.
        wrong = [
            {"prediction_id": answers["prediction_ids"][i], "label": next(c for c in manifest["classes"]
                                                                          if str(c) != str(answers["predictions"][i]))}
            for i in right[right].index[:10]
        ]  # fmt: skip
        refused = client.post("/api/feedback", {"feedback": wrong}, content_type="application/json")
        assert refused.status_code == 422 and '"replace": true' in refused.json()["errors"][0]["message"]
        client.post("/api/feedback", {"feedback": wrong, "replace": True}, content_type="application/json")
        monitor("--last", str(len(test)))
        live = json.loads((project / "reports" / "monitoring.json").read_text())["live"]
        assert live["overall"]["accuracy"] == pytest.approx(right.mean() - 10 / len(test), abs=1e-6)
    else:
        errors = (predictions - pd.Series(truths)).abs()
        assert live["overall"]["mae"] == pytest.approx(errors.mean(), rel=1e-5)
        moved = [{"prediction_id": answers["prediction_ids"][0], "label": truths[0] + 100.0}]
        client.post("/api/feedback", {"feedback": moved, "replace": True}, content_type="application/json")
        monitor("--last", str(len(test)))
        live = json.loads((project / "reports" / "monitoring.json").read_text())["live"]
        expected = (errors.sum() - errors[0] + abs(predictions[0] - truths[0] - 100.0)) / len(test)
        assert live["overall"]["mae"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.django_db
def test_feedback_refuses_unknown_ids_and_labels_by_name_and_records_nothing(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any], settings: Settings
) -> None:
    test = prepared(serving_project, manifest, ("test",)).head(2)
    ids = predict(client, test.drop(columns=manifest["target"]))["prediction_ids"]
    good = json.loads(test[manifest["target"]].to_json(orient="values"))[0]
    bad_label = "no such class" if manifest["task"] == "classification" else "12 apples"
    body = {"feedback": [{"prediction_id": ids[0], "label": good}, {"prediction_id": UNKNOWN, "label": good},
                         {"prediction_id": ids[1], "label": bad_label}]}  # fmt: skip
    answer = client.post("/api/feedback", body, content_type="application/json")
    assert answer.status_code == 422
    errors = {error["field"]: error["message"] for error in answer.json()["errors"]}
    assert set(errors) == {"feedback[1].prediction_id", "feedback[2].label"}, errors
    assert UNKNOWN in errors["feedback[1].prediction_id"] and repr(bad_label) in errors["feedback[2].label"]
    assert PredictionLog.objects.filter(label__isnull=False).count() == 0  # all or nothing
    plain = client.post("/api/feedback", json.dumps({"feedback": body["feedback"][:1]}), content_type="text/plain")
    assert plain.status_code == 415 and "application/json" in plain.json()["detail"]  # as /api/predict answers
    settings.SERVING_PREDICTION_LOG = False
    assert client.post("/api/feedback", {"feedback": body["feedback"][:1]}, content_type="application/json"
                       ).status_code == 409  # fmt: skip


def report_of(project: Path) -> dict[str, Any]:
    return json.loads((project / "reports" / "monitoring.json").read_text())


def set_monitor(project: Path, **values: Any) -> None:
    """Change params.yaml's monitor: section (None removes a key)."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["monitor"].update(values)
    params["monitor"] = {key: value for key, value in params["monitor"].items() if value is not None}
    (project / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.mark.django_db
def test_a_blind_monitor_names_why_and_is_never_green(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any]
) -> None:
    code, out, err = monitor()
    assert code == 2 and not out and err.count("\n") == 1, err
    assert "0 served rows: too few to judge" in err and "the prediction log is empty" in err
    assert "(this checkout's model (the log is empty))" in err
    assert report_of(project)["status"] == "too_little_data"

    rows = prepared(serving_project, manifest, ("test",)).drop(columns=manifest["target"]).head(20)
    predict(client, rows)
    PredictionLog.objects.update(created=timezone.now() - timedelta(days=30))  # the server stopped a month ago
    code, _, err = monitor()
    assert code == 2 and "no prediction logged since" in err and "the server is down, has had no traffic" in err

    code, _, err = monitor("--server", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert code == 2 and "the server at http://127.0.0.1:9 did not answer" in err

    PredictionLog.objects.update(created=timezone.now(), model_sha256="0" * 64)  # answered by an older model
    set_monitor(project, min_rows=5)
    code, _, err = monitor()  # judging the newest row's model, whose training data this checkout lacks
    assert code == 3 and err.count("\n") == 1 and "the served model 000000000000 is not this checkout's" in err
    assert report_of(project)["status"] == "failed"
    code, _, err = monitor("--version", manifest["sha256"][:12])
    report_data = report_of(project)
    assert code == 2 and report_data["other_versions"] == [{"version": "0" * 12, "sha256": "0" * 64, "rows": 20}]
    assert "the window holds only 20 rows of other model versions" in err
    assert f"(--version {manifest['sha256'][:12]})" in err


@pytest.mark.django_db
def test_a_monitor_that_cannot_run_says_why_in_one_line_and_writes_a_failed_report(project: Path) -> None:
    for args, expected in [
        (("--since", "last tuesday"), "--since 'last tuesday': expected a duration such as 7d"),
        (("--since", "1000000w"), "--since '1000000w': too far back"),
        (("--since", "2d", "--until", "3d"), "is not before --until"),
        (("--version", "v9.9.9"), "--version v9.9.9 is no model this service served"),
    ]:
        code, out, err = monitor(*args)
        assert code == 3 and not out and err.count("\n") == 1 and expected in err, (args, err)
        report_data = report_of(project)
        assert report_data["status"] == "failed" and expected in report_data["message"]

    set_monitor(project, p_valu=0.01)
    code, _, err = monitor()
    assert code == 3 and "unknown key monitor.p_valu (did you mean monitor.p_value?)" in err
    set_monitor(project, p_valu=None, quality_metric="auc")
    code, _, err = monitor()
    assert code == 3 and "monitor.quality_metric in params.yaml: expected one of accuracy, f1_macro" in err
    set_monitor(project, quality_metric=None)

    (project / "reports" / "reference.json").unlink()
    code, _, err = monitor()
    assert code == 3 and "reference.json not found: run `dvc repro`" in err


@pytest.mark.django_db
def test_a_missing_sqlite_database_is_named_not_created(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "production.sqlite3"  # a DATABASE_URL with a typo
    monkeypatch.setitem(connection.settings_dict, "NAME", str(missing))
    code, _, err = monitor()
    assert code == 3 and f"the database {missing} does not exist" in err and not missing.exists()
    assert report_of(project)["status"] == "failed"


@pytest.mark.django_db
def test_the_window_says_when_retention_cut_it(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any], settings: Settings
) -> None:
    settings.SERVING_PREDICTION_LOG_MAX_ROWS = 30
    rows = prepared(serving_project, manifest, ("test",)).drop(columns=manifest["target"]).head(40)
    predict(client, rows)
    assert PredictionLog.objects.count() == 30
    code, _, err = monitor("--last", "35")
    window = report_of(project)["window"]
    assert (code, window["rows"], window["cut_by_cap"], window["cap"]) == (2, 30, True, 30)
    assert "the log's retention had deleted the window's older rows" in err


@pytest.mark.django_db
def test_a_quality_drop_is_an_alarm_named_with_its_live_and_test_values(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any]
) -> None:
    test = prepared(serving_project, manifest, ("test",))
    set_monitor(project, min_labels=min(30, len(test)))
    answers = predict(client, test.drop(columns=manifest["target"]))
    truths = json.loads(test[manifest["target"]].to_json(orient="values"))
    feedback = [{"prediction_id": i, "label": t} for i, t in zip(answers["prediction_ids"], truths, strict=True)]
    client.post("/api/feedback", {"feedback": feedback}, content_type="application/json")
    code, out, _ = monitor("--last", str(len(test)))
    quality = report_of(project)["quality"]
    assert code == 0 and quality["judged"] and not quality["dropped"], out  # the test set's own answers

    wrong = [{"prediction_id": i, "label": wrong_label(manifest, p, t)}
             for i, p, t in zip(answers["prediction_ids"], answers["predictions"], truths, strict=True)]  # fmt: skip
    client.post("/api/feedback", {"feedback": wrong, "replace": True}, content_type="application/json")
    code, out, _ = monitor("--last", str(len(test)))
    report_data = report_of(project)
    metric = "accuracy" if manifest["task"] == "classification" else "mae"
    assert code == 1 and report_data["status"] in ("quality", "drift") and report_data["quality"]["dropped"], out
    line = next(line for line in out.splitlines() if line.startswith("quality: "))
    assert line.startswith(f"quality: {metric} ")
    assert f"against {manifest['metrics'][metric]:.4g} on the test set" in line
    assert f"{len(test)} labelled rows" in line


@pytest.mark.django_db
def test_rows_the_log_lost_are_named_in_every_verdict(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any]
) -> None:
    rows = prepared(serving_project, manifest, ("test",)).drop(columns=manifest["target"])
    predict(client, rows)
    LogGap.objects.create(rows=12, reason="the spool is full")
    code, out, _ = monitor("--since", "1h")
    assert code == 0 and "; 12 answered rows never reached the log (a full spool)" in out
    assert report_of(project)["dropped_rows"] == 12


def test_a_request_gunicorn_aborts_is_a_500_of_its_endpoint() -> None:
    def counts() -> tuple[float, float]:
        failed = REGISTRY.get_sample_value("model_requests_total", {"endpoint": "predict", "status": "500"})
        return failed or 0.0, REGISTRY.get_sample_value("model_worker_timeouts_total") or 0.0

    before = counts()
    metrics.current_request = RequestFactory().post("/api/predict")  # what the middleware keeps while it answers
    metrics.worker_aborted()  # gunicorn's worker_abort hook, on GUNICORN_TIMEOUT
    metrics.current_request = None
    assert counts() == (before[0] + 1, before[1] + 1)


def wrong_label(manifest: dict[str, Any], predicted: Any, truth: Any) -> Any:
    """A true label the prediction gets wrong: another class, or a value far from it."""
    if manifest["task"] == "classification":
        return next(c for c in manifest["classes"] if str(c) != str(predicted))
    return float(predicted) + 100 * (abs(float(truth)) + 1)


def test_twenty_labels_at_the_test_accuracy_do_not_alarm_and_twenty_wrong_do() -> None:
    limits = thresholds({"min_labels": 20}).quality
    rng = np.random.default_rng(0)
    alarms = 0
    for _ in range(200):  # noise: each label right with the test set's chance
        right = rng.random(20) < 0.89
        rows = pd.DataFrame({"label": ["a"] * 20, "prediction": np.where(right, "a", "b")})
        alarms += quality_verdict(rows, "classification", {"accuracy": 0.89}, limits)["dropped"]
    assert alarms <= 200 * limits.p_value
    wrong = pd.DataFrame({"label": ["a"] * 20, "prediction": ["b"] * 20})
    assert quality_verdict(wrong, "classification", {"accuracy": 0.89}, limits)["dropped"]
    few = quality_verdict(wrong.head(19), "classification", {"accuracy": 0.89}, limits)
    assert not few["judged"] and "19 labelled rows: too few to judge (monitor.min_labels is 20)" in few["reason"]


@pytest.mark.django_db
def test_each_run_is_kept_and_metrics_export_the_last(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any]
) -> None:
    monitor()
    rows = prepared(serving_project, manifest, ("test",)).drop(columns=manifest["target"])
    predict(client, shifted(rows, manifest)[0])
    code, _, _ = monitor("--last", str(len(rows)))
    assert code == 1
    runs = list(MonitorRun.objects.order_by("created").values_list("status", flat=True))
    assert runs == ["too_little_data", "drift"]
    assert [run["status"] for run in report_of(project)["history"]] == runs
    found = metric_values(client)
    assert found[("model_monitor_verdict", (("verdict", "drift"),))] == 1
    assert found[("model_monitor_verdict", (("verdict", "ok"),))] == 0
    last = found[("model_monitor_last_run_timestamp_seconds", ())]
    assert abs(last - MonitorRun.objects.latest("created").created.timestamp()) < 1e-3
    assert found[("model_monitor_drifted_checks", ())] >= 1


def metric_values(client: Client, **headers: str) -> dict[tuple[str, tuple], float]:
    """GET /metrics, read by prometheus_client's own parser: each sample's value by name and labels."""
    answer = client.get("/metrics", **headers)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


@pytest.mark.django_db
def test_metrics_count_what_was_asked_and_answered(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any], settings: Settings
) -> None:
    rows = prepared(serving_project, manifest, ("test",)).drop(columns=manifest["target"]).head(7)
    before = metric_values(client)
    answers = predict(client, rows)
    client.post("/api/predict", {"instances": [{}]}, content_type="application/json")  # refused: fields missing
    after = metric_values(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("model_requests_total", endpoint="predict", status="200") == 1
    assert grew("model_requests_total", endpoint="predict", status="422") == 1
    assert grew("model_rows_predicted_total", source="api") == 7
    assert grew("model_request_duration_seconds_count", endpoint="predict") == 2
    assert sum(value for (name, _), value in after.items() if name == "model_rows_refused_total") > 0
    if manifest["task"] == "classification":
        shares = pd.Series(answers["predictions"]).astype(str).value_counts()
        assert {label: grew("model_predictions_total", label=label) for label in shares.index} == shares.to_dict()
    if ranges := manifest["data"]["ranges"]:  # a number past its training range, in a small and a large batch
        name, (_, high) = next(iter(ranges.items()))
        past = rows.head(1).assign(**{name: high * 10 + 1})
        predict(client, past)
        predict(client, pd.concat([past] * 25))  # one request: numpy counts a large batch
        key = ("model_values_outside_training_range_total", (("feature", name),))
        assert metric_values(client).get(key, 0) - after.get(key, 0) == 26
    info = [labels for (name, labels), value in after.items() if name == "model_info" and value == 1]
    assert ("sha256", manifest["sha256"]) in info[0]

    settings.SERVING_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert metric_values(client, HTTP_AUTHORIZATION="Bearer s3cret")
    settings.SERVING_METRICS = False
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_every_series_an_alert_reads_exists_from_the_first_scrape(
    client: Client, project: Path, manifest: dict[str, Any]
) -> None:
    assert client.get("/api/health").status_code == 200  # the model loads
    found = metric_values(client)
    for endpoint in ("predict", "feedback", "health"):
        assert found[("model_requests_total", (("endpoint", endpoint), ("status", "500")))] == 0
    for name in ("model_feedback_labels_total", "model_log_rows_queued_total", "model_log_rows_written_total",
                 "model_log_rows_dropped_total", "model_worker_timeouts_total"):  # fmt: skip
        assert (name, ()) in found, name  # counters of the process: earlier tests may have moved them
    assert found[("model_monitor_last_run_timestamp_seconds", ())] == 0  # never ran
    assert found[("model_loaded", ())] == 1
    assert {found[("model_monitor_verdict", (("verdict", v),))] for v in ("ok", "drift", "quality")} == {0}
    metric = "accuracy" if manifest["task"] == "classification" else "mae"
    assert found[("model_test_metric", (("metric", metric),))] == pytest.approx(manifest["metrics"][metric])
    if manifest["task"] == "classification":
        shares = [value for (name, _), value in found.items() if name == "model_test_class_share"]
        assert shares and sum(shares) == pytest.approx(1)
        for label in manifest["classes"]:
            assert ("model_predictions_total", (("label", str(label)),)) in found
    assert found[("model_worker_resident_memory_bytes", ())] > 10_000_000  # one process: no pid label
    assert found[("model_worker_start_time_seconds", ())] > 1e9


@pytest.mark.django_db
def test_redirects_and_404s_under_the_api_are_counted_and_metrics_is_never_redirected(
    project: Path, settings: Settings
) -> None:
    settings.SECURE_SSL_REDIRECT = True  # production's setting, read when the client's middleware loads
    client = Client()
    before = metric_values(client)
    assert client.get("/api/no-such-thing", secure=True).status_code == 404
    assert client.get("/api/model").status_code == 301  # to HTTPS
    answer = client.get("/metrics")  # plain HTTP, as an in-cluster Prometheus scrapes
    assert answer.status_code == 200
    after = metric_values(client)
    assert after[("model_requests_total", (("endpoint", "unmatched"), ("status", "404")))] == 1
    assert after[("model_requests_total", (("endpoint", "model"), ("status", "301")))] == 1
    key = ("model_requests_total", (("endpoint", "metrics"), ("status", "200")))
    assert after[key] - before.get(key, 0) == 2


@pytest.mark.django_db(transaction=True)  # the writer's thread has a connection of its own: no test transaction
def test_the_log_is_written_in_the_background_and_feedback_waits_for_it(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any], settings: Settings
) -> None:
    settings.SERVING_PREDICTION_LOG_FLUSH_SECONDS = 0.2
    test = prepared(serving_project, manifest, ("test",)).head(5)
    ids = predict(client, test.drop(columns=manifest["target"]))["prediction_ids"]
    truths = json.loads(test[manifest["target"]].to_json(orient="values"))
    feedback = [{"prediction_id": i, "label": t} for i, t in zip(ids, truths, strict=True)]  # before any flush
    assert client.post("/api/feedback", {"feedback": feedback}, content_type="application/json").json() == {
        "recorded": 5
    }
    predict(client, test.drop(columns=manifest["target"]))  # five more, written by the thread
    deadline = time.monotonic() + 5
    while PredictionLog.objects.count() < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    writer.stop()  # as a stopping worker does: nothing left in the queue, no thread left behind
    assert PredictionLog.objects.count() == 10 and PredictionLog.objects.filter(label__isnull=False).count() == 5

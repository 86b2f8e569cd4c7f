"""The ops view in process: prediction ids and feedback, `manage.py monitor`'s verdicts and exit codes, /metrics."""

import io
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import Settings

from {{ cookiecutter.package_name }}.data.reference import reference
from {{ cookiecutter.package_name }}.data.schema import feature_schema
from {{ cookiecutter.package_name }}.monitoring.report import thresholds, verdict
from {{ cookiecutter.package_name }}.serving.log_writer import writer
from {{ cookiecutter.package_name }}.serving.models import PredictionLog

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
        client.post("/api/feedback", {"feedback": wrong}, content_type="application/json")
        monitor("--last", str(len(test)))
        live = json.loads((project / "reports" / "monitoring.json").read_text())["live"]
        assert live["overall"]["accuracy"] == pytest.approx(right.mean() - 10 / len(test), abs=1e-6)
    else:
        errors = (predictions - pd.Series(truths)).abs()
        assert live["overall"]["mae"] == pytest.approx(errors.mean(), rel=1e-5)
        moved = [{"prediction_id": answers["prediction_ids"][0], "label": truths[0] + 100.0}]
        client.post("/api/feedback", {"feedback": moved}, content_type="application/json")
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
    settings.SERVING_PREDICTION_LOG = False
    assert client.post("/api/feedback", {"feedback": body["feedback"][:1]}, content_type="application/json"
                       ).status_code == 409  # fmt: skip


@pytest.mark.django_db
def test_what_the_monitor_cannot_judge_is_one_line(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any]
) -> None:
    code, out, err = monitor()
    assert code == 2 and "0 served rows: too few to judge" in err and not out
    assert json.loads((project / "reports" / "monitoring.json").read_text())["status"] == "too_little_data"

    report = project / "reports" / "monitoring.json"
    report.unlink()
    code, _, err = monitor("--since", "last tuesday")
    assert code == 3 and err.count("\n") == 1 and "--since 'last tuesday': expected a duration such as 7d" in err
    assert not report.exists()  # nothing half-written

    params = yaml.safe_load((project / "params.yaml").read_text())
    params["monitor"]["p_valu"] = 0.01
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    code, _, err = monitor()
    assert code == 3 and "unknown key monitor.p_valu (did you mean monitor.p_value?)" in err

    del params["monitor"]["p_valu"]
    params["monitor"]["min_rows"] = 5
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    rows = prepared(serving_project, manifest, ("test",)).drop(columns=manifest["target"]).head(20)
    predict(client, rows)
    PredictionLog.objects.update(model_sha256="0" * 64)  # answered by an older model
    code, _, err = monitor()
    report_data = json.loads(report.read_text())
    assert code == 2 and report_data["other_versions"] == [{"version": "0" * 12, "sha256": "0" * 64, "rows": 20}]
    assert "not judged: 20 rows of other model versions" in err

    (project / "reports" / "reference.json").unlink()
    code, _, err = monitor()
    assert code == 3 and "reference.json not found: run `dvc repro`" in err


@pytest.mark.django_db
def test_the_window_says_when_the_log_cap_cut_it(
    client: Client, project: Path, serving_project: Path, manifest: dict[str, Any], settings: Settings
) -> None:
    settings.SERVING_PREDICTION_LOG_MAX_ROWS = 30
    rows = prepared(serving_project, manifest, ("test",)).drop(columns=manifest["target"]).head(40)
    predict(client, rows)
    assert PredictionLog.objects.count() == 30
    code, _, err = monitor("--last", "35")
    window = json.loads((project / "reports" / "monitoring.json").read_text())["window"]
    assert (code, window["rows"], window["cut_by_cap"], window["cap"]) == (2, 30, True, 30)
    assert "the log's cap of 30 rows had deleted older rows of the window" in err


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

"""The prediction log's spool and retention: no answered row lost to a crash, an outage or a full disk."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY
from pytest_django.fixtures import Settings

from {{ cookiecutter.package_name }}.serving import retention, spool
from {{ cookiecutter.package_name }}.serving.log_writer import LogWriter, writer
from {{ cookiecutter.package_name }}.serving.models import LogGap, PredictionLog

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[1]
# A process that spools three answered rows, prints their ids, waits for a line on stdin, then dies by SIGKILL:
# no exit hook runs, as when the OOM killer ends a gunicorn worker.
CHILD = """
import json, os, signal, sys
import django
django.setup()
from django.conf import settings
settings.SERVING_PREDICTION_LOG, settings.SERVING_PREDICTION_LOG_FLUSH_SECONDS = True, 3600.0
settings.SERVING_PREDICTION_LOG_SPOOL_DIR = sys.argv[1]
from {{ cookiecutter.package_name }}.serving.records import log_prediction
print(json.dumps(log_prediction("0" * 64, [{"n": n} for n in range(3)], {"predictions": [0, 1, 0]})), flush=True)
sys.stdin.readline()
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def serving_project(table_trained: Path) -> Path:
    """These tests send table rows: a table model, in an image project too."""
    return table_trained


@pytest.fixture
def spooled(settings: Settings, tmp_path: Path) -> Iterator[Path]:
    """The log on and spooled in a folder of the test's own; the writer's thread never runs on its own here."""
    settings.SERVING_PREDICTION_LOG = True
    settings.SERVING_PREDICTION_LOG_FLUSH_SECONDS = 3600.0  # the test moves rows with flush(), when it chooses
    settings.SERVING_PREDICTION_LOG_SPOOL_DIR = tmp_path / "spool"
    writer.stop()
    yield tmp_path / "spool"
    writer.stop()


@pytest.fixture
def rows(serving_project: Path, model_copy: Path) -> list[dict[str, Any]]:
    """Test-set rows as a client would send them."""
    import pandas as pd

    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    frame = pd.read_parquet(serving_project / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    return json.loads(frame.head(5).to_json(orient="records"))


def predict(client: Client, rows: list[dict[str, Any]]) -> list[str]:
    """POST the rows; their prediction_ids."""
    answer = client.post("/api/predict", {"instances": rows}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    return answer.json()["prediction_ids"]


def counter(name: str) -> float:
    """A prediction log counter's value in this process (0 before its first count)."""
    return REGISTRY.get_sample_value(f"model_log_rows_{name}_total") or 0.0


def logged(ids: list[str]) -> int:
    """How many of these prediction_ids the log holds."""
    return PredictionLog.objects.filter(prediction_id__in=ids).count()


def a_true_label(model: Path) -> Any:
    """A label the served model takes as feedback: its first class, or a value for a regressor."""
    classes = json.loads(model.with_suffix(".json").read_text())["classes"]
    return classes[0] if classes else 1.0


def feedback(client: Client, ids: list[str], label: Any) -> Any:
    """POST /api/feedback with one label for each id."""
    body = {"feedback": [{"prediction_id": i, "label": label} for i in ids]}
    return client.post("/api/feedback", body, content_type="application/json")


def child(folder: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """A live process of its own that has spooled three rows in `folder` (CHILD); it and their ids."""
    path = os.pathsep.join([str(PROJECT), str(PROJECT / "src"), os.environ.get("PYTHONPATH", "")])
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings_test", "PYTHONPATH": path}
    process = subprocess.Popen([sys.executable, "-c", CHILD, str(folder)], cwd=PROJECT, env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def killed(process: subprocess.Popen[str]) -> None:
    """Let the child die by SIGKILL, and wait for it."""
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.close()
    assert process.wait(timeout=30) == -9


def test_answered_rows_are_spooled_then_written_once(client: Client, rows: list, spooled: Path) -> None:
    queued, written = counter("queued"), counter("written")
    ids = predict(client, rows)
    assert logged(ids) == 0 and spool.pending(spooled, set(ids)) == set(ids)  # in the spool before the answer
    assert counter("queued") - queued == len(rows)
    assert writer.flush() == len(rows)
    assert logged(ids) == len(rows) and not spool.pending(spooled, set(ids)) and spool.size(spooled) == 0
    assert counter("written") - written == len(rows)
    assert writer.flush() == 0 and PredictionLog.objects.count() == len(rows)
    entry = PredictionLog.objects.get(prediction_id=ids[0])
    assert (entry.inputs, entry.source, entry.label) == (rows[0], "api", None)


def test_a_refused_write_keeps_the_rows_and_the_retry_writes_them_once(
    client: Client, rows: list, spooled: Path
) -> None:
    ids = predict(client, rows)
    with connection.cursor() as cursor:  # the table out of reach: what an outage looks like to the writer
        cursor.execute("ALTER TABLE serving_predictionlog RENAME TO serving_predictionlog_away")
    assert writer.flush() == 0
    assert spool.pending(spooled, set(ids)) == set(ids)  # still spooled
    more = predict(client, rows[:2])  # answers go on meanwhile
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE serving_predictionlog_away RENAME TO serving_predictionlog")
    assert writer.flush() == len(rows) + 2
    assert logged(ids + more) == len(ids + more) == PredictionLog.objects.count()
    assert spool.size(spooled) == 0


def test_a_dead_process_spool_is_written_by_another_writer_and_feedback_waits_for_it(
    client: Client, model_copy: Path, spooled: Path, settings: Settings
) -> None:
    label = a_true_label(model_copy)
    process, ids = child(spooled)
    try:
        assert LogWriter().flush() == 0  # its file is held: its process lives
        settings.SERVING_PREDICTION_LOG_FLUSH_SECONDS = 0.05  # feedback waits one interval for rows to arrive
        answer = feedback(client, ids, label)
        assert answer.status_code == 503 and int(answer["Retry-After"]) > 0, answer.content
        assert {error["field"] for error in answer.json()["errors"]} == {f"feedback[{i}].prediction_id" for i in
                                                                         range(3)}  # fmt: skip
        assert all("not written to the log yet" in error["message"] for error in answer.json()["errors"])
    finally:
        killed(process)
    other = LogWriter()
    assert other.flush() == 3 and logged(ids) == 3 and spool.size(spooled) == 0
    assert feedback(client, ids, label).json() == {"recorded": 3}
    assert PredictionLog.objects.filter(prediction_id__in=ids, label__isnull=False).count() == 3

    process, again = child(spooled)  # a file whose rows are in the database already (a crash after the commit)
    killed(process)
    (copy := spooled / f"copy{spool.SUFFIX}").write_bytes(b"".join(path.read_bytes() for path in
                                                                    spooled.glob(f"*{spool.SUFFIX}")))  # fmt: skip
    assert other.flush() == 6 and logged(again) == 3 and PredictionLog.objects.count() == 6
    assert not copy.exists() and spool.size(spooled) == 0


def test_a_full_spool_drops_rows_counts_them_and_records_the_gap(
    client: Client, rows: list, spooled: Path, settings: Settings
) -> None:
    settings.SERVING_PREDICTION_LOG_SPOOL_MAX_BYTES = 100  # less than one row
    dropped = counter("dropped")
    ids = predict(client, rows)  # answered all the same
    assert len(ids) == len(rows) and counter("dropped") - dropped == len(rows)
    assert writer.flush() == 0 and logged(ids) == 0
    gap = LogGap.objects.get()
    assert gap.rows == len(rows) and gap.reason.startswith("spool full: 100 bytes") and gap.created <= timezone.now()
    settings.SERVING_PREDICTION_LOG_SPOOL_MAX_BYTES = 1024**2
    kept = predict(client, rows)
    assert writer.flush() == len(rows) and logged(kept) == len(rows) and LogGap.objects.count() == 1


def rows_aged(now: Any, days: list[int], label: Any = None) -> list[str]:
    """Logged rows predicted `days` ago (labelled when `label` is given); their prediction_ids, oldest first."""
    made = PredictionLog.objects.bulk_create(
        PredictionLog(created=now - timedelta(days=age), model_sha256="0" * 64, inputs={}, prediction=0, label=label,
                      labelled_at=now if label is not None else None)
        for age in sorted(days, reverse=True)
    )  # fmt: skip
    return [str(entry.prediction_id) for entry in made]


def kept(ids: list[str]) -> list[bool]:
    """Whether each row is still in the log."""
    rows = PredictionLog.objects.filter(prediction_id__in=ids)
    there = {str(found) for found in rows.values_list("prediction_id", flat=True)}
    return [i in there for i in ids]


def test_retention_by_age_and_count_keeps_labelled_rows_longer(settings: Settings) -> None:
    settings.SERVING_PREDICTION_LOG_MAX_AGE_DAYS = 90
    settings.SERVING_PREDICTION_LOG_LABELLED_MAX_AGE_DAYS = 365
    now = timezone.now()
    unlabelled, labelled = rows_aged(now, [400, 100, 60, 30, 1]), rows_aged(now, [400, 100, 60], label=1)
    assert retention.trim(now) == 3
    assert kept(unlabelled) == [False, False, True, True, True] and kept(labelled) == [False, True, True]
    settings.SERVING_PREDICTION_LOG_MAX_ROWS = 4  # 5 rows: the oldest unlabelled goes, not the older labelled ones
    assert retention.trim(now) == 1
    assert kept(unlabelled) == [False, False, False, True, True] and kept(labelled) == [False, True, True]
    settings.SERVING_PREDICTION_LOG_MAX_ROWS = 1  # every unlabelled row first, then the oldest labelled
    assert retention.trim(now) == 3 and kept(labelled) == [False, False, True] and not any(kept(unlabelled))


def test_late_feedback_finds_its_row_while_retention_keeps_it(
    client: Client, model_copy: Path, settings: Settings
) -> None:
    settings.SERVING_PREDICTION_LOG = True
    settings.SERVING_PREDICTION_LOG_MAX_AGE_DAYS = 90
    label = a_true_label(model_copy)
    now = timezone.now()
    late, unlabelled, gone = rows_aged(now, [80]), rows_aged(now, [80]), rows_aged(now, [100])
    retention.trim(now)
    assert feedback(client, late, label).json() == {"recorded": 1}  # 80 days on: its truth still counts
    refused = feedback(client, gone, label)
    assert refused.status_code == 422
    message = refused.json()["errors"][0]["message"]
    assert "never made, or deleted by the log's retention" in message and "kept 90 days" in message
    assert "SERVING_PREDICTION_LOG_MAX_AGE_DAYS" in message
    retention.trim(now + timedelta(days=200))  # 280 days: the labelled row stays, its unlabelled twin goes
    assert kept(late) == [True] and kept(unlabelled) == [False]

"""What `manage.py monitor` reads: which model is served, its references, and its rows in the prediction log.

The model judged is the one served: named by --version, else by the server's GET /api/model
(--server), else by the newest logged row; the checkout's model only while the log is empty. A
version other than the checkout's is judged against its own training data, read from git at the
commit that made it, never against the checkout's.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Count, Max, Min, Q, Sum

from ..errors import PipelineError
from ..monitoring.blind import LogFacts, ServerState
from ..paths import PREDICTIONS_REFERENCE_PATH, REFERENCE_PATH
from ..registry.artifacts import read_manifest
from ..registry.manifest import Manifest
from ..registry.versions import file_at, find_version
from . import conf
from .models import LogGap, ModelVersion, PredictionLog
from .release import release_of

COLUMNS = ("created", "inputs", "prediction", "label")


@dataclass(frozen=True)
class Window:
    """The rows a run judges: from `start` (None: no start) to `end`, or the last `last` rows."""

    start: datetime | None
    end: datetime
    last: int | None


@dataclass(frozen=True)
class Judged:
    """The model a run judges, its training references, and how it was chosen (said in the output)."""

    manifest: Manifest
    reference: dict[str, Any]
    answers: dict[str, Any] | None
    chosen_by: str


def require_database() -> None:
    """Refuse a SQLite file that does not exist: connecting would create it empty and judge nothing."""
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor == "sqlite" and not connection.is_in_memory_db() and not Path(name).is_file():
        raise PipelineError(f"the database {name} does not exist: point DATABASE_URL at the server's database")


def probe(url: str) -> ServerState:
    """Ask the server which model it serves and whether its log is on (GET <url>/api/model)."""
    address = url.rstrip("/") + "/api/model"
    try:
        with urllib.request.urlopen(address, timeout=10) as response:  # the ops colleague's own URL
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return ServerState(url, error=f"GET {address} answered {exc.code}: {exc.read()[:200].decode(errors='replace')}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return ServerState(url, error=f"GET {address}: {getattr(exc, 'reason', exc)}")
    return ServerState(url, log_on=answer.get("prediction_log"), sha256=answer.get("sha256"))


def version_name(sha256: str, root: Path) -> str:
    """A model's version as the registry (git tags) or the served models' table names it, else its sha256 prefix."""
    release = release_of({"sha256": sha256}, root)  # type: ignore[typeddict-item]
    if release["version"] != sha256[:12]:
        return release["version"]
    entry = ModelVersion.objects.filter(sha256=sha256).values_list("version", flat=True).first()
    return entry or sha256[:12]


def sha256_of(version: str) -> str:
    """The sha256 of a served version named as model@v0.0.3, v0.0.3 or a sha256 prefix; PipelineError if unknown."""
    names = {version, f"model@{version}"}
    entries = ModelVersion.objects.filter(Q(version__in=names) | Q(sha256__startswith=version.lower()))
    found = sorted(set(entries.values_list("sha256", flat=True)))
    if len(found) != 1:
        known = ", ".join(ModelVersion.objects.values_list("version", flat=True)[:10]) or "none yet"
        what = "names more than one" if found else "is no model this service served"
        raise PipelineError(f"--version {version} {what}: the served versions are {known}")
    return found[0]


def read_json(text: str | None, where: str, hint: str) -> dict[str, Any]:
    """A JSON file the pipeline wrote; PipelineError naming it and how to get it."""
    if text is None:
        raise PipelineError(f"{where} not found: {hint}")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise PipelineError(f"{where} is not valid JSON: {exc}") from None


def checkout_file(root: Path, path: Path) -> str | None:
    """A file of the checkout's pipeline, or None."""
    return (root / path).read_text() if (root / path).is_file() else None


def references(sha256: str, checkout: Manifest, root: Path) -> tuple[Manifest, dict[str, Any], dict[str, Any] | None]:
    """The manifest, training reference and test answers of a model: the checkout's, or its version's in git."""
    if sha256 == checkout["sha256"]:
        manifest, where = checkout, str(REFERENCE_PATH)
        reference_text = checkout_file(root, REFERENCE_PATH)
        answers_text = checkout_file(root, PREDICTIONS_REFERENCE_PATH)
        hint = "run `dvc repro` (prepare profiles the data)"
    else:
        version, entry = find_version(sha256, root), ModelVersion.objects.filter(sha256=sha256).first()
        if version is None or entry is None:
            raise PipelineError(
                f"the served model {sha256[:12]} is not this checkout's and its commit is not in the git history "
                "here: fetch the history (git fetch --tags) or check out its version, or judge another with --version"
            )
        manifest, where = entry.manifest, f"{REFERENCE_PATH} at {version.label}"
        reference_text = file_at(version, REFERENCE_PATH, root)
        answers_text = file_at(version, PREDICTIONS_REFERENCE_PATH, root)
        hint = "that version has no training reference (trained before the monitor existed)"
    answers = json.loads(answers_text) if answers_text else None
    return manifest, read_json(reference_text, where, hint), answers


def judged_model(version: str | None, server: ServerState | None, root: Path) -> Judged:
    """The model to judge: --version, else the server's, else the newest logged row's, else the checkout's."""
    checkout = read_manifest(conf.model_path())
    if version:
        sha256, chosen_by = sha256_of(version), f"--version {version}"
    elif server and server.sha256:
        sha256, chosen_by = server.sha256, f"served by {server.url}"
    elif newest := PredictionLog.objects.order_by("-created", "-id").values_list("model_sha256", flat=True).first():
        sha256, chosen_by = newest, "the model of the newest logged row"
    else:
        sha256, chosen_by = checkout["sha256"], "this checkout's model (the log is empty)"
    manifest, reference, answers = references(sha256, checkout, root)
    return Judged(manifest, reference, answers, chosen_by)


def in_window(rows: Any, window: Window) -> Any:
    """A queryset of log rows cut to the window's times."""
    rows = rows.filter(created__lte=window.end)
    return rows.filter(created__gte=window.start) if window.start is not None else rows


def served_rows(sha256: str, window: Window) -> pd.DataFrame:
    """The window's rows of the judged model, oldest first (only read: a monitor run never changes the log)."""
    # By the time of the answer: a spool picked up late writes its rows after newer ones (log_writer.py).
    rows = in_window(PredictionLog.objects.filter(model_sha256=sha256), window).order_by("-created", "-id")
    if window.last is not None:
        rows = rows[: window.last]
    frame = pd.DataFrame.from_records(list(rows.values_list(*COLUMNS)), columns=list(COLUMNS))
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    return frame.iloc[::-1].reset_index(drop=True)


def other_versions(sha256: str, window: Window, root: Path) -> list[dict[str, Any]]:
    """The rows other models answered in the window: reported apart, never mixed into the verdict."""
    rows = in_window(PredictionLog.objects.exclude(model_sha256=sha256), window)
    counts = rows.values("model_sha256").annotate(rows=Count("id")).order_by("-rows")
    return [{"version": version_name(c["model_sha256"], root), "sha256": c["model_sha256"], "rows": c["rows"]}
            for c in counts]  # fmt: skip


def cut_by_retention(window: Window, oldest: datetime | None, rows: int, served: int) -> bool:
    """Whether retention (by count or age) had deleted rows the window asked for."""
    cap, days = conf.setting("SERVING_PREDICTION_LOG_MAX_ROWS"), conf.setting("SERVING_PREDICTION_LOG_MAX_AGE_DAYS")
    if window.last is not None:
        return rows >= cap and served < window.last
    if oldest is None or window.start is None or oldest <= window.start:
        return False
    return rows >= cap or window.start < window.end - timedelta(days=days)


def log_facts(sha256: str, window: Window, served: pd.DataFrame, others: list[dict[str, Any]],
              server: ServerState | None) -> LogFacts:  # fmt: skip
    """The log's state around the window, which names why a run saw too little."""
    log = PredictionLog.objects.aggregate(rows=Count("id"), oldest=Min("created"), newest=Max("created"))
    gaps = LogGap.objects.filter(created__lte=window.end)
    dropped = (gaps.filter(created__gte=window.start) if window.start else gaps).aggregate(rows=Sum("rows"))["rows"]
    return LogFacts(
        rows=log["rows"],
        newest=log["newest"],
        window_rows=len(served),
        other_rows=sum(other["rows"] for other in others),
        start=window.start,
        cut_by_retention=cut_by_retention(window, log["oldest"], log["rows"], len(served)),
        dropped=dropped or 0,
        server=server,
    )

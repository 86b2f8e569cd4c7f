"""`manage.py monitor`: judge the prediction log's rows of the served model against its training data.

Exit 0: no drift; 1: drift (a line per drifted check); 2: too little served data; 3: it cannot run.
It writes reports/monitoring.json (the site's Monitoring page) for 0, 1 and 2, and only reads the log.
"""

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError
from django.db.models import Count, Max, Min

from ....atomic import write_json
from ....errors import DataError, PipelineError
from ....formatting import counted
from ....monitoring.drift import line
from ....monitoring.report import DRIFT, OK, TOO_LITTLE, Thresholds, thresholds, verdict
from ....monitoring.window import since
from ....params import load_params
from ....paths import MONITORING_PATH, PREDICTIONS_REFERENCE_PATH, REFERENCE_PATH
from ....registry.artifacts import read_manifest
from ....registry.manifest import Manifest
from ... import conf
from ...models import ModelVersion, PredictionLog
from ...release import release_of

EXIT = {OK: 0, DRIFT: 1, TOO_LITTLE: 2}
CANNOT_RUN = 3
COLUMNS = ("created", "inputs", "prediction", "label")


class Command(BaseCommand):
    help = "Compare the served model's logged inputs and answers with its training data; exit 1 on drift."
    requires_system_checks: ClassVar[list[str]] = []  # a batch job: no DJANGO_SECRET_KEY needed

    def add_arguments(self, parser: CommandParser) -> None:
        window = parser.add_mutually_exclusive_group()
        since_help = "the rows served since: 7d, 24h, 30m, 2w or a date (default: monitor.window in params.yaml)"
        window.add_argument("--since", help=since_help)
        window.add_argument("--last", type=int, metavar="N", help="the last N rows served instead")
        parser.add_argument("--output", type=Path, default=None, help="the report (default: reports/monitoring.json)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = monitor(options["since"], options["last"], options["output"])
        except (PipelineError, DatabaseError, ImproperlyConfigured) as exc:
            self.stderr.write(f"monitor: {exc}")
            sys.exit(CANNOT_RUN)
        checks = [*report["checks"], *([report["predictions"]] if report["predictions"] else [])]
        for check in checks:
            if check["drifted"]:
                self.stdout.write(line(check))
        out = self.stderr if report["status"] == TOO_LITTLE else self.stdout
        out.write(f"monitor: {report['model']['version']}: {report['message']}; wrote {report['path']}")
        sys.exit(EXIT[report["status"]])


def project_root() -> Path:
    """The project the served model belongs to: its reports/ (and params.yaml) sit beside the model's folder."""
    return conf.model_path().resolve().parent.parent


def read_json(path: Path, hint: str) -> dict[str, Any]:
    """A JSON file the pipeline wrote; PipelineError naming it and how to get it."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path} not found: {hint}") from None
    except ValueError as exc:
        raise PipelineError(f"{path} is not valid JSON: {exc}") from None


def window_start(since_text: str | None, last: int | None, limits: Thresholds, now: datetime) -> datetime | None:
    """When the window starts: --since, else monitor.window; None for --last N."""
    if last is not None:
        if last < 1:
            raise DataError(f"--last {last}: expected a number of rows >= 1")
        return None
    return since(since_text or limits.window, now)


def version_name(sha256: str, root: Path) -> str:
    """A model's version as the registry (git tags) or the served models' table names it, else its sha256 prefix."""
    release = release_of({"sha256": sha256}, root)  # type: ignore[typeddict-item]
    if release["version"] != sha256[:12]:
        return release["version"]
    entry = ModelVersion.objects.filter(sha256=sha256).values_list("version", flat=True).first()
    return entry or sha256[:12]


def served_rows(manifest: Manifest, start: datetime | None, last: int | None) -> pd.DataFrame:
    """The window's rows of the served model, oldest first (only read: a monitor run never changes the log)."""
    rows = PredictionLog.objects.filter(model_sha256=manifest["sha256"])
    if start is not None:
        rows = rows.filter(created__gte=start)
    rows = rows.order_by("-id")[:last] if last is not None else rows.order_by("-id")
    frame = pd.DataFrame.from_records(list(rows.values_list(*COLUMNS)), columns=list(COLUMNS))
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    return frame.iloc[::-1].reset_index(drop=True)


def window_section(served: pd.DataFrame, start: datetime | None, last: int | None, now: datetime) -> dict[str, Any]:
    """The judged rows' span, and whether the log's cap deleted rows the window asked for."""
    cap = conf.setting("SERVING_PREDICTION_LOG_MAX_ROWS")
    log = PredictionLog.objects.aggregate(rows=Count("id"), oldest=Min("created"), newest=Max("created"))
    full = log["rows"] >= cap
    if last is not None:
        cut = full and len(served) < last
    else:
        cut = full and log["oldest"] is not None and log["oldest"] > start
    first = served["created"].min() if len(served) else None
    return {
        "since": start.isoformat() if start else None,
        "last": last,
        "first": first.isoformat() if first is not None else None,
        "until": now.isoformat(),
        "rows": len(served),
        "cut_by_cap": bool(cut),
        "cap": cap,
    }


def other_versions(manifest: Manifest, start: datetime | None, root: Path) -> list[dict[str, Any]]:
    """The rows other models answered in the window: reported apart, never mixed into the verdict."""
    rows = PredictionLog.objects.exclude(model_sha256=manifest["sha256"])
    if start is not None:
        rows = rows.filter(created__gte=start)
    counts = rows.values("model_sha256").annotate(rows=Count("id")).order_by("-rows")
    return [{"version": version_name(c["model_sha256"], root), "sha256": c["model_sha256"], "rows": c["rows"]}
            for c in counts]  # fmt: skip


def monitor(since_text: str | None, last: int | None, output: Path | None) -> dict[str, Any]:
    """Judge the window and write the report; the report, with `path` where it went."""
    root = project_root()
    manifest = read_manifest(conf.model_path())
    if manifest["task"] == "recommend":
        raise PipelineError(
            "the served model is a recommender: it reads ids, not features to compare with training; "
            "watch model_items_recommended_total by fallback in /metrics (unknown users and items) instead"
        )
    if manifest["task"] == "entities":
        raise PipelineError(
            "the served model is an entity tagger: it reads free text, not features to compare with training; "
            "watch model_entities_found_total by label against model_texts_tagged_total in /metrics instead"
        )
    params = root / "params.yaml"  # a site serving a copy of the model may have none: the defaults then
    limits = thresholds(load_params(params, sections=("monitor",)).get("monitor") if params.is_file() else None)
    reference = read_json(root / REFERENCE_PATH, "run `dvc repro` (prepare profiles the training data)")
    answers_file = root / PREDICTIONS_REFERENCE_PATH
    answers = read_json(answers_file, "run `dvc repro`") if answers_file.is_file() else None
    now = datetime.now(UTC)
    start = window_start(since_text, last, limits, now)
    served = served_rows(manifest, start, last)
    others = other_versions(manifest, start, root)
    report = {
        "generated": now.isoformat(),
        "model": {"version": version_name(manifest["sha256"], root), "sha256": manifest["sha256"]},
        "window": window_section(served, start, last, now) | {"min_rows": limits.min_rows},
        "other_versions": others,
        **verdict(served, manifest, reference, answers, limits),
    }
    if report["window"]["cut_by_cap"]:
        report["message"] += f"; the log's cap of {report['window']['cap']:,} rows had deleted older rows of the window"
    if others:
        report["message"] += f"; not judged: {counted(sum(o['rows'] for o in others), 'row')} of other model versions"
    path = output or root / MONITORING_PATH
    write_json(path, report)
    return report | {"path": str(path)}

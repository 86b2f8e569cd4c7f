"""The monitor's history: each run's verdict as a MonitorRun row (the admin lists them), read back for the page."""

from typing import Any

from django.db import DatabaseError

from .models import MonitorRun

HISTORY_RUNS = 90  # runs the Monitoring page draws: three months of a daily monitor


def record_run(report: dict[str, Any]) -> MonitorRun:
    """Keep a run's verdict: model, status, drifted checks and live quality."""
    model, quality = report.get("model") or {}, report.get("quality") or {}
    checks = [*(report.get("checks") or []), *([report["predictions"]] if report.get("predictions") else [])]
    return MonitorRun.objects.create(
        version=model.get("version") or "",
        model_sha256=model.get("sha256") or "",
        status=report["status"],
        message=report.get("message", ""),
        rows=(report.get("window") or {}).get("rows", 0),
        drifted=sum(bool(check.get("drifted")) for check in checks),
        checks=len(checks),
        metric=quality.get("metric") or "",
        live=quality.get("live"),
        test=quality.get("test"),
        labelled=quality.get("labelled") or 0,
    )


def history(limit: int = HISTORY_RUNS) -> list[dict[str, Any]]:
    """The newest runs, oldest first, as the report keeps them (read after record_run: the table is there)."""
    fields = ("created", "version", "status", "rows", "drifted", "checks", "metric", "live", "test", "labelled")
    runs = list(MonitorRun.objects.order_by("-created").values(*fields)[:limit])
    return [run | {"created": run["created"].isoformat()} for run in reversed(runs)]


def newest_run() -> MonitorRun | None:
    """The last run (for /metrics), or None before the first (or before `migrate`)."""
    try:
        return MonitorRun.objects.order_by("-created").first()
    except DatabaseError:
        return None

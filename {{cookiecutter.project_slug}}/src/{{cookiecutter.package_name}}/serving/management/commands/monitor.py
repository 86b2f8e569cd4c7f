"""`manage.py monitor`: judge the served model's logged rows: drift from its training data, quality against its tests.

Exit 0: no alarm; 1: an alarm, drift or a quality drop (a line each); 2: blind, too little to judge
(a line naming why); 3: it cannot run (a line naming why). Every run writes reports/monitoring.json
(the site's Monitoring page and the daily issue) and a MonitorRun row (the history, and /metrics);
it only reads the prediction log.
"""

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from .... import kinds
from ....atomic import write_json
from ....errors import DataError, PipelineError
from ....formatting import counted
from ....monitoring.blind import blind_line, lost_rows
from ....monitoring.report import Thresholds, thresholds, verdict
from ....monitoring.verdicts import DRIFT, FAILED, OK, QUALITY, TOO_LITTLE
from ....monitoring.window import since, until
from ....params import load_params
from ....paths import MONITORING_PATH
from ....registry.artifacts import read_manifest
from ... import conf
from ...monitor_history import history, record_run
from ...monitored import (
    Window,
    judged_model,
    log_facts,
    other_versions,
    probe,
    require_database,
    served_rows,
    version_name,
)

EXIT = {OK: 0, DRIFT: 1, QUALITY: 1, TOO_LITTLE: 2, FAILED: 3}


class Command(BaseCommand):
    help = "Judge the served model's logged rows: drift and live quality; exit 1 on an alarm, 2 when blind."
    requires_system_checks: ClassVar[list[str]] = []  # a batch job: no DJANGO_SECRET_KEY needed

    def add_base_argument(self, parser: CommandParser, *args: Any, **kwargs: Any) -> None:
        """Django's own options, but --version: here it names the model judged, not Django's version."""
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        window = parser.add_mutually_exclusive_group()
        since_help = "the rows served since: 7d, 24h, 30m, 2w or a date (default: monitor.window in params.yaml)"
        window.add_argument("--since", help=since_help)
        window.add_argument("--last", type=int, metavar="N", help="the last N rows served instead")
        parser.add_argument("--until", help="the rows served until: a date, or a time ago such as 1d (default: now)")
        parser.add_argument("--version", help="the model version to judge: model@v0.0.3, v0.0.3 or a sha256 prefix "
                                              "(default: the server's, else the newest logged row's)")  # fmt: skip
        parser.add_argument("--server", metavar="URL", help="ask this server which model it serves and whether its "
                                                            "log is on (default: MONITOR_SERVER_URL)")  # fmt: skip
        parser.add_argument("--output", type=Path, default=None, help="the report (default: reports/monitoring.json)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["output"] or project_root() / MONITORING_PATH
        try:
            report = monitor(options, path)
        except (PipelineError, DatabaseError, ImproperlyConfigured) as exc:
            report = failed(str(exc).strip().splitlines()[0], path)
        seen = report["status"] in (OK, DRIFT, QUALITY)
        for alarm in report["alarms"] if seen else []:  # a blind run's cause is in its message
            self.stdout.write(alarm)
        model = report.get("model") or {}
        judged = f"{model['version']} ({model['chosen_by']}): " if model.get("version") else ""
        (self.stdout if seen else self.stderr).write(f"monitor: {judged}{report['message']}; wrote {path}")
        sys.exit(EXIT[report["status"]])


def project_root() -> Path:
    """The project the served model belongs to: its reports/ (and params.yaml) sit beside the model's folder."""
    return conf.model_path().resolve().parent.parent


def limits_of(root: Path) -> Thresholds:
    """params.yaml's `monitor:` section; a site serving a copy of the model may have no params.yaml: the defaults."""
    params = root / "params.yaml"
    return thresholds(load_params(params, sections=("monitor",)).get("monitor") if params.is_file() else None)


def window_of(options: dict[str, Any], limits: Thresholds, now: datetime) -> Window:
    """The window the options ask for: --last N, else --since (or monitor.window), until --until or now."""
    end = until(options.get("until"), now)
    if (last := options.get("last")) is not None:
        if last < 1:
            raise DataError(f"--last {last}: expected a number of rows >= 1")
        return Window(None, end, last)
    start = since(options.get("since") or limits.window, now)
    if start >= end:
        raise DataError(f"--since {start:%Y-%m-%d %H:%M} is not before --until {end:%Y-%m-%d %H:%M}")
    return Window(start, end, None)


def window_section(window: Window, served: Any, cut: bool, min_rows: int) -> dict[str, Any]:
    """The judged rows' span, as the report keeps it."""
    first = served["created"].min() if len(served) else None
    return {
        "since": window.start.isoformat() if window.start else None,
        "last": window.last,
        "first": first.isoformat() if first is not None else None,
        "until": window.end.isoformat(),
        "rows": len(served),
        "cut_by_cap": cut,
        "cap": conf.setting("SERVING_PREDICTION_LOG_MAX_ROWS"),
        "min_rows": min_rows,
    }


def monitor(options: dict[str, Any], path: Path) -> dict[str, Any]:
    """Judge the window, keep the run and write the report."""
    root, now = project_root(), datetime.now(UTC)
    limits = limits_of(root)
    window = window_of(options, limits, now)
    kind = kinds.for_task(read_manifest(conf.model_path())["task"])
    if not kind.MONITORED:  # its answers are not logged either
        raise PipelineError(kind.NOT_MONITORED)
    require_database()
    address = options.get("server") or os.environ.get("MONITOR_SERVER_URL")
    server = probe(address) if address else None
    judged = judged_model(options.get("version"), server, root)
    served = served_rows(judged.manifest["sha256"], window)
    others = other_versions(judged.manifest["sha256"], window, root)
    facts = log_facts(judged.manifest["sha256"], window, served, others, server)
    report = {
        "generated": now.isoformat(),
        "model": {
            "version": version_name(judged.manifest["sha256"], root),
            "sha256": judged.manifest["sha256"],
            "chosen_by": judged.chosen_by,
        },
        "window": window_section(window, served, facts.cut_by_retention, limits.min_rows),
        "other_versions": others,
        "dropped_rows": facts.dropped,
        **verdict(served, judged.manifest, judged.reference, judged.answers, limits),
    }
    if report["status"] == TOO_LITTLE:
        report["alarms"] = [blind_line(facts, limits.min_rows)]
        report["message"] = f"{report['message']}: {report['alarms'][0].removeprefix('blind: ')}"
    else:
        if others:
            report["message"] += f"; not judged: {counted(facts.other_rows, 'row')} of other model versions"
        if facts.dropped:
            report["message"] += f"; {lost_rows(facts)}"
    return kept(report, path)


def failed(reason: str, path: Path) -> dict[str, Any]:
    """The report of a run that could not judge: never green, kept where the page and the issue look."""
    report = {"generated": datetime.now(UTC).isoformat(), "status": FAILED, "message": f"cannot run: {reason}",
              "alarms": [f"failed: {reason}"], "model": {}}  # fmt: skip
    try:
        require_database()  # a missing SQLite file stays missing
        return kept(report, path)
    except (PipelineError, DatabaseError, ImproperlyConfigured):  # the database is what failed: the file still tells
        write_json(path, report)
        return report


def kept(report: dict[str, Any], path: Path) -> dict[str, Any]:
    """Record the run in the history, then write the report with the history it belongs to."""
    record_run(report)
    report["history"] = history()
    write_json(path, report)
    return report

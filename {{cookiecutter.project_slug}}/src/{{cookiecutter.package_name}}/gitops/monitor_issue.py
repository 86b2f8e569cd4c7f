"""`make monitor-issue`: file what `make monitor` found as one GitHub issue per episode, or update the open one.

Two kinds of issue, each with its LABEL (how it is found) and MARKER (how it is told from a
person's issue with the same label):
- an alarm (drift, or live quality below the test set's): "Model drift: v0.0.3", "Model quality drop: v0.0.3";
- a blind monitor (too little to judge, or it could not run): "Model monitor blind: ...", whose
  run then fails too: a monitor that sees nothing is never a green run.
While an issue is open, each later run of its kind replaces its title and body with the newest
findings and adds a comment: an alarm that lasts a week is one issue with a comment a day, never
seven issues. A run without either changes nothing on GitHub. Closing an issue is left to a
person (after a retrain, a fix upstream, or accepting the new data): a drift that comes and goes
from one day to the next would otherwise open and close it again and again. Once it is closed,
the next episode opens a new issue.
"""

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import PipelineError, run_main
from ..formatting import cell, counted, short, table, when
from ..monitoring.drift import numbers
from ..monitoring.verdicts import DRIFT, FAILED, QUALITY, TOO_LITTLE
from .github import GitHub, from_environment, run_url

MARKER = "<!-- model-drift -->"
LABEL = "model-drift"
BLIND_MARKER = "<!-- model-monitor-blind -->"
BLIND_LABEL = "model-monitor"
ALARMS, BLIND = (DRIFT, QUALITY), (TOO_LITTLE, FAILED)
MAX_CHECKS = 50  # drifted checks listed in the issue; the rest are in the run's monitoring.json artifact
MAX_DAYS = 7  # days of live metrics listed, the latest


def read_report(path: Path) -> dict[str, Any]:
    """The monitor's report; a missing or unreadable file is a PipelineError."""
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path} not found: run `make monitor` first") from None
    except (OSError, ValueError) as exc:
        raise PipelineError(f"{path} is not the monitor's JSON report: {exc}") from None
    if not isinstance(report, dict) or "status" not in report:
        raise PipelineError(f"{path} is not the monitor's report: it has no status")
    return report


def drifted_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks that drifted, the predicted answers' check last."""
    checks = [*(report.get("checks") or []), *([report["predictions"]] if report.get("predictions") else [])]
    return [check for check in checks if check.get("drifted")]


def version(report: dict[str, Any]) -> str:
    """The judged model's version (or its short hash, unregistered)."""
    model = report.get("model") or {}
    return str(model.get("version") or (model.get("sha256") or "unknown model")[:12])


def title(report: dict[str, Any]) -> str:
    """The issue's title: what went wrong, and with which version."""
    if report["status"] in BLIND:
        cause = (report.get("alarms") or [report.get("message", "")])[0].split(": ", 1)[-1]
        what = "failed" if report["status"] == FAILED else "blind"
        return f"Model monitor {what}: {cause[:120]}"
    dropped = (report.get("quality") or {}).get("dropped")
    kinds = [name for name, found in (("drift", drifted_checks(report)), ("quality drop", dropped)) if found]
    return f"Model {' and '.join(kinds) or 'drift'}: {version(report)}"


def window_line(report: dict[str, Any]) -> str:
    """The served rows judged and when they were served."""
    window = report.get("window") or {}
    span = f", served from {when(window['first'])} to {when(window.get('until'))}" if window.get("first") else ""
    cut = f" (the log's cap of {window.get('cap')} rows had deleted older ones)" if window.get("cut_by_cap") else ""
    return f"**Window**: {counted(window.get('rows', 0), 'row')}{span}{cut}."


def drift_table(checks: list[dict[str, Any]]) -> str:
    """The drifted checks: the test, its numbers, and training against served values in a few words."""
    rows = []
    for check in checks[:MAX_CHECKS]:
        summary = check.get("summary") or {}
        name, test = f"**{check['name']}**", check.get("test")
        rows.append([name, test, *numbers(check).values(), summary.get("training"), summary.get("served")])
    headers = ["check", "test", "statistic", "p-value", "adjusted p", "distance", "training", "served"]
    more = len(checks) - MAX_CHECKS
    return table(headers, rows) + (f"\nAnd {more} more: see the run's monitoring.json.\n" if more > 0 else "")


def quality_lines(quality: dict[str, Any] | None) -> list[str]:
    """The live quality verdict: judged or why not, and whether it dropped below the test set's."""
    if not quality:
        return []
    if not quality.get("judged"):
        return [f"**Quality**: not judged: {quality.get('reason')}."]
    verdict = "**dropped**" if quality.get("dropped") else "holds"
    worse = "above" if quality.get("metric") == "mae" else "below"
    return [
        f"**Quality** {verdict}: {quality['metric']} {cell(quality.get('live'))} on "
        f"{counted(quality.get('labelled', 0), 'labelled row')} against {cell(quality.get('test'))} on the test set "
        f"(an alarm when significantly {worse} {cell(quality.get('bound'))}: p {cell(quality.get('p_value'))})."
    ]


def live_lines(live: dict[str, Any] | None) -> list[str]:
    """The served model's metric on the rows whose true label came back, beside the test set's, by day."""
    if not live:
        return ["**Live metrics**: no feedback yet (`POST /api/feedback` sends true labels)."]
    metric, overall, test = live.get("metric"), live.get("overall") or {}, live.get("test") or {}
    labelled = counted(live.get("labelled", 0), "labelled row")
    lines = [
        f"**Live metrics**: {metric} {cell(overall.get(metric))} on {labelled}, "
        f"against {cell(test.get(metric))} on the test set."
    ]
    if days := (live.get("days") or [])[-MAX_DAYS:]:
        names = [name for name in overall if name != "rows"] or [metric]
        rows = [[day["day"], day.get("rows"), *[day.get(name) for name in names]] for day in days]
        lines += ["", table(["day", "rows", *names], rows)]
    return lines


def other_versions(report: dict[str, Any]) -> str:
    """The rows of other model versions in the window, which the monitor did not judge."""
    others = [f"{o.get('version')} ({counted(o.get('rows', 0), 'row')})" for o in report.get("other_versions") or []]
    return f" Rows of other versions, not judged: {', '.join(others)}." if others else ""


def issue_body(report: dict[str, Any], run: str | None) -> str:
    """The issue's Markdown: what was found, over which rows, the live metrics, and where it was found."""
    if report["status"] in BLIND:
        return blind_body(report, run)
    model, thresholds = report.get("model") or {}, report.get("thresholds") or {}
    checks = drifted_checks(report)
    lines = [
        MARKER,
        f"`make monitor` raised an alarm on what **{version(report)}** (sha256 {short(model.get('sha256'))}) "
        f"serves: {report.get('message', '')}",
        "",
        window_line(report) + other_versions(report),
        "",
        *quality_lines(report.get("quality")),
        "",
        f"### {counted(len(checks), 'drifted check')}",
        "",
        drift_table(checks) if checks else "",
        f"A check drifts when its p-value times the number of checks ({thresholds.get('checks')}) is below "
        f"{thresholds.get('p_value')} and its Jensen-Shannon distance reaches {thresholds.get('distance')} "
        "(`monitor:` in `params.yaml`).",
        "",
        *live_lines(report.get("live")),
        "",
        footer(report, run) + " This issue is updated while the alarm lasts; close it once handled (retrain, fix the "
        "data upstream, or accept the change): the next alarm opens a new one.",
    ]
    return "\n".join(lines) + "\n"


def blind_body(report: dict[str, Any], run: str | None) -> str:
    """The blind monitor's Markdown: why it could not judge, and where to look."""
    lines = [
        BLIND_MARKER,
        f"`make monitor` could not judge the served model: {report.get('message', '')}",
        "",
        *[f"- {alarm}" for alarm in report.get("alarms") or []],
        "",
        window_line(report) + other_versions(report) if report.get("window") else "",
        "",
        "A monitor that sees nothing cannot raise an alarm: check that the server is up and answering, that "
        "`SERVING_PREDICTION_LOG` is on where it runs, that the workflow's `DATABASE_URL` is the server's database, "
        "and the retention settings (`SERVING_PREDICTION_LOG_MAX_ROWS`, `_MAX_AGE_DAYS`).",
        "",
        footer(report, run) + " This issue is updated while the monitor stays blind; close it once fixed.",
    ]
    return "\n".join(lines) + "\n"


def footer(report: dict[str, Any], run: str | None) -> str:
    """When and by which run the report was made."""
    where = f" by [this workflow run]({run})" if run else ""
    return f"Last checked {when(report.get('generated'))}{where}: its `monitoring` artifact holds the whole report."


def run_comment(report: dict[str, Any], run: str | None) -> str:
    """The comment a later run of the same kind adds: when, what, and its run."""
    where = f" ([workflow run]({run}))" if run else ""
    if report["status"] in BLIND:
        return f"Still blind on {when(report.get('generated'))}{where}: {report.get('message', '')}\n"
    names = [f"**{check['name']}**" for check in drifted_checks(report)[:MAX_CHECKS]]
    if (report.get("quality") or {}).get("dropped"):
        names.append(f"**{report['quality']['metric']}** (quality)")
    found = ", ".join(names)
    return f"Still alarming on {when(report.get('generated'))}{where}: {found}. {report.get('message', '')}\n"


def marked_issue(github: GitHub, label: str, marker: str) -> dict[str, Any] | None:
    """The open issue of this kind this script opened (the oldest, should there be more), or None."""
    issues = [issue for issue in github.open_issues(label) if marker in (issue.get("body") or "")]
    return min(issues, key=lambda issue: issue["number"], default=None)


def file_issue(github: GitHub, report: dict[str, Any], run: str | None) -> str:
    """Open the issue of the report's kind, or update the open one and comment on it; say which, with its number."""
    label, marker = (BLIND_LABEL, BLIND_MARKER) if report["status"] in BLIND else (LABEL, MARKER)
    body = issue_body(report, run)
    issue = marked_issue(github, label, marker)
    if issue is None:
        created = github.create_issue(title(report), body, [label])
        return f"opened issue #{created['number']}: {title(report)}"
    github.update_issue(issue["number"], title(report), body)
    github.comment(issue["number"], run_comment(report, run))
    return f"updated issue #{issue['number']} and commented: {title(report)}"


def main() -> None:
    """File the issue when the report raises an alarm or the monitor was blind; a blind run then fails (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, nargs="?", default=Path("reports/monitoring.json"))
    report = read_report(parser.parse_args().report)
    if report["status"] not in (*ALARMS, *BLIND):
        print(f"monitor-issue: no alarm ({report['status']}), no issue filed: {report.get('message', '')}")
        return
    github = from_environment()
    if github is None:
        raise PipelineError("GITHUB_TOKEN and GITHUB_REPOSITORY must be set to file the monitor's issue")
    print(f"monitor-issue: {file_issue(github, report, run_url())}")
    if report["status"] in BLIND:
        raise PipelineError(f"the monitor could not judge the served model: {report.get('message', '')}")


if __name__ == "__main__":
    run_main(main)

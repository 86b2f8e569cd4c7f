"""`make monitor-issue`: when `make monitor` found drift, open one GitHub issue about it, or update the open one.

The issue carries LABEL (how it is found) and MARKER (how it is told from a person's issue with the
same label). While it is open, each later drifting run replaces its title and body with the newest
findings and adds a comment for that run: a drift that lasts a week is one issue with a comment a
day, never seven issues. A run without drift changes nothing on GitHub. Closing the issue is left
to a person (after a retrain, a fix upstream, or accepting the new data): a drift that comes and
goes from one day to the next would otherwise open and close it again and again. Once it is
closed, the next drift opens a new issue.
"""

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import PipelineError, run_main
from ..formatting import cell, counted, short, table, when
from ..monitoring.drift import numbers
from .github import GitHub, from_environment, run_url

MARKER = "<!-- model-drift -->"
LABEL = "model-drift"
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
    """The issue's title."""
    return f"Model drift: {version(report)}"


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
    """The issue's Markdown: what drifted, over which rows, the live metrics, and where it was found."""
    model, thresholds = report.get("model") or {}, report.get("thresholds") or {}
    checks = drifted_checks(report)
    lines = [
        MARKER,
        f"`make monitor` found drift in what **{version(report)}** (sha256 {short(model.get('sha256'))}) serves: "
        f"{report.get('message', '')}",
        "",
        window_line(report) + other_versions(report),
        "",
        f"### {counted(len(checks), 'drifted check')}",
        "",
        drift_table(checks),
        f"A check drifts when its p-value times the number of checks ({thresholds.get('checks')}) is below "
        f"{thresholds.get('p_value')} and its Jensen-Shannon distance reaches {thresholds.get('distance')} "
        "(`monitor:` in `params.yaml`).",
        "",
        *live_lines(report.get("live")),
        "",
        f"Last checked {when(report.get('generated'))}" + (f" by [this workflow run]({run})" if run else "") + ": "
        "its `monitoring` artifact holds the whole report. This issue is updated while the drift lasts; "
        "close it once handled (retrain, fix the data upstream, or accept the change): the next drift opens a new one.",
    ]
    return "\n".join(lines) + "\n"


def run_comment(report: dict[str, Any], run: str | None) -> str:
    """The comment a later drifting run adds: when, which checks, and its run."""
    names = ", ".join(f"**{check['name']}**" for check in drifted_checks(report)[:MAX_CHECKS])
    where = f" ([workflow run]({run}))" if run else ""
    return f"Still drifting on {when(report.get('generated'))}{where}: {names}. {report.get('message', '')}\n"


def marked_issue(github: GitHub) -> dict[str, Any] | None:
    """The open drift issue this script opened (the oldest, should there be more), or None."""
    issues = [issue for issue in github.open_issues(LABEL) if MARKER in (issue.get("body") or "")]
    return min(issues, key=lambda issue: issue["number"], default=None)


def file_issue(github: GitHub, report: dict[str, Any], run: str | None) -> str:
    """Open the drift issue, or update the open one and comment on it; say which, with its number."""
    body = issue_body(report, run)
    issue = marked_issue(github)
    if issue is None:
        created = github.create_issue(title(report), body, [LABEL])
        return f"opened issue #{created['number']}: {title(report)}"
    github.update_issue(issue["number"], title(report), body)
    github.comment(issue["number"], run_comment(report, run))
    return f"updated issue #{issue['number']} and commented: {title(report)}"


def main() -> None:
    """File the drift issue when the report says drift; otherwise say why nothing is filed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, nargs="?", default=Path("reports/monitoring.json"))
    report = read_report(parser.parse_args().report)
    if report["status"] != "drift":
        print(f"monitor-issue: no drift ({report['status']}), no issue filed: {report.get('message', '')}")
        return
    github = from_environment()
    if github is None:
        raise PipelineError("GITHUB_TOKEN and GITHUB_REPOSITORY must be set to file the drift issue")
    print(f"monitor-issue: {file_issue(github, report, run_url())}")


if __name__ == "__main__":
    run_main(main)

"""The Monitoring page: what `make monitor` found in the served data (reports/monitoring.json), drifted checks first."""

from typing import Any

from ..formatting import cell, counted, excerpt, short, table, when
from ..monitoring.drift import numbers
from ..monitoring.verdicts import DRIFT, FAILED, OK, QUALITY, TOO_LITTLE
from ..paths import MONITORING_PATH
from . import charts

MONITORING_PAGE = "monitoring.md"
ASSETS = "assets/monitoring"
TITLE = "# Monitoring\n"
NO_DATA = (
    "No served data yet: turn on the prediction log (`SERVING_PREDICTION_LOG=on`), serve, then run `make monitor`.\n"
)
STATUS = {
    OK: ("success", "No alarm"),
    DRIFT: ("danger", "Drift"),
    QUALITY: ("danger", "Quality dropped"),
    TOO_LITTLE: ("danger", "Blind: too little to judge"),
    FAILED: ("danger", "The monitor could not run"),
}


def monitoring_site(report: dict[str, Any] | None) -> dict[str, str | bytes]:
    """The page and its charts, keyed by their path in the site's docs; one line on how to get data without a report."""
    if report is None:
        return {MONITORING_PAGE: f"{TITLE}\n{NO_DATA}"}
    checks = sorted(report.get("checks", []), key=lambda check: not check["drifted"])  # stable: drifted first
    files: dict[str, str | bytes] = {
        f"{ASSETS}/check-{number}.svg": distribution(check) for number, check in enumerate(checks, 1)
    }
    predictions, live, runs = report.get("predictions"), report.get("live"), report.get("history") or []
    if len(runs) > 1:
        files[f"{ASSETS}/history.svg"] = charts.history_chart(runs)
    if predictions:
        files[f"{ASSETS}/predictions.svg"] = distribution(predictions, "test set")
    if live and live.get("days"):
        test = (live.get("test") or {}).get(live["metric"])
        files[f"{ASSETS}/live.svg"] = charts.live_chart(live["days"], live["metric"], test)
    if report["status"] == FAILED:  # nothing was judged: the reason, and the runs before
        return {MONITORING_PAGE: "\n".join([TITLE, *status_section(report), *history_section(runs)])} | files
    lines = [
        TITLE,
        *status_section(report),
        *window_section(report),
        *quality_section(report.get("quality")),
        *history_section(runs),
        *predictions_section(predictions),
        *live_section(live),
        *checks_section(checks, predictions, report.get("thresholds") or {}),
    ]
    return {MONITORING_PAGE: "\n".join(lines)} | files


def distribution(check: dict[str, Any], reference: str = "training") -> str:
    """A check's reference (training) and served shares per bin, as one SVG."""
    bins, training, served = check["bins"], check["training"], check["served"]
    return charts.distribution_chart(bins, training, served, check["name"], check["drifted"], reference)


def status_section(report: dict[str, Any]) -> list[str]:
    """The verdict as an admonition holding the monitor's one-line message, then where it comes from."""
    kind, title = STATUS.get(report["status"], ("note", report["status"]))
    model = report.get("model") or {}
    alarms = "".join(f"\n\n    - `{excerpt(alarm)}`" for alarm in report.get("alarms") or [])
    return [
        f'!!! {kind} "{title}"\n    {excerpt(report.get("message", ""))}{alarms}\n',
        f"From `{MONITORING_PATH}`, written by `make monitor` on {when(report.get('generated'))} "
        f"for `{model.get('version')}` (sha256 {short(model.get('sha256'))}).\n",
    ]


def quality_section(quality: dict[str, Any] | None) -> list[str]:
    """The live quality verdict: the metric on the labelled rows against the test set's, judged with its sample size."""
    if not quality:
        return []
    lines = ["## Quality\n"]
    if not quality["judged"]:
        return [*lines, f"Not judged: {quality['reason']}.\n"]
    worse = "above" if quality["metric"] == "mae" else "below"
    verdict = "**Dropped**" if quality["dropped"] else "Holds"
    return [
        *lines,
        f"{verdict}: {quality['metric']} {cell(quality['live'])} on {counted(quality['labelled'], 'labelled row')}, "
        f"against {cell(quality['test'])} on the test set. It alarms when the live figure is significantly "
        f"{worse} {cell(quality['bound'])} (`max_drop` or `max_mae_increase` in `params.yaml`): "
        f"p-value {cell(quality['p_value'])}.\n",
    ]


def history_section(runs: list[dict[str, Any]]) -> list[str]:
    """Every kept monitor run, newest first: its verdict, drift and live quality (the chart draws them over time)."""
    if len(runs) < 2:
        return []
    rows = [[when(run["created"]), run["version"], run["status"], f"{run['drifted']} of {run['checks']}",
             run.get("live"), run.get("test"), run["rows"]] for run in reversed(runs)]  # fmt: skip
    return [
        "## History\n",
        f"![Monitor runs over time]({ASSETS}/history.svg)\n",
        table(["run", "version", "verdict", "drifted", "live", "test set", "rows"], rows),
    ]


def window_section(report: dict[str, Any]) -> list[str]:
    """The served rows judged, whether the log's retention cap cut them, and the rows of other model versions."""
    window = report["window"]
    asked = "every logged row"
    if window.get("last"):
        asked = f"the last {counted(window['last'], 'row')}"
    elif window.get("since"):
        asked = f"since {when(window['since'])}"
    span = f", from {when(window['first'])} to {when(window['until'])}" if window.get("first") else ""
    judged = f"asked: {asked}; at least {window.get('min_rows')} to judge"
    lines = ["## Window\n", f"{counted(window['rows'], 'served row')}{span} ({judged}).\n"]
    if window.get("cut_by_cap"):
        lines.append(
            '!!! note "Cut by the retention cap"\n'
            f"    The prediction log keeps only its newest {window.get('cap')} rows "
            "(`SERVING_PREDICTION_LOG_MAX_ROWS`): older rows of the window were already deleted.\n"
        )
    if others := report.get("other_versions"):
        lines += [
            "Rows of other model versions in the window, not judged here:\n",
            table(["version", "sha256", "rows"], [[o["version"], short(o.get("sha256")), o["rows"]] for o in others]),
        ]
    return lines


def verdict(check: dict[str, Any]) -> str:
    """A check's test result in one line: drifted or not, statistic, p-values, distance."""
    shown = numbers(check)
    return (
        f"{'**Drifted**' if check['drifted'] else 'No drift'}: {check['test']} {shown['statistic']}, "
        f"p-value {shown['p_value']} (adjusted {shown['p_adjusted']}), Jensen-Shannon distance {shown['distance']}.\n"
    )


def summaries(check: dict[str, Any], reference: str = "Training") -> str:
    """The reference (training) and served values, each described in a few words."""
    summary = check.get("summary") or {}
    return f"{reference}: {excerpt(summary.get('training', ''))}. Served: {excerpt(summary.get('served', ''))}.\n"


def predictions_section(predictions: dict[str, Any] | None) -> list[str]:
    """The model's served answers against its answers on the test set."""
    if not predictions:
        return []
    what = "class" if predictions["aspect"] == "class" else "value"
    return [
        f"## Predicted {what}\n",
        f"The shares of each predicted {what} served, beside those of the model's predictions on the test set.\n",
        verdict(predictions),
        f"![Predicted {what}: test set and served]({ASSETS}/predictions.svg)\n",
        summaries(predictions, "Test set"),
    ]


def live_section(live: dict[str, Any] | None) -> list[str]:
    """The served model's metric on the rows whose true label came back, by day, beside the test set's."""
    lines = ["## Live metrics\n"]
    if not live:
        return [*lines, "No feedback yet: send true labels to `POST /api/feedback` to measure the served model.\n"]
    metric, overall, test = live["metric"], live.get("overall") or {}, live.get("test") or {}
    names = [name for name in overall if name != "rows"]  # accuracy and f1_macro, or mae
    served, tested = [overall.get(name) for name in names], [test.get(name) for name in names]
    lines += [
        f"{live['labelled']} served predictions got their true label back (`POST /api/feedback`): "
        f"{metric} {cell(overall.get(metric))}, against {cell(test.get(metric))} on the test set.\n",
        table(["", "rows", *names], [["served", overall.get("rows"), *served], ["test set", "", *tested]]),
    ]
    if days := live.get("days"):
        rows = [[day["day"], day["rows"], *[day.get(name) for name in names]] for day in days]
        lines += [f"![{metric} by day]({ASSETS}/live.svg)\n", table(["day", "rows", *names], rows)]
    return lines


def checks_section(
    checks: list[dict[str, Any]], predictions: dict[str, Any] | None, thresholds: dict[str, Any]
) -> list[str]:
    """Every check's verdict in one table, drifted first, then each check's chart; counted as the banner counts."""
    if not checks:
        return ["## Checks\n", "No checks: too few served rows in the window.\n"]
    judged = [*checks, *([predictions] if predictions else [])]
    drifted = sum(check["drifted"] for check in judged)
    answers = " (the features', and the answers' above)" if predictions else ""
    tests = " or ".join(sorted({check["test"] for check in checks}))
    lines = [
        "## Checks\n",
        f"{drifted} of {len(judged)} checks drifted{answers}. Each compares a feature's served values with its "
        f"training values, binned alike, by a {tests} test: it drifts when its p-value times the number of checks "
        f"(Bonferroni) is below {thresholds.get('p_value')} and its Jensen-Shannon distance reaches "
        f"{thresholds.get('distance')} (`monitor:` in `params.yaml`).\n",
        table(
            ["check", "statistic", "p-value", "adjusted p", "distance", "drifted"],
            [
                [
                    f"[{excerpt(check['name'])}](#check-{number})",
                    *numbers(check).values(),
                    "**yes**" if check["drifted"] else "no",
                ]
                for number, check in enumerate(checks, 1)
            ],
        ),
    ]
    for number, check in enumerate(checks, 1):
        lines += [
            f"### {excerpt(check['name'])} " + "{ #check-" + str(number) + " }\n",  # attr_list: the table links here
            verdict(check),
            f"![{excerpt(check['name'])}: training and served]({ASSETS}/check-{number}.svg)\n",
            summaries(check),
        ]
    return lines

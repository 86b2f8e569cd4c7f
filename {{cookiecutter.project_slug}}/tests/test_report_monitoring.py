"""The Monitoring page (Django projects), from a hand-written reports/monitoring.json and without one."""

import json
from pathlib import Path
from typing import Any

import markdown

from {{ cookiecutter.package_name }}.report.monitoring import MONITORING_PAGE, MONITORING_PATH, NO_DATA, monitoring_site
from {{ cookiecutter.package_name }}.report.pages import build_site

SHA = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"


def check(name: str, bins: list[str], training: list[float], served: list[float], drifted: bool) -> dict[str, Any]:
    """One check as the monitor writes it."""
    return {
        "feature": name.split(" (")[0],
        "aspect": name.split(" (")[1].rstrip(")") if " (" in name else "value",
        "name": name,
        "kind": "number" if bins[0].startswith("<") else "category",
        "test": "chi-square",
        "statistic": 85.1 if drifted else 3.2,
        "p_value": 1e-12 if drifted else 0.36,
        "p_adjusted": 3.1e-11 if drifted else 1.0,
        "distance": 0.62 if drifted else 0.04,
        "drifted": drifted,
        "bins": bins,
        "training": training,
        "served": served,
        "summary": {"training": f"{name} in training", "served": f"{name} served"},
    }


def report(**changes: Any) -> dict[str, Any]:
    """The monitor's report on a drifting classifier with feedback; `changes` replace its keys."""
    return {
        "generated": "2026-12-06T23:30:00+00:00",
        "status": "drift",
        "message": "812 rows of model@v0.0.1 since 2026-11-29: 1 of 2 checks drifted",
        "model": {"version": "model@v0.0.1", "sha256": SHA},
        "window": {
            "since": "2026-11-29T23:30:00+00:00", "last": None, "first": "2026-12-01T08:12:00+00:00",
            "until": "2026-12-06T23:30:00+00:00", "rows": 812, "cut_by_cap": False, "cap": 10000, "min_rows": 100,
        },
        "other_versions": [],
        "thresholds": {"p_value": 0.05, "distance": 0.1, "checks": 2, "per_check_p": 0.025},
        "checks": [  # the monitor's order: the page puts the drifted first
            check("shape", ["round", "oval", "other", "missing"], [0.6, 0.4, 0, 0], [0.58, 0.41, 0.01, 0], False),
            check("mean radius", ["< 11.7", "11.7 to 20.1", ">= 20.1", "missing"], [0.3, 0.6, 0.1, 0],
                  [0, 0.3, 0.65, 0.05], True),
        ],
        "predictions": check("prediction (class)", ["malignant", "benign"], [0.37, 0.63], [0.55, 0.45], True),
        "live": {
            "metric": "accuracy",
            "test": {"accuracy": 0.956, "f1_macro": 0.953},
            "labelled": 80,
            "overall": {"rows": 80, "accuracy": 0.9, "f1_macro": 0.88},
            "days": [
                {"day": "2026-12-05", "rows": 40, "accuracy": 0.95, "f1_macro": 0.94},
                {"day": "2026-12-06", "rows": 40, "accuracy": 0.85, "f1_macro": 0.82},
            ],
        },
    } | changes  # fmt: skip


def html(page: str) -> str:
    """The page as MkDocs renders it, with the extensions of mkdocs.yml it uses."""
    return markdown.markdown(page, extensions=["admonition", "attr_list", "tables"])


def test_without_a_report_the_page_says_in_one_line_how_to_get_data() -> None:
    files = monitoring_site(None)
    assert list(files) == [MONITORING_PAGE]
    assert [line for line in files[MONITORING_PAGE].splitlines() if line] == ["# Monitoring", NO_DATA.strip()]
    assert "SERVING_PREDICTION_LOG=on" in NO_DATA and "make monitor" in NO_DATA


def test_the_page_shows_the_status_the_window_and_each_verdict_drifted_first() -> None:
    files = monitoring_site(report())
    page = files[MONITORING_PAGE]
    rendered = html(page)
    assert '<div class="admonition danger">' in rendered and '<p class="admonition-title">Drift</p>' in rendered
    assert "812 rows of model@v0.0.1 since 2026-11-29: 1 of 2 checks drifted" in page
    assert "written by `make monitor` on 2026-12-06 23:30 UTC for `model@v0.0.1` (sha256 `3f2a9c1b7d4e`)" in page
    assert "812 served rows, from 2026-12-01 08:12 UTC to 2026-12-06 23:30 UTC (asked: since 2026-11-29" in page
    assert "retention cap" not in page and "other model versions" not in page
    assert page.index("[mean radius](#check-1)") < page.index("[shape](#check-2)")  # drifted first
    rows = [line for line in page.splitlines() if line.startswith("| [")]
    assert rows == [
        "| [mean radius](#check-1) | 85.1 | 1e-12 | 3.1e-11 | 0.62 | **yes** |",
        "| [shape](#check-2) | 3.2 | 0.36 | 1 | 0.04 | no |",
    ]
    assert '<h3 id="check-1">mean radius</h3>' in rendered and '<a href="#check-1">mean radius</a>' in rendered
    assert "**Drifted**: chi-square 85.1, p-value 1e-12 (adjusted 3.1e-11), Jensen-Shannon distance 0.62." in page
    assert "No drift: chi-square 3.2, p-value 0.36 (adjusted 1), Jensen-Shannon distance 0.04." in page
    assert "Training: mean radius in training. Served: mean radius served." in page
    assert "## Predicted class" in page and "![Predicted class: test set and served]" in page
    assert "Test set: prediction (class) in training. Served: prediction (class) served." in page
    assert set(files) == {
        MONITORING_PAGE, *(f"assets/monitoring/{name}.svg" for name in ("check-1", "check-2", "predictions", "live"))
    }  # fmt: skip


def test_each_chart_draws_both_distributions_over_the_checks_bins() -> None:
    files = monitoring_site(report())
    drifted, steady = files["assets/monitoring/check-1.svg"], files["assets/monitoring/check-2.svg"]
    assert isinstance(drifted, str) and isinstance(steady, str)
    for label in ("&lt; 11.7", "11.7 to 20.1", "&gt;= 20.1", "missing", "training", "served", "mean radius"):
        assert label in drifted  # svg.fonttype none: the labels stay text
    assert all(label in steady for label in ("round", "oval", "other"))
    assert "#e53935" in drifted and "#e53935" not in steady  # the served bars turn red when the check drifted
    assert "#90a4ae" in drifted and "#1e88e5" in steady
    assert monitoring_site(report()) == files  # the same report draws the same bytes


def test_live_metrics_by_day_beside_the_test_metric() -> None:
    files = monitoring_site(report())
    page = files[MONITORING_PAGE]
    assert "80 served predictions got their true label back" in page and "accuracy 0.9, against 0.956" in page
    assert "| 2026-12-05 | 40 | 0.95 | 0.94 |" in page and "| 2026-12-06 | 40 | 0.85 | 0.82 |" in page
    chart = files["assets/monitoring/live.svg"]
    assert isinstance(chart, str) and "2026-12-06" in chart and "test set" in chart
    assert "stroke-dasharray" in chart  # the test set's value: a dashed line


def test_the_retention_cap_other_versions_and_a_regressor() -> None:
    window = report()["window"] | {"cut_by_cap": True, "since": None, "last": 500}
    others = [{"version": "model@v0.0.0", "sha256": "aa" * 32, "rows": 12}]
    live = {"metric": "mae", "test": {"mae": 40.1, "r2": 0.45}, "labelled": 30, "overall": {"rows": 30, "mae": 45.0},
            "days": [{"day": "2026-12-06", "rows": 30, "mae": 45.0}]}  # fmt: skip
    predictions = check("prediction (value)", ["< 100", "100 to 200", ">= 200", "missing"], [0.3, 0.4, 0.3, 0],
                        [0.3, 0.4, 0.3, 0], False)  # fmt: skip
    files = monitoring_site(report(window=window, other_versions=others, live=live, predictions=predictions))
    page = files[MONITORING_PAGE]
    assert "(asked: the last 500 rows; at least 100 to judge)" in page
    assert '!!! note "Cut by the retention cap"' in page and "newest 10000 rows" in page
    assert "| model@v0.0.0 | `aaaaaaaaaaaa` | 12 |" in page
    assert "## Predicted value" in page and "mae 45, against 40.1 on the test set" in page
    assert "| 2026-12-06 | 30 | 45 |" in page


def test_too_little_data_and_no_feedback_yet() -> None:
    message = "0 served rows: too few to judge (monitor.min_rows is 100): the prediction log is empty"
    empty = report()["window"] | {"rows": 0, "first": None}
    files = monitoring_site(report(status="too_little_data", message=message, window=empty, checks=[],
                                   predictions=None, live=None))  # fmt: skip
    page = files[MONITORING_PAGE]
    assert list(files) == [MONITORING_PAGE]
    assert '!!! danger "Blind: too little to judge"' in page and message.replace("_", "\\_") in page  # Markdown-safe
    assert "0 served rows (asked: since" in page
    assert "No checks: too few served rows in the window." in page and "No feedback yet" in page
    assert "## Predicted" not in page


def test_a_quality_drop_is_red_and_history_is_drawn() -> None:
    quality = {"metric": "accuracy", "test": 0.956, "live": 0.1, "bound": 0.906, "labelled": 400, "min_labels": 30,
               "p_value": 1e-90, "judged": True, "dropped": True, "reason": None}  # fmt: skip
    runs = [{"created": f"2026-12-0{day}T05:30:00+00:00", "version": "model@v0.0.1", "status": status, "rows": 400,
             "drifted": drifted, "checks": 31, "metric": "accuracy", "live": live, "test": 0.956, "labelled": 400}
            for day, status, drifted, live in ((5, "ok", 0, 0.95), (6, "too_little_data", 0, None),
                                               (7, "quality", 0, 0.1))]  # fmt: skip
    alarm = "quality: accuracy 0.1 on 400 labelled rows against 0.956 on the test set: below 0.906 with p 1e-90"
    files = monitoring_site(report(status="quality", quality=quality, history=runs, alarms=[alarm]))
    page = files[MONITORING_PAGE]
    assert '!!! danger "Quality dropped"' in page and alarm in page
    assert "**Dropped**: accuracy 0.1 on 400 labelled rows, against 0.956 on the test set" in page
    assert "## History" in page and "assets/monitoring/history.svg" in files
    assert page.index("2026-12-07 05:30") < page.index("2026-12-05 05:30")  # newest first


def test_a_failed_run_shows_why_and_nothing_judged() -> None:
    failed = {"generated": "2026-12-07T05:30:00+00:00", "status": "failed", "model": {},
              "message": "cannot run: the database /srv/db.sqlite3 does not exist", "alarms": []}  # fmt: skip
    page = monitoring_site(failed)[MONITORING_PAGE]
    assert '!!! danger "The monitor could not run"' in page and "does not exist" in page and "## Checks" not in page


def test_the_banner_and_the_checks_count_alike() -> None:
    data = report()
    page = monitoring_site(data)[MONITORING_PAGE]
    judged = len(data["checks"]) + bool(data.get("predictions"))
    drifted = sum(c["drifted"] for c in [*data["checks"], *([data["predictions"]] if data.get("predictions") else [])])
    assert f"{drifted} of {judged} checks drifted" in page


def test_the_site_has_the_page_with_or_without_a_report(workdir: Path) -> None:
    assert NO_DATA in build_site(workdir)[MONITORING_PAGE]
    (workdir / MONITORING_PATH).parent.mkdir(exist_ok=True)
    (workdir / MONITORING_PATH).write_text(json.dumps(report()))
    pages = build_site(workdir)
    assert "## Checks" in pages[MONITORING_PAGE] and "assets/monitoring/check-1.svg" in pages

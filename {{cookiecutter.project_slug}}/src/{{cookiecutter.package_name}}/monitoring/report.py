"""The monitor's verdict on one window of served rows: every check, the answers' check, live metrics (monitoring.json).

Django-free, so the benchmark and the tests can judge a table of rows as `manage.py monitor`
judges the prediction log.
"""

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..data.bins import Check
from ..data.reference import aspects
from ..errors import DataError
from ..formatting import counted
from ..registry.manifest import Feature, Manifest
from .drift import compare, line
from .live import live_metrics
from .quality import QualityLimits, quality_line, quality_verdict
from .verdicts import DRIFT, OK, QUALITY, TOO_LITTLE
from .window import moment

DEFAULTS: dict[str, Any] = {
    "window": "7d",
    "min_rows": 100,
    "p_value": 0.05,
    "distance": 0.1,
    "quality_metric": "accuracy",
    "min_labels": 30,
    "max_drop": 0.05,
    "max_mae_increase": 0.25,
}
QUALITY_METRICS = ("accuracy", "f1_macro")


@dataclass(frozen=True)
class Thresholds:
    """The `monitor:` section of params.yaml, checked."""

    window: str
    min_rows: int
    p_value: float
    distance: float
    quality: QualityLimits


def number(name: str, value: Any, low: float, high: float, what: str) -> float:
    """A monitor.<name> number within [low, high]; DataError naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise DataError(f"monitor.{name} in params.yaml: expected {what}, not {value!r}")
    return float(value)


def whole(name: str, value: Any) -> int:
    """A monitor.<name> count >= 1; DataError naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DataError(f"monitor.{name} in params.yaml: expected a whole number of rows >= 1, not {value!r}")
    return value


def thresholds(section: dict[str, Any] | None) -> Thresholds:
    """params.yaml's `monitor:` values (defaults for absent keys); DataError naming a bad one."""
    values = DEFAULTS | (section or {})
    moment("monitor.window in params.yaml:", str(values["window"]), pd.Timestamp.now(tz="UTC").to_pydatetime())
    p_value = number("p_value", values["p_value"], 1e-12, 1 - 1e-12, "a probability between 0 and 1")
    if values["quality_metric"] not in QUALITY_METRICS:
        raise DataError(f"monitor.quality_metric in params.yaml: expected one of {', '.join(QUALITY_METRICS)}, "
                        f"not {values['quality_metric']!r} (a regressor is judged by its mae)")  # fmt: skip
    quality = QualityLimits(
        metric=values["quality_metric"],
        min_labels=whole("min_labels", values["min_labels"]),
        max_drop=number("max_drop", values["max_drop"], 0, 1, "an absolute drop from 0 to 1, such as 0.05"),
        max_mae_increase=number("max_mae_increase", values["max_mae_increase"], 0, 1e6, "a relative increase >= 0"),
        p_value=p_value,
    )
    distance = number("distance", values["distance"], 0, 1, "a distance from 0 to 1")
    return Thresholds(str(values["window"]), whole("min_rows", values["min_rows"]), p_value, distance, quality)


def served_aspects(inputs: pd.DataFrame, features: list[Feature], reference: dict[str, Any]) -> dict[str, pd.Series]:
    """The served rows' aspects, measured as prepare measured the training rows' (an image by its logged aspects)."""
    known = {name: set(words) for name, words in (reference.get("vocabulary") or {}).items()}
    return aspects(inputs, features, known)


def answers_check(predictions_reference: dict[str, Any] | None, manifest: Manifest) -> Check | None:
    """The test set's binned answers, if they are this model's (evaluate wrote them for the model it scored)."""
    if predictions_reference and predictions_reference.get("model_sha256") == manifest["sha256"]:
        return predictions_reference["check"]
    return None


def judge(
    served: pd.DataFrame,
    manifest: Manifest,
    reference: dict[str, Any],
    answers: Check | None,
    limits: Thresholds,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Each reference check, and the answers' check, on `served` (columns inputs, prediction), Bonferroni over all."""
    inputs = pd.DataFrame.from_records(served["inputs"].tolist(), index=served.index)
    found = served_aspects(inputs, manifest["features"], reference)
    count = len(reference["checks"]) + (answers is not None)
    results = [
        compare(check, found[check["name"]], count, limits.p_value, limits.distance)
        for check in reference["checks"]
        if check["name"] in found
    ]
    predictions = None
    if answers is not None:
        values = served["prediction"]
        values = values.astype(str) if answers["kind"] == "category" else pd.to_numeric(values, errors="coerce")
        predictions = compare(answers, values, count, limits.p_value, limits.distance) | {"reference": "test set"}
    return results, predictions


def labelled_rows(served: pd.DataFrame) -> pd.DataFrame:
    """The served rows whose true label came back."""
    return served.loc[served["label"].notna(), ["created", "prediction", "label"]]


def verdict(
    served: pd.DataFrame,
    manifest: Manifest,
    reference: dict[str, Any],
    predictions_reference: dict[str, Any] | None,
    limits: Thresholds,
) -> dict[str, Any]:
    """status, message, alarms, thresholds, checks, predictions, quality and live: what the served rows decide.

    `served` holds one model's rows in the window (columns created, inputs, prediction, label).
    Too few rows is TOO_LITTLE: the caller names why (monitoring/blind.py).
    """
    rows, answers = len(served), answers_check(predictions_reference, manifest)
    labelled = labelled_rows(served)
    test_metrics = manifest.get("metrics") or {}
    live = live_metrics(labelled, manifest["task"], test_metrics)
    quality = quality_verdict(labelled, manifest["task"], test_metrics, limits.quality)
    checks: list[dict[str, Any]] = []
    predictions, alarms = None, []
    count = len(reference["checks"]) + (answers is not None)  # the tests a run makes: Bonferroni divides by them
    if rows < limits.min_rows:
        status = TOO_LITTLE
        message = f"{counted(rows, 'served row')}: too few to judge (monitor.min_rows is {limits.min_rows})"
    else:
        checks, predictions = judge(served, manifest, reference, answers, limits)
        judged = [*checks, *([predictions] if predictions else [])]
        drifted = [check for check in judged if check["drifted"]]
        alarms = [line(check) for check in drifted] + ([quality_line(quality)] if quality["dropped"] else [])
        status = DRIFT if drifted else QUALITY if quality["dropped"] else OK
        message = f"{counted(rows, 'served row')}: {len(drifted)} of {counted(len(judged), 'check')} drifted"
        message += f" ({', '.join(check['name'] for check in drifted)})" if drifted else ""
        message += f"; {quality_summary(quality)}"
    return {
        "status": status,
        "message": message,
        "alarms": alarms,
        "thresholds": {
            "p_value": limits.p_value,
            "distance": limits.distance,
            "checks": count,
            "per_check_p": float(f"{limits.p_value / max(count, 1):.3g}"),
        },
        "checks": checks,
        "predictions": predictions,
        "quality": quality,
        "live": live,
    }


def quality_summary(quality: dict[str, Any]) -> str:
    """The quality check in a few words, for the run's message."""
    if not quality["judged"]:
        return f"quality not judged: {quality['reason']}"
    verb = "dropped" if quality["dropped"] else "holds"
    return f"quality {verb}: {quality['metric']} {quality['live']:.4g} against {quality['test']:.4g} on the test set"

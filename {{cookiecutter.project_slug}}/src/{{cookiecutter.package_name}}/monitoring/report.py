"""The monitor's verdict on one window of served rows: every check, the answers' check, live metrics (monitoring.json).

Django-free, so the benchmark and the tests can judge a table of rows as `manage.py monitor`
judges the prediction log.
"""

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..data.reference import Check, aspects
from ..data.schema import Feature
from ..errors import DataError
from ..formatting import counted
from ..registry.manifest import Manifest
from .drift import compare
from .live import live_metrics
from .window import since

OK, DRIFT, TOO_LITTLE = "ok", "drift", "too_little_data"


@dataclass(frozen=True)
class Thresholds:
    """The `monitor:` section of params.yaml, checked."""

    window: str
    min_rows: int
    p_value: float
    distance: float


def thresholds(section: dict[str, Any] | None) -> Thresholds:
    """params.yaml's `monitor:` values (defaults for absent keys); DataError naming a bad one."""
    values = {"window": "7d", "min_rows": 100, "p_value": 0.05, "distance": 0.1} | (section or {})
    window, min_rows, p_value, distance = (values[key] for key in ("window", "min_rows", "p_value", "distance"))
    since(str(window), pd.Timestamp.now(tz="UTC").to_pydatetime())  # a malformed window fails here, named
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
        raise DataError(f"monitor.min_rows in params.yaml: expected a whole number of rows >= 1, not {min_rows!r}")
    if isinstance(p_value, bool) or not isinstance(p_value, int | float) or not 0 < p_value < 1:
        raise DataError(f"monitor.p_value in params.yaml: expected a probability between 0 and 1, not {p_value!r}")
    if isinstance(distance, bool) or not isinstance(distance, int | float) or not 0 <= distance <= 1:
        raise DataError(f"monitor.distance in params.yaml: expected a distance from 0 to 1, not {distance!r}")
    return Thresholds(str(window), min_rows, float(p_value), float(distance))


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
        predictions = compare(answers, values, count, limits.p_value, limits.distance)
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
    """status, message, thresholds, checks, predictions and live: the part of the report the served rows decide.

    `served` holds one model's rows in the window (columns created, inputs, prediction, label).
    """
    rows, answers = len(served), answers_check(predictions_reference, manifest)
    live = live_metrics(labelled_rows(served), manifest["task"], manifest.get("metrics") or {})
    checks: list[dict[str, Any]] = []
    predictions = None
    count = len(reference["checks"]) + (answers is not None)  # the tests a run makes: Bonferroni divides by them
    if rows < limits.min_rows:
        status = TOO_LITTLE
        message = f"{counted(rows, 'served row')}: too few to judge (monitor.min_rows is {limits.min_rows})"
    else:
        checks, predictions = judge(served, manifest, reference, answers, limits)
        drifted = [check["name"] for check in [*checks, *([predictions] if predictions else [])] if check["drifted"]]
        status = DRIFT if drifted else OK
        message = f"{counted(rows, 'served row')}: {len(drifted)} of {counted(count, 'check')} drifted"
        message += f" ({', '.join(drifted)})" if drifted else ""
    return {
        "status": status,
        "message": message,
        "thresholds": {
            "p_value": limits.p_value,
            "distance": limits.distance,
            "checks": count,
            "per_check_p": float(f"{limits.p_value / max(count, 1):.3g}"),
        },
        "checks": checks,
        "predictions": predictions,
        "live": live,
    }

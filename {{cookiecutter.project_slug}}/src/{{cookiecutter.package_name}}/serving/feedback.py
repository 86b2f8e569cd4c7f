"""POST /api/feedback: the true labels of logged predictions, checked against the log and the model's classes."""

import math
import time
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from ..registry.manifest import Manifest
from . import conf
from .log_writer import writer
from .models import PredictionLog


class Truth(BaseModel):
    """The true label (a class, or a value for regression) of one logged prediction."""

    model_config = ConfigDict(extra="forbid")

    prediction_id: UUID = Field(description="a prediction_id from an answer of POST /api/predict")
    label: str | int | float | bool = Field(description="the true class, or the true value for regression")


class FeedbackRequest(BaseModel):
    """{"feedback": [{"prediction_id": "5b0e...", "label": "yes"}, ...]}."""

    model_config = ConfigDict(extra="forbid")

    feedback: list[Truth] = Field(min_length=1, max_length=10_000)


class FeedbackResponse(BaseModel):
    """How many predictions now carry their true label."""

    recorded: int


def known_label(manifest: Manifest, label: Any) -> tuple[Any, str | None]:
    """The label as the model names it (1 for "1"), or an error: a class the model lacks, a number that is not one."""
    if manifest["task"] == "regression":
        if isinstance(label, bool) or not isinstance(label, int | float) or not math.isfinite(label):
            return None, f"expected the true value, a finite number, not {label!r}"
        return float(label), None
    classes = manifest["classes"] or []
    for known in classes:
        if str(known) == str(label) and not isinstance(label, bool | float):
            return known, None
    return None, f"{label!r} is no class of this model: one of {', '.join(map(str, classes))}"


def logged_rows(ids: set[UUID]) -> dict[UUID, PredictionLog]:
    """The logged rows of these ids; rows another process has not written yet get one flush interval to arrive."""
    found = PredictionLog.objects.in_bulk(ids, field_name="prediction_id")
    if len(found) < len(ids) and (interval := float(conf.setting("SERVING_PREDICTION_LOG_FLUSH_SECONDS"))) > 0:
        writer.flush()  # this process's queue
        time.sleep(interval)  # another worker's
        found = PredictionLog.objects.in_bulk(ids, field_name="prediction_id")
    return found


def record_feedback(manifest: Manifest, feedback: list[Truth]) -> tuple[int, list[dict[str, str]]]:
    """Set the label of each named prediction; all or nothing: with any bad entry, nothing is recorded."""
    logged = logged_rows({truth.prediction_id for truth in feedback})
    errors, labels = [], {}
    for index, truth in enumerate(feedback):
        if truth.prediction_id not in logged:
            errors.append({"field": f"feedback[{index}].prediction_id", "message":
                           f"no logged prediction {truth.prediction_id}: never made, or older than the newest "
                           "SERVING_PREDICTION_LOG_MAX_ROWS rows the log keeps"})  # fmt: skip
            continue
        label, problem = known_label(manifest, truth.label)
        if problem:
            errors.append({"field": f"feedback[{index}].label", "message": problem})
        labels[truth.prediction_id] = label
    if errors:
        return 0, errors
    now = timezone.now()
    for pk, label in labels.items():
        logged[pk].label, logged[pk].labelled_at = label, now
    with transaction.atomic():
        PredictionLog.objects.bulk_update(list(logged.values()), ["label", "labelled_at"], batch_size=500)
    return len(labels), []

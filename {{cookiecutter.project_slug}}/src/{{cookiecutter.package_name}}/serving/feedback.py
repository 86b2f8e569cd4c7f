"""POST /api/feedback: the true labels of logged predictions, checked against the log and the model's classes."""

import logging
import math
import time
from typing import Any
from uuid import UUID

from django.db import DatabaseError, transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from ..registry.manifest import Manifest
from . import conf, retention, spool
from .log_writer import writer
from .models import PredictionLog

log = logging.getLogger(__name__)

REPLACE = "true to correct labels recorded before; otherwise a different label for a labelled prediction is refused"
RETRY_AFTER_SECONDS = 30  # a database back from an outage writes the spool within seconds
ATTEMPTS, RETRY_SECONDS = 3, 0.2  # a write lock held by the log's writer passes in a moment


class Truth(BaseModel):
    """The true label (a class, or a value for regression) of one logged prediction."""

    model_config = ConfigDict(extra="forbid")

    prediction_id: UUID = Field(description="a prediction_id from an answer of POST /api/predict")
    label: str | int | float | bool = Field(description="the true class, or the true value for regression")


class FeedbackRequest(BaseModel):
    """{"feedback": [{"prediction_id": "5b0e...", "label": "yes"}, ...]}, and "replace": true to correct labels."""

    model_config = ConfigDict(extra="forbid")

    feedback: list[Truth] = Field(min_length=1, max_length=10_000)
    replace: bool = Field(False, description=REPLACE)


class FeedbackResponse(BaseModel):
    """How many predictions now carry their true label."""

    recorded: int


class NotYet(Exception):
    """Feedback to send again later (a 503): the database is down, or the named rows are still in the spool."""

    def __init__(self, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.detail, self.errors, self.retry_after = detail, errors, RETRY_AFTER_SECONDS


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


def logged_rows(ids: set[UUID]) -> tuple[dict[UUID, PredictionLog], set[UUID]]:
    """The logged rows of these ids, and the ids still in the spool (answered; not written: the database was down).

    Rows not in the database yet get one flush interval to arrive (this process writes its own at once).
    """
    found = PredictionLog.objects.in_bulk(ids, field_name="prediction_id")
    interval = float(conf.setting("SERVING_PREDICTION_LOG_FLUSH_SECONDS"))
    if len(found) == len(ids) or interval <= 0:
        return found, set()
    writer.flush(wait=False)  # this process's spool, unless its thread is on it
    time.sleep(interval)  # another worker's
    found = PredictionLog.objects.in_bulk(ids, field_name="prediction_id")
    if not (missing := ids - found.keys()):
        return found, set()
    spooled = {UUID(found_id) for found_id in spool.pending(spool.folder(), {str(i) for i in missing})}
    found |= PredictionLog.objects.in_bulk(missing, field_name="prediction_id")  # written while the spool was read
    return found, spooled - found.keys()


def record_feedback(
    manifest: Manifest, feedback: list[Truth], replace: bool = False
) -> tuple[int, list[dict[str, str]]]:
    """Set the label of each named prediction; all or nothing: with any bad entry, nothing is recorded.

    A prediction labelled before keeps its label unless `replace`: a silent overwrite would hide a
    client that sends two truths for one answer. NotYet when it may succeed later: the database is
    down, or some rows are still in the spool.
    """
    for _ in range(ATTEMPTS - 1):
        try:
            return recorded(manifest, feedback, replace)
        except DatabaseError:  # a write lock the log's writer holds a moment: try again
            time.sleep(RETRY_SECONDS)
    try:
        return recorded(manifest, feedback, replace)
    except DatabaseError as exc:  # still refused: the database is down
        log.warning("feedback not recorded: %s", exc)
        raise NotYet("feedback not recorded: the prediction log's database is unavailable; send it again later",
                     []) from exc  # fmt: skip


def recorded(manifest: Manifest, feedback: list[Truth], replace: bool) -> tuple[int, list[dict[str, str]]]:
    """record_feedback's work, which the database may refuse."""
    logged, spooled = logged_rows({truth.prediction_id for truth in feedback})
    errors, later, labels = [], [], {}
    for index, truth in enumerate(feedback):
        field = f"feedback[{index}].prediction_id"
        if truth.prediction_id in spooled:
            later.append({"field": field, "message": f"prediction {truth.prediction_id} is not written to the log "
                          "yet (its database was unavailable): send it again later"})  # fmt: skip
            continue
        if truth.prediction_id not in logged:
            errors.append({"field": field, "message": f"no logged prediction {truth.prediction_id}: never made, "
                           f"or deleted by the log's retention: {retention.described()}"})  # fmt: skip
            continue
        label, problem = known_label(manifest, truth.label)
        earlier = logged[truth.prediction_id]
        if not problem and not replace and earlier.label is not None and earlier.label != label:
            since = f" (recorded {earlier.labelled_at:%Y-%m-%d %H:%M})" if earlier.labelled_at else ""
            problem = (f"prediction {truth.prediction_id} already has the label {earlier.label!r}{since}: "
                       'send "replace": true to correct it')  # fmt: skip
        if problem:
            errors.append({"field": f"feedback[{index}].label", "message": problem})
        labels[truth.prediction_id] = label
    if errors:  # for good: sending it again cannot help
        return 0, errors + later
    if later:
        raise NotYet("feedback not recorded yet: predictions not yet written to the log, listed in errors; "
                     "send it again later", later)  # fmt: skip
    now = timezone.now()
    for pk, label in labels.items():
        logged[pk].label, logged[pk].labelled_at = label, now
    with transaction.atomic():
        PredictionLog.objects.bulk_update(list(logged.values()), ["label", "labelled_at"], batch_size=500)
    return len(labels), []

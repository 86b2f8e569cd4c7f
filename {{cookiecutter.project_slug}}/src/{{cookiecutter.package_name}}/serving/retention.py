"""The prediction log's retention: rows past their age go, and beyond the count cap the oldest unlabelled first.

A labelled row is kept longer than an unlabelled one: its truth is what the monitor's live quality
needs, and it arrives late (a churn-like target's weeks after the prediction). The log writer's
thread trims, at most once a minute per process (log_writer.py), never a request.
"""

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from . import conf
from .models import PredictionLog

BATCH = 10_000  # rows per DELETE: short statements, so that a large trim never holds the database for long


def trim(now: datetime | None = None) -> int:
    """Delete the rows retention no longer keeps; how many."""
    now = now or timezone.now()
    unlabelled = PredictionLog.objects.filter(label__isnull=True)
    labelled = PredictionLog.objects.filter(label__isnull=False)
    deleted = delete(unlabelled.filter(created__lt=now - days("SERVING_PREDICTION_LOG_MAX_AGE_DAYS")))
    deleted += delete(labelled.filter(created__lt=now - days("SERVING_PREDICTION_LOG_LABELLED_MAX_AGE_DAYS")))
    excess = PredictionLog.objects.count() - int(conf.setting("SERVING_PREDICTION_LOG_MAX_ROWS"))
    for rows in (unlabelled, labelled):  # the oldest unlabelled first; labelled ones only if they alone are too many
        if excess > 0:
            gone = delete(rows, excess)
            deleted, excess = deleted + gone, excess - gone
    return deleted


def days(setting: str) -> timedelta:
    """A retention setting in days, as a timedelta."""
    return timedelta(days=float(conf.setting(setting)))


def delete(rows: QuerySet[PredictionLog], limit: int | None = None) -> int:
    """Delete the oldest of `rows` (all, or at most `limit`), BATCH at a time; how many."""
    deleted = 0
    while limit is None or deleted < limit:
        size = BATCH if limit is None else min(BATCH, limit - deleted)
        oldest = rows.order_by("created", "id").values("id")[:size]
        gone, _ = PredictionLog.objects.filter(id__in=oldest).delete()
        deleted += gone
        if gone < size:
            break
    return deleted


def described() -> str:
    """What the log keeps, in words, for a refusal that names retention."""
    return (f"unlabelled rows are kept {conf.setting('SERVING_PREDICTION_LOG_MAX_AGE_DAYS'):g} days "
            f"(SERVING_PREDICTION_LOG_MAX_AGE_DAYS), labelled ones "
            f"{conf.setting('SERVING_PREDICTION_LOG_LABELLED_MAX_AGE_DAYS'):g} "
            f"(SERVING_PREDICTION_LOG_LABELLED_MAX_AGE_DAYS), and at most "
            f"{int(conf.setting('SERVING_PREDICTION_LOG_MAX_ROWS')):,} rows, the oldest unlabelled deleted first "
            "(SERVING_PREDICTION_LOG_MAX_ROWS)")  # fmt: skip

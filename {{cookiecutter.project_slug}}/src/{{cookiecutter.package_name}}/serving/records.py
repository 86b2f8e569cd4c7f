"""Record in the database each model version served (its registry manifest) and, when on, the predictions."""

import logging
import uuid
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from ..registry.manifest import Manifest
from . import conf, metrics
from .log_writer import writer
from .model_store import Served
from .models import ModelVersion
from .predictor import model_info

log = logging.getLogger(__name__)


def register(manifest: Manifest) -> tuple[ModelVersion, bool]:
    """The ModelVersion row of a manifest, created if its sha256 is new; renamed once the model has a release name.

    A model registered as its sha256 prefix (served before `gto register` tagged it) takes the
    version's name (model@v0.0.3) the next time the server starts or `register_model` runs.
    """
    version = model_info(manifest)["version"]
    entry, created = ModelVersion.objects.get_or_create(
        sha256=manifest["sha256"],
        defaults={
            "version": version,
            "git_commit": manifest.get("git_commit") or "",
            "estimator": manifest.get("estimator", ""),
            "task": manifest.get("task", ""),
            "metrics": manifest.get("metrics", {}),
            "params": manifest.get("params", {}),
            "manifest": manifest,
        },
    )
    if not created and version != entry.version and version != manifest["sha256"][:12]:
        entry.version = version
        entry.save(update_fields=["version"])
    return entry, created


def register_on_startup(manifest: Manifest) -> None:
    """Register the model being served; a database not migrated yet is logged, not fatal."""
    try:
        register(manifest)
    except DatabaseError as exc:
        log.warning("model not registered (run `python manage.py migrate`): %s", exc)


def log_prediction(sha256: str, inputs: list[dict[str, Any]], answer: dict[str, Any], source: str = "api") -> list[str]:
    """Spool each predicted row for the log when it is on (log_writer.py); their prediction_ids.

    POST /api/feedback names these ids. The rows are in the spool before the answer goes out, so
    a crash or a database outage loses none; a log never fails a prediction (a full spool drops
    the rows, counted in /metrics and the LogGap table, and the answer still goes out).
    """
    if not conf.setting("SERVING_PREDICTION_LOG"):
        return []
    probabilities = answer.get("probabilities") or [None] * len(inputs)
    created = timezone.now().isoformat()  # the time of the answer, not of the write
    rows = [
        {"prediction_id": str(uuid.uuid4()), "created": created, "model_sha256": sha256, "source": source,
         "inputs": row, "prediction": prediction, "probabilities": shares}
        for row, prediction, shares in zip(inputs, answer["predictions"], probabilities, strict=True)
    ]  # fmt: skip
    writer.add(rows)
    return [row["prediction_id"] for row in rows]


def answered(served: Served, inputs: list[dict[str, Any]], result: dict[str, Any], source: str) -> dict[str, Any]:
    """The answer, counted in the metrics and logged, with each row's prediction_id when kept (API and autolabel)."""
    manifest = served.loaded.manifest
    if conf.setting("SERVING_METRICS"):  # off: no counting at all, as for the requests
        metrics.predicted(manifest, result, source)
        metrics.outside_training(manifest, inputs)
    if ids := log_prediction(manifest["sha256"], inputs, result, source):
        result = {**result, "prediction_ids": ids}
    return result

"""Record in the database each model version served (its registry manifest) and, when on, the predictions."""

import logging
from typing import Any

from django.db import DatabaseError

from ..registry.manifest import Manifest
from . import conf
from .models import ModelVersion, PredictionLog
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


def log_prediction(sha256: str, inputs: list[dict[str, Any]], outputs: dict[str, Any]) -> None:
    """Keep the request and answer when the log is on, and only the newest SERVING_PREDICTION_LOG_MAX_ROWS."""
    if not conf.setting("SERVING_PREDICTION_LOG"):
        return
    try:
        entry = PredictionLog.objects.create(model_sha256=sha256, rows=len(inputs), inputs=inputs, outputs=outputs)
        cutoff = entry.pk - conf.setting("SERVING_PREDICTION_LOG_MAX_ROWS")
        if cutoff > 0:
            PredictionLog.objects.filter(pk__lte=cutoff).delete()
    except DatabaseError as exc:
        log.warning("prediction not logged: %s", exc)

"""The serving app's settings, read when used, with their defaults: a host site must set only SERVING_MODEL_PATH.

| setting | default | meaning |
|---|---|---|
| SERVING_MODEL_PATH | none: required | the model.joblib to serve (its model.json manifest beside it) |
| SERVING_RUNTIME | auto | auto: model.onnx when train's check passed, else the pickle; onnx or sklearn: that one |
| SERVING_MAX_ROWS | 1000 | instances per request (and rows per chunk of `predict_file`) |
| SERVING_MAX_TEXT_CHARS | 10000 | characters per text feature of a row |
| SERVING_MAX_UPLOAD_BYTES | 10485760 | bytes per image upload request (10 MiB; more is a 413) |
| SERVING_MAX_IMAGE_PIXELS | 25000000 | pixels per uploaded image (width x height; more is a 422) |
| SERVING_PREDICTION_LOG | False | keep each predicted row and its feedback (the log the monitor reads) |
| SERVING_PREDICTION_LOG_MAX_ROWS | 1000000 | rows the log keeps at most; beyond, the oldest unlabelled go first |
| SERVING_PREDICTION_LOG_MAX_AGE_DAYS | 90 | days an unlabelled row is kept (time for its true label to arrive) |
| SERVING_PREDICTION_LOG_LABELLED_MAX_AGE_DAYS | 365 | days a labelled row is kept, counted from its prediction |
| SERVING_PREDICTION_LOG_FLUSH_SECONDS | 1.0 | how often each process moves spooled rows to the database (0: no spool) |
| SERVING_PREDICTION_LOG_SPOOL_DIR | "" | the spool's folder; "" is var/prediction-log under the site's BASE_DIR |
| SERVING_PREDICTION_LOG_SPOOL_MAX_BYTES | 1073741824 | the spool's cap (1 GiB); rows beyond are dropped, counted |
| SERVING_METRICS | True | serve Prometheus metrics at /metrics (config/urls.py) and count requests |
| SERVING_METRICS_TOKEN | "" | when set, /metrics answers only requests with `Authorization: Bearer <token>` |
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

MODEL_PATH_MISSING = "SERVING_MODEL_PATH is not set: point it at the trained models/model.joblib (model.json beside it)"

DEFAULTS: dict[str, Any] = {
    "SERVING_RUNTIME": "auto",
    "SERVING_MAX_ROWS": 1000,
    "SERVING_MAX_TEXT_CHARS": 10_000,
    "SERVING_MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
    "SERVING_MAX_IMAGE_PIXELS": 25_000_000,  # a 5000x5000 photo; decoding one takes 75 MB in rgb
    "SERVING_PREDICTION_LOG": False,
    "SERVING_PREDICTION_LOG_MAX_ROWS": 1_000_000,
    "SERVING_PREDICTION_LOG_MAX_AGE_DAYS": 90.0,  # a churn-like target's truth arrives weeks later
    "SERVING_PREDICTION_LOG_LABELLED_MAX_AGE_DAYS": 365.0,
    "SERVING_PREDICTION_LOG_FLUSH_SECONDS": 1.0,
    "SERVING_PREDICTION_LOG_SPOOL_DIR": "",
    "SERVING_PREDICTION_LOG_SPOOL_MAX_BYTES": 1024**3,
    "SERVING_METRICS": True,
    "SERVING_METRICS_TOKEN": "",
}


def setting(name: str) -> Any:
    """A SERVING_ setting of the site, else its default (read per call, so override_settings applies)."""
    return getattr(settings, name, DEFAULTS[name])


def model_path() -> Path:
    """SERVING_MODEL_PATH; ImproperlyConfigured when the site has not set it (no guess at the host's layout)."""
    value = getattr(settings, "SERVING_MODEL_PATH", None)
    if not value:
        raise ImproperlyConfigured(MODEL_PATH_MISSING)
    return Path(value)


def check_model_path(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """`manage.py check` warns of an unset SERVING_MODEL_PATH (a warning: `migrate` must still run)."""
    try:
        model_path()
    except ImproperlyConfigured as exc:
        return [checks.Warning(str(exc), hint="the API answers 503 until it is set", id="serving.W001")]
    return []

"""The floor: a bare WSGI function serving the same model, with none of the API's checks.

It builds the frame with the project's own `to_frame` and makes one pass of the model, as the
API does, so the difference between the two is Django, django-ninja and the validation.
gunicorn loads it with --preload like the Django app; SERVING_MODEL_PATH names the model and
SERVING_PACKAGE the baked package.
"""

import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import joblib

MODEL_PATH = Path(os.environ["SERVING_MODEL_PATH"])
MODEL = joblib.load(MODEL_PATH)
FEATURES = json.loads(MODEL_PATH.with_suffix(".json").read_text())["features"]
to_frame = importlib.import_module(f"{os.environ['SERVING_PACKAGE']}.serving.predictor").to_frame


def app(environ: dict, start_response: Callable) -> list[bytes]:
    """POST {"instances": [...]} -> {"predictions": [...], "probabilities": [[...]]}."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    instances = json.loads(environ["wsgi.input"].read(size))["instances"]
    probabilities = MODEL.predict_proba(to_frame(instances, FEATURES))
    predictions = MODEL.classes_[probabilities.argmax(axis=1)]
    body = json.dumps({"predictions": predictions.tolist(), "probabilities": probabilities.round(6).tolist()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]

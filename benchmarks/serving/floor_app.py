"""The floor: a bare WSGI function serving the same model, with none of the API's checks.

gunicorn loads it with --preload like the Django app; SERVING_MODEL_PATH names the model.
"""

import json
import os
from collections.abc import Callable
from pathlib import Path

import joblib
import pandas as pd

MODEL_PATH = Path(os.environ["SERVING_MODEL_PATH"])
MODEL = joblib.load(MODEL_PATH)
COLUMNS = [feature["name"] for feature in json.loads(MODEL_PATH.with_suffix(".json").read_text())["features"]]


def app(environ: dict, start_response: Callable) -> list[bytes]:
    """POST {"instances": [...]} -> {"predictions": [...], "probabilities": [[...]]}."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    instances = json.loads(environ["wsgi.input"].read(size))["instances"]
    frame = pd.DataFrame.from_records(instances, columns=COLUMNS)
    body = json.dumps(
        {"predictions": MODEL.predict(frame).tolist(), "probabilities": MODEL.predict_proba(frame).round(6).tolist()}
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]

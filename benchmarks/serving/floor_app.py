"""The floor: a bare WSGI function serving the same model through the same runtime, with none of the API's checks.

It reads the rows with the project's own runtime (serving/runtime.py: ONNX when train's check
passed, as the API serves it, or the pickle with SERVING_RUNTIME=sklearn) and makes one pass of
the model, so the difference between it and the API is Django, django-ninja and the validation.
SERVING_MODEL_PATH names the model and SERVING_PACKAGE the baked package; each worker loads the
model itself (no --preload: an onnxruntime session must not cross gunicorn's fork).
"""

import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path

runtime = importlib.import_module(f"{os.environ['SERVING_PACKAGE']}.serving.runtime")
RUNTIME = runtime.load_runtime(Path(os.environ["SERVING_MODEL_PATH"]), os.environ.get("SERVING_RUNTIME", "auto"))


def app(environ: dict, start_response: Callable) -> list[bytes]:
    """POST {"instances": [...]} -> {"predictions": [...], "probabilities": [[...]]}."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    instances = json.loads(environ["wsgi.input"].read(size))["instances"]
    predictions, probabilities = RUNTIME.predict(instances)
    answer = {"predictions": predictions.tolist(), "probabilities": probabilities.round(6).tolist()}
    body = json.dumps(answer).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]

"""Which runtime answers: models/model.onnx when train's check passed (never the pickle), else the verified pickle."""

import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import onnxruntime
import pandas as pd
import pytest
from django.test import Client
from PIL import Image
from pytest_django.fixtures import Settings

from {{ cookiecutter.package_name }}.serving.model_store import store

pytestmark = pytest.mark.django_db
PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def manifest(model_copy: Path) -> dict[str, Any]:
    """The served copy's manifest; these tests need the ONNX copy that train checked."""
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    if manifest.get("onnx", {}).get("status") != "passed":
        pytest.skip(f"this model has no checked ONNX copy: {manifest.get('onnx', {}).get('reason')}")
    return manifest


def png(pixels: np.ndarray, feature: dict[str, Any]) -> bytes:
    """A prepared image row (pixels in [0, 1]) as the PNG file a client uploads."""
    width, height = feature["size"]
    shape = (height, width) if feature["color"] == "gray" else (height, width, 3)
    buffer = io.BytesIO()
    Image.fromarray(np.round(pixels.reshape(shape) * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def inputs(trained: Path, manifest: dict[str, Any], tmp_path: Path) -> Path:
    """Twenty test rows as a client sends them: a JSON list of rows, or a folder of an image model's PNG files."""
    frame = pd.read_parquet(trained / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"]).head(20)
    if manifest["features"][0]["kind"] != "image":
        (tmp_path / "rows.json").write_text(frame.to_json(orient="records"))  # missing values as null
        return tmp_path / "rows.json"
    folder = tmp_path / "images"
    folder.mkdir()
    for index, pixels in enumerate(frame.to_numpy(dtype=float)):
        (folder / f"{index:02d}.png").write_bytes(png(pixels, manifest["features"][0]))
    return folder


def send(client: Client, inputs: Path) -> Any:
    """POST the inputs to the endpoint of their kind: rows to /api/predict, image files to /api/predict/image."""
    if inputs.is_dir():
        files = [io.BytesIO(path.read_bytes()) for path in sorted(inputs.iterdir())]
        for handle, path in zip(files, sorted(inputs.iterdir()), strict=True):
            handle.name = path.name
        return client.post("/api/predict/image", {"image": files})
    return client.post("/api/predict", {"instances": json.loads(inputs.read_text())}, content_type="application/json")


@pytest.fixture
def predict(client: Client, inputs: Path) -> Callable[[], Any]:
    """The API's answer to the inputs, asked now."""
    return lambda: send(client, inputs)


def rewrite_manifest(model_copy: Path, **changes: Any) -> dict[str, Any]:
    """Change the served copy's manifest as a retrain would have written it."""
    path = model_copy.with_suffix(".json")
    manifest = json.loads(path.read_text()) | changes
    path.write_text(json.dumps(manifest))
    store.reset()
    return manifest


class RunsCode:
    """Unpickling this writes a marker file: a pickle is code, which is why the server must not load one."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return exec, (f"open({str(self.marker)!r}, 'w').write('the pickle ran')",)


def test_a_tampered_onnx_model_is_refused_by_hash_and_never_loaded(
    client: Client, model_copy: Path, manifest: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    onnx = model_copy.with_suffix(".onnx")
    onnx.write_bytes(onnx.read_bytes() + b"tampered")
    monkeypatch.setattr(onnxruntime, "InferenceSession", lambda *a, **k: pytest.fail("a tampered model was loaded"))
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("the pickle was loaded instead"))
    health = client.get("/api/health")
    assert health.status_code == 503
    assert f"{onnx} has sha256" in health.json()["reason"] and "refusing to load it" in health.json()["reason"]
    assert client.post("/api/predict", {"instances": [{}]}, content_type="application/json").status_code == 503
    assert client.get("/api/model").status_code == 503


def test_under_onnx_a_pickle_that_runs_code_is_never_loaded(
    client: Client, model_copy: Path, manifest: dict, predict: Callable, settings: Settings, tmp_path: Path
) -> None:
    settings.SERVING_RUNTIME = "sklearn"
    expected = predict().json()  # the pickle's own answers
    marker = tmp_path / "pickle-ran"
    model_copy.write_bytes(pickle.dumps(RunsCode(marker)))
    digest = hashlib.sha256(model_copy.read_bytes()).hexdigest()  # pinned, so only loading it stops it
    rewrite_manifest(model_copy, sha256=digest, files=manifest["files"] | {"model.joblib": digest})
    settings.SERVING_RUNTIME = "auto"
    answer = predict()
    assert answer.status_code == 200 and not marker.exists()
    assert_same_answers(answer.json(), expected, manifest)
    assert client.get("/api/model").json()["runtime"] == "onnx" and not marker.exists()
    settings.SERVING_RUNTIME = "sklearn"  # the trap works: the pickle runtime does load it
    store.reset()
    client.get("/api/health")
    assert marker.read_text() == "the pickle ran"


def assert_same_answers(answer: dict, expected: dict, manifest: dict) -> None:
    """The ONNX model answers as the pickle does, within train's check's tolerances (float32 against float64)."""
    from {{ cookiecutter.package_name }}.table.modeling.export import PREDICTION_TOLERANCE, PROBABILITY_TOLERANCE

    if manifest["task"] == "regression":
        tolerance = PREDICTION_TOLERANCE * max(float(np.abs(expected["predictions"]).max()), 1.0)
        assert np.allclose(answer["predictions"], expected["predictions"], rtol=0, atol=tolerance)
        return
    assert answer["predictions"] == expected["predictions"]
    if "probabilities" in expected:
        assert np.allclose(answer["probabilities"], expected["probabilities"], rtol=0, atol=PROBABILITY_TOLERANCE)


def test_serving_runtime_chooses_and_a_model_without_onnx_falls_back(
    client: Client, model_copy: Path, manifest: dict, predict: Callable, settings: Settings
) -> None:
    settings.SERVING_RUNTIME = "sklearn"
    store.reset()
    described = client.get("/api/model").json()
    assert (described["runtime"], described["served_file"], described["served_sha256"]) == (
        "sklearn", "model.joblib", manifest["sha256"]
    )  # fmt: skip
    reason = "skl2onnx cannot convert it: a test's reason"
    model_copy.with_suffix(".onnx").unlink()
    files = {"model.joblib": manifest["sha256"]}
    fallback = manifest["onnx"] | {"status": "fallback", "reason": reason, "file": None, "outputs": None, "inputs": []}
    rewrite_manifest(model_copy, onnx=fallback, files=files)
    settings.SERVING_RUNTIME = "onnx"
    health = client.get("/api/health")
    assert health.status_code == 503 and health.json()["reason"] == (
        f"SERVING_RUNTIME is onnx but train did not export a checked ONNX model: {reason}"
    )
    assert predict().status_code == 503
    settings.SERVING_RUNTIME = "auto"
    assert predict().status_code == 200
    assert client.get("/api/model").json()["runtime"] == "sklearn"


def test_an_overflow_in_the_float32_graph_is_a_named_422_never_nan(
    client: Client, model_copy: Path, manifest: dict, inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = store.get().loaded
    session = loaded.session()

    def overflowing(outputs: list[str], feed: dict[str, Any]) -> list[np.ndarray]:
        """The real graph's answers, with row 1's overflowed as linear models do with huge numbers together."""
        (output,) = session.run(outputs, feed)
        output = output.astype(np.float32)
        output[1] = np.nan
        return [output]

    monkeypatch.setitem(loaded.sessions, os.getpid(), type("Session", (), {"run": staticmethod(overflowing)})())
    response = send(client, inputs)
    assert response.status_code == 422 and b"NaN" not in response.content
    problem = "these numbers together overflow the model's arithmetic: send smaller ones"
    field = "image[1]" if inputs.is_dir() else "instances[1]"
    assert response.json()["errors"] == [{"field": field, "message": problem}]


def test_an_unknown_serving_runtime_is_named(client: Client, model_copy: Path, settings: Settings) -> None:
    settings.SERVING_RUNTIME = "tensorflow"
    health = client.get("/api/health")
    assert health.status_code == 503
    assert health.json()["reason"] == "SERVING_RUNTIME must be one of auto, onnx, sklearn, not 'tensorflow'"


# The API's answer to rows (JSON) or image files (a folder), and predict_file over a file or folder.
SERVE_WITHOUT_SKLEARN = """
import json, sys
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client, inputs = Client(), Path(sys.argv[1])
if inputs.is_dir():
    answer = client.post("/api/predict/image", {"image": [path.open("rb") for path in sorted(inputs.iterdir())]})
else:
    rows = json.loads(inputs.read_text())
    answer = client.post("/api/predict", {"instances": rows}, content_type="application/json")
described = client.get("/api/model").json()
call_command("predict_file", sys.argv[2], sys.argv[3])
print(json.dumps({"status": answer.status_code, "runtime": described["runtime"],
                  "sklearn": sorted(name for name in sys.modules if name.split(".")[0] == "sklearn")}))
"""


def test_serving_from_onnx_never_imports_scikit_learn(
    model_copy: Path, manifest: dict, inputs: Path, trained: Path, tmp_path: Path
) -> None:
    """A fresh process (this one has scikit-learn loaded) answers a request and scores a file."""
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "SERVING_MODEL_PATH": str(model_copy),
        "SERVING_RUNTIME": "auto",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONPATH": os.pathsep.join([str(PROJECT), str(PROJECT / "src")]),
    }
    batch = inputs if inputs.is_dir() else trained / "data" / "prepared" / "test.parquet"
    command = [sys.executable, "-c", SERVE_WITHOUT_SKLEARN, str(inputs), str(batch), str(tmp_path / "out.csv")]
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["status"], result["runtime"], result["sklearn"]) == (200, "onnx", [])
    assert "(runtime onnx: model.onnx)" in done.stdout

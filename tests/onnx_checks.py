"""What every test of a trained project asserts about its ONNX copy: checked and described, or a clean fallback."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from conftest import Project

PROBABILITY_TOLERANCE = 1e-5  # modeling/export.py's: what train accepts


def checked(project: Project, output: str) -> dict[str, Any]:
    """Assert that train wrote a checked ONNX copy and said so; return the manifest's onnx section."""
    manifest = project.json("models/model.json")
    onnx = manifest["onnx"]
    assert onnx["status"] == "passed" and onnx["reason"] is None and onnx["file"] == "model.onnx", onnx["reason"]
    assert onnx["rows_checked"] == len(pd.read_parquet(project.path / "data/prepared/test.parquet"))
    if manifest["task"] == "classification":
        assert onnx["label_agreement"] == 1.0 and 0 <= onnx["max_probability_difference"] <= PROBABILITY_TOLERANCE
        assert onnx["outputs"]["probabilities"]
    else:
        assert onnx["label_agreement"] is None and 0 <= onnx["max_prediction_difference"] < 1e-3
    # every number in one float input, first; one input per other feature, in the manifest's order
    features = manifest["features"]
    numbers = [feature["name"] for feature in features if feature["kind"] == "number"]
    packed = [{"name": "numbers", "features": numbers, "kind": "numbers"}] if numbers else []
    others = [entry for entry in onnx["inputs"] if entry["kind"] != "numbers"]
    assert onnx["inputs"] == packed + others
    assert [entry["features"] for entry in others] == [[f["name"]] for f in features if f["kind"] != "number"]
    assert set(onnx["versions"]) == {"skl2onnx", "onnx", "onnxruntime"} and onnx["opset"] >= 9
    onnx_file = (project.path / "models" / "model.onnx").read_bytes()
    assert manifest["files"]["model.onnx"] == hashlib.sha256(onnx_file).hexdigest()
    assert manifest["files"]["model.joblib"] == manifest["sha256"]
    assert f"train: ONNX copy checked on {onnx['rows_checked']:,} rows" in output
    return onnx


def fell_back(project: Project, output: str) -> str:
    """Assert that train wrote no ONNX copy, said why in one line, and left the reason in the manifest."""
    manifest = project.json("models/model.json")
    onnx = manifest["onnx"]
    assert onnx["status"] == "fallback" and onnx["file"] is None and onnx["reason"]
    # empty, as dvc.yaml's output must exist: the manifest lists no hash for it and says why
    assert (project.path / "models" / "model.onnx").read_bytes() == b"" and "model.onnx" not in manifest["files"]
    assert f"train: no ONNX copy ({onnx['reason']}); serving uses the pickle" in output
    return onnx["reason"]

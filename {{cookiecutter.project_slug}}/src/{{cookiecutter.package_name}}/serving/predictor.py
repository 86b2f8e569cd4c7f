"""Turn validated rows into predictions with the loaded model: shared by the API and predict_file."""

from typing import Any

import numpy as np
import pandas as pd

from ..artifacts import LoadedModel


def model_info(manifest: dict[str, Any]) -> dict[str, str]:
    """The version and sha256 that identify a model to clients."""
    return {"version": manifest.get("version") or manifest["sha256"][:12], "sha256": manifest["sha256"]}


def to_frame(rows: list[dict[str, Any]], features: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as the DataFrame the pipeline was trained on: numbers as floats, categories as objects."""
    frame = pd.DataFrame.from_records(rows, columns=[f["name"] for f in features])
    for feature in features:
        column = frame[feature["name"]]
        if feature["kind"] == "number":
            frame[feature["name"]] = column.astype(float)
        else:  # None -> NaN: the imputer knows missing categories as NaN, as in training
            frame[feature["name"]] = column.astype(object).where(column.notna(), np.nan)
    return frame


def predict(loaded: LoadedModel, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Predictions (and class probabilities for classifiers) for rows already validated."""
    frame = to_frame(rows, loaded.manifest["features"])
    result: dict[str, Any] = {"predictions": loaded.model.predict(frame).tolist()}
    if loaded.manifest["task"] == "classification" and hasattr(loaded.model, "predict_proba"):
        result["probabilities"] = loaded.model.predict_proba(frame).round(6).tolist()
    result["model"] = model_info(loaded.manifest)
    return result

"""Turn validated rows into the API's JSON answer with the loaded model: shared by the API and predict_file."""

from typing import Any

import numpy as np
import pandas as pd

from ..data.images import pixel_columns
from ..data.schema import Feature
from ..formatting import DECIMALS
from ..modeling.predict import predict_once
from ..registry.artifacts import LoadedModel
from ..registry.manifest import Manifest


def model_info(manifest: Manifest) -> dict[str, str]:
    """The version and sha256 that identify a model to clients (the version as resolved at load time)."""
    return {"version": manifest.get("version") or manifest["sha256"][:12], "sha256": manifest["sha256"]}


def to_frame(rows: list[dict[str, Any]], features: list[Feature]) -> pd.DataFrame:
    """Rows as the DataFrame the pipeline was trained on: numbers as floats, categories and texts as objects.

    Built column by column with numpy, which is several times faster than pandas' per-row paths
    for the small batches an API sees; None becomes NaN, the missing value the imputers know.
    """
    columns = {}
    for feature in features:
        values = [row[feature["name"]] for row in rows]
        if feature["kind"] == "number":
            columns[feature["name"]] = np.array(values, dtype=float)
        elif feature["kind"] == "text":  # a missing text is the empty string, as in training
            columns[feature["name"]] = np.array(["" if v is None else v for v in values], dtype=object)
        else:
            columns[feature["name"]] = np.array([np.nan if v is None else v for v in values], dtype=object)
    return pd.DataFrame(columns)


def predict_rows(loaded: LoadedModel, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer for rows already validated: predictions, class probabilities for classifiers, the model."""
    return predicted(loaded, to_frame(rows, loaded.manifest["features"]))


def predict_images(loaded: LoadedModel, images: list[np.ndarray]) -> dict[str, Any]:
    """The answer for images read by data.images.load_image(), in their order: as predict_rows answers."""
    return predicted(loaded, pd.DataFrame(np.vstack(images), columns=pixel_columns(images[0].size)))


def predicted(loaded: LoadedModel, features: pd.DataFrame) -> dict[str, Any]:
    """Predictions, class probabilities for classifiers, and the model that answered."""
    predictions, probabilities = predict_once(loaded.model, features)
    result: dict[str, Any] = {"predictions": predictions.tolist()}
    if probabilities is not None:
        result["probabilities"] = probabilities.round(DECIMALS).tolist()
    return result | {"model": model_info(loaded.manifest)}

"""Turn validated rows into the API's JSON answer with the served runtime: shared by the API and predict_file."""

from typing import Any

import numpy as np

from ..errors import DataError
from ..formatting import DECIMALS
from ..registry.manifest import Manifest, Row
from .runtime import Runtime


class NotFinite(DataError):
    """The model's arithmetic overflowed on some rows: an answer never holds NaN or infinity."""

    def __init__(self, rows: list[int]) -> None:
        self.rows = rows  # their positions in the batch
        super().__init__("these numbers together overflow the model's arithmetic: send smaller ones")


def model_info(manifest: Manifest) -> dict[str, str]:
    """The version and sha256 that identify a model to clients (the version as resolved at load time)."""
    return {"version": manifest.get("version") or manifest["sha256"][:12], "sha256": manifest["sha256"]}


def predict_images(loaded: Runtime, images: list[np.ndarray]) -> dict[str, Any]:
    """The answer for images read by data.images.load_image(), in their order: as predict_rows answers."""
    name = loaded.manifest["features"][0]["name"]  # an image model's one feature
    return predict_rows(loaded, [{name: image} for image in images])


def predict_rows(loaded: Runtime, rows: list[Row]) -> dict[str, Any]:
    """The answer for rows already validated: predictions, class probabilities for classifiers, the model."""
    predictions, probabilities = loaded.predict(rows)
    numbers = probabilities if probabilities is not None else predictions if predictions.dtype.kind == "f" else None
    if numbers is not None and not np.isfinite(numbers).all():  # onnxruntime sums in float32, numbers beyond it
        raise NotFinite(np.flatnonzero(~np.isfinite(numbers.reshape(len(numbers), -1)).all(axis=1)).tolist())
    result: dict[str, Any] = {"predictions": predictions.tolist()}
    if probabilities is not None:  # float64 first: a float32 rounds to 0.12345699965953827
        result["probabilities"] = probabilities.astype(np.float64).round(DECIMALS).tolist()
    return result | {"model": model_info(loaded.manifest)}

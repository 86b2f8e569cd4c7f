"""The table kind's fallback runtime: the hash-verified pickle, over the DataFrame it was trained on.

Only a model whose ONNX copy failed its check (or SERVING_RUNTIME=sklearn) loads this module: it
needs pandas and scikit-learn, which the image of an ONNX-served model does not hold.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.images import pixel_columns
from ..registry.artifacts import load_model
from ..registry.manifest import Manifest, Row, image_feature
from ..registry.runtime import Runtime
from .modeling.predict import predict_once


@dataclass(frozen=True)
class SklearnRunner(Runtime):
    """The hash-verified pickle: the fallback for a model that did not convert (or SERVING_RUNTIME=sklearn)."""

    model: Any = None

    def predict(self, rows: list[Row]) -> tuple[np.ndarray, np.ndarray | None]:
        """The pipeline over the DataFrame it was trained on."""
        return predict_once(self.model, frame(rows, self.manifest))


def frame(rows: list[Row], manifest: Manifest) -> pd.DataFrame:
    """Rows as the pipeline's DataFrame: numbers as floats, categories and texts as objects, pixels by column.

    Built column by column with numpy, several times faster than pandas' per-row paths for the
    small batches an API sees; None (or a nullable feature left out) becomes NaN, the missing value
    the imputers know.
    """
    features = manifest["features"]
    if image := image_feature(features):
        pixels = np.vstack([row[image["name"]] for row in rows])
        return pd.DataFrame(pixels, columns=pixel_columns(image["pixels"]))
    data = {}
    for feature in features:
        values = [row.get(feature["name"]) for row in rows]
        if feature["kind"] == "number":
            data[feature["name"]] = np.array(values, dtype=float)
        elif feature["kind"] == "text":  # a missing text is the empty string, as in training
            data[feature["name"]] = np.array(["" if v is None else v for v in values], dtype=object)
        else:
            data[feature["name"]] = np.array([np.nan if v is None else v for v in values], dtype=object)
    return pd.DataFrame(data)


def sklearn_runner(path: Path) -> SklearnRunner:
    """The pickle at `path`, unpickled only after its sha256 matches the manifest."""
    loaded = load_model(path)
    return SklearnRunner(
        name="sklearn", manifest=loaded.manifest, file=path.name, sha256=loaded.manifest["sha256"], model=loaded.model
    )

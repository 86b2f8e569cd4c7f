"""The recommend kind's runtime: its verified arrays (models/model.npz), whatever SERVING_RUNTIME says."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelIntegrityError
from ..registry.manifest import Row
from ..registry.runtime import Runtime
from .artifact import load_recommender
from .ranking import Recommender


@dataclass(frozen=True)
class RecommenderRunner(Runtime):
    """A recommender's verified arrays (models/model.npz): it ranks items (modeling/ranking.py), predicts no rows."""

    recommender: Recommender | None = None

    def predict(self, rows: list[Row]) -> tuple[np.ndarray, np.ndarray | None]:
        raise ModelIntegrityError("a recommender ranks items: POST /api/recommend, GET /api/items/{item}/similar")


def load(path: Path, choice: str) -> Runtime:
    """The recommender's arrays beside `path`, verified: never the pickle, whatever `choice` says."""
    loaded = load_recommender(path)
    return RecommenderRunner("arrays", loaded.manifest, loaded.file, loaded.sha256, loaded.recommender)

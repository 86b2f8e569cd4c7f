"""The recommend kind's evaluate: the ranking metrics of the saved arrays, read as serving reads them."""

from typing import Any

from ..data.dtypes import read_parquet
from ..paths import MODEL_PATH, TEST_PATH
from .artifact import load_recommender
from .ranking_metrics import ranking_metrics

LIBRARIES = ("implicit", "numpy", "scipy", "pandas")
ESTIMATORS = {"popularity": "Popularity", "item_knn": "CosineRecommender", "als": "AlternatingLeastSquares"}
DEFAULT_K = 10


def evaluate() -> tuple[dict[str, Any], dict[str, Any]]:
    """The ranking metrics of the saved arrays, read through their hash check as serving reads them; no plots."""
    loaded = load_recommender(MODEL_PATH)
    return ranking_metrics(loaded.recommender, read_parquet(TEST_PATH), loaded.manifest["recommender"]["k"]), {}

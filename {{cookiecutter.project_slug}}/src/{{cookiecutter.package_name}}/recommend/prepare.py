"""The recommend kind's prepare: split each user's interactions into train and held-out."""

from typing import Any

from ..atomic import write_json
from ..data.prepared import check_tracked, write_parquet
from ..paths import ITEMS_PATH, PROFILE_PATH, TEST_PATH, TRAIN_PATH
from .interactions import prepare_interactions

LIBRARIES = ("implicit", "numpy", "scipy", "pandas")
ESTIMATORS = {"popularity": "Popularity", "item_knn": "CosineRecommender", "als": "AlternatingLeastSquares"}
DEFAULT_K = 10


def prepare(params: dict[str, Any]) -> None:
    """Split the interactions per user into train and held-out, keep the items' metadata, profile them."""
    check_tracked(params["data"].get("path"))
    check_tracked(params["data"].get("items"), key="items")
    train, test, items, data_profile = prepare_interactions(params["data"], params["prepare"])
    write_parquet(train, TRAIN_PATH)
    write_parquet(test, TEST_PATH)
    write_parquet(items, ITEMS_PATH)
    write_json(PROFILE_PATH, data_profile)
    print(f"prepare: {len(train)} train and {len(test)} held-out interactions of {data_profile['users']} users")

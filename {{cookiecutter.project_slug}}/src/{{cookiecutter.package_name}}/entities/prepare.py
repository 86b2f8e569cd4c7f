"""The entities kind's prepare: read the annotated texts, check them, split them."""

from typing import Any

from ..atomic import write_json
from ..data.prepared import check_tracked, write_parquet
from ..paths import PROFILE_PATH, TEST_PATH, TRAIN_PATH
from .annotations import prepare_entities

LIBRARIES = ("python-crfsuite", "seqeval", "pandas")
HIGHLIGHTED = 5  # held-out texts the report draws with their true and found entities


def prepare(params: dict[str, Any]) -> None:
    """Read the annotated texts, check their spans against the tokens, split them into train and held-out."""
    check_tracked(params["data"]["entities"], key="entities")
    train, test, data_profile = prepare_entities(params["data"], params["prepare"])
    write_parquet(train, TRAIN_PATH)
    write_parquet(test, TEST_PATH)
    write_json(PROFILE_PATH, data_profile)
    print(f"prepare: {len(train)} train and {len(test)} held-out texts, entities {data_profile['entities']}")

"""The entities kind's evaluate: entity scores of crfsuite's saved file, and a few texts for the site."""

from typing import Any

from ..atomic import write_json
from ..data.dtypes import read_parquet
from ..paths import ENTITY_EXAMPLES_PATH, MODEL_PATH, TEST_PATH, TRAIN_PATH
from .annotations import from_frame
from .artifact import load_tagger
from .metrics import entity_metrics

LIBRARIES = ("python-crfsuite", "seqeval", "pandas")
HIGHLIGHTED = 5  # held-out texts the report draws with their true and found entities


def evaluate() -> tuple[dict[str, Any], dict[str, Any]]:
    """The entity scores of crfsuite's saved file, read through its hash check as serving reads it; no plots.

    A few held-out texts with their true and found entities go to the site's Entities page.
    """
    loaded = load_tagger(MODEL_PATH)
    train, test = from_frame(read_parquet(TRAIN_PATH)), from_frame(read_parquet(TEST_PATH))
    examples = [
        {"text": text.text, "true": text.entities, "found": loaded.tagger.entities(text.text)}
        for text in sorted(test, key=lambda text: (-len(text.entities), len(text.text)))[:HIGHLIGHTED]
    ]
    write_json(ENTITY_EXAMPLES_PATH, examples)
    return entity_metrics(loaded.tagger, train, test), {}

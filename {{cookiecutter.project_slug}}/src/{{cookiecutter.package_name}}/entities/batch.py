"""`manage.py predict_file` for an entity tagger: the entities of each row's text."""

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.load import read_table
from ..errors import DataError
from ..serving.model_store import Served
from .runtime import TaggerRunner


def score(served: Served, path: Path, csv: dict[str, str], options: dict[str, Any]) -> pd.DataFrame:
    """Each row with the entities found in its --text column."""
    assert isinstance(served.loaded, TaggerRunner)  # kinds.py hands a tagger's model only here
    return tag_texts(served.loaded, read_table(path, csv, "--sep"), options["text"])


def tag_texts(loaded: TaggerRunner, frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each row with the entities of its text column, as the API's JSON list (an empty cell has none)."""
    if column not in frame.columns:
        raise DataError(f"no column {column!r} of texts: name it with --text; columns are {', '.join(frame.columns)}")
    assert loaded.tagger is not None  # a tagger's runtime holds it
    texts = frame[column].fillna("").map(str).tolist()
    found = [json.dumps(entities, ensure_ascii=False) for entities in loaded.tagger.tag_texts(texts)]
    return frame.assign(entities=found)

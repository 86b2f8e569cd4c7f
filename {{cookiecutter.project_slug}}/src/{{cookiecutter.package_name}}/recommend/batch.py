"""`manage.py predict_file` for a recommender: the top k items of every user in a file."""

from pathlib import Path
from typing import Any

import pandas as pd

from ..data.load import read_table
from ..errors import DataError
from ..serving.model_store import Served
from .answers import MAX_K
from .runtime import RecommenderRunner


def score(served: Served, path: Path, csv: dict[str, str], options: dict[str, Any]) -> pd.DataFrame:
    """A row per user and recommended item (--k of them, default train.k)."""
    assert isinstance(served.loaded, RecommenderRunner)  # kinds.py hands a recommender's model only here
    return recommend_users(served.loaded, read_table(path, csv, "--sep"), options["k"])


def recommend_users(loaded: RecommenderRunner, frame: pd.DataFrame, k: int | None) -> pd.DataFrame:
    """The top k items of every user of the file's user column (as data.interactions names it): a row per item."""
    settings = loaded.manifest["recommender"]
    column, k = str(settings["columns"]["user"]), k or settings["k"]
    if column not in frame.columns:
        raise DataError(f"the file lacks the user column {column!r} (data.interactions.user); "
                        f"columns are: {', '.join(map(str, frame.columns))}")  # fmt: skip
    if not 1 <= k <= MAX_K:
        raise DataError(f"--k must be from 1 to {MAX_K}, not {k}")
    assert loaded.recommender is not None  # a recommender's runtime holds its arrays
    rows: list[dict[str, Any]] = []
    for user in frame[column].dropna().unique().tolist():
        (positions, scores), fallback = loaded.recommender.for_visitor(k, user=user)
        for rank, item in enumerate(loaded.recommender.ranked(positions, scores), start=1):
            rows.append({column: user, "rank": rank, **item, "fallback": fallback or ""})
    return pd.DataFrame(rows)

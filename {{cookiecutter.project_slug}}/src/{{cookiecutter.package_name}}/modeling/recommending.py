"""The train and evaluate stages of a recommender (train.task: recommend): what train.py and evaluate.py call."""

import platform
import time
from dataclasses import replace
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

from ..data.dtypes import read_parquet
from ..paths import ITEMS_PATH, MODEL_PATH, TEST_PATH, TRAIN_PATH
from ..registry.artifacts import load_recommender, recommender_bytes, save_model
from .ranking import Recommender
from .ranking_metrics import ranking_metrics
from .recommenders import fit_recommender, hyperparams_of

LIBRARIES = ("implicit", "numpy", "scipy", "pandas")
ESTIMATORS = {"popularity": "Popularity", "item_knn": "CosineRecommender", "als": "AlternatingLeastSquares"}
DEFAULT_K = 10


def with_metadata(recommender: Recommender, items: pd.DataFrame) -> Recommender:
    """The recommender with each of its items' metadata (data.items) as text arrays, when there is some."""
    if items.columns.empty:
        return recommender
    table = items.reindex(pd.Index(recommender.items)).fillna("").astype(str)
    return replace(recommender, metadata_columns=np.asarray(table.columns, dtype=str), metadata=table.to_numpy(str))


def train_recommender(params: dict[str, Any], git_commit: str | None, data_hash: str) -> None:
    """Fit train.model on the training interactions, score it on the held-out ones, save arrays and manifest."""
    train_params = params["train"]
    model, k = train_params["model"], int(train_params.get("k") or DEFAULT_K)
    hyperparams = hyperparams_of(model, (train_params.get("hyperparams") or {}).get(model))
    interactions = read_parquet(TRAIN_PATH)
    print(f"train: fitting {model} on {len(interactions):,} interactions", flush=True)
    started = time.perf_counter()
    recommender = fit_recommender(model, interactions, hyperparams, train_params["seed"])
    seconds = time.perf_counter() - started
    recommender = with_metadata(recommender, read_parquet(ITEMS_PATH))
    manifest: dict[str, Any] = {
        "task": "recommend",
        "target": params["data"]["interactions"]["item"],  # what a recommender predicts: items
        "classes": None,
        "features": [],  # a recommender reads ids, not features
        "estimator": ESTIMATORS[model],
        "params": {"train": train_params, "prepare": params["prepare"]},
        "metrics": ranking_metrics(recommender, read_parquet(TEST_PATH), k),
        "search": None,
        "data": {
            "train_rows": len(interactions),
            "sha256": data_hash,
            "users": len(recommender.users),
            "items": len(recommender.items),
        },
        "recommender": {
            "model": model,
            "hyperparams": hyperparams,
            "k": k,
            "file": MODEL_PATH.with_suffix(".npz").name,
            "neighbors": int(recommender.neighbors.shape[1]),
            "metadata": [] if recommender.metadata_columns is None else recommender.metadata_columns.tolist(),
            "columns": dict(params["data"]["interactions"]),  # the export's names: predict_file reads its user column
        },
        "versions": {"python": platform.python_version(), **{lib: version(lib) for lib in LIBRARIES}},
        "git_commit": git_commit,
    }
    saved = save_model(recommender, manifest, MODEL_PATH, arrays=recommender_bytes(recommender))
    print(f"train: fitted in {seconds:.1f} s; ndcg@{k} {manifest['metrics'][f'ndcg_at_{k}']} "
          f"(popularity {manifest['metrics'][f'popularity_ndcg_at_{k}']}); sha256 {saved['sha256'][:12]}")  # fmt: skip


def evaluate_recommender() -> dict[str, Any]:
    """The ranking metrics of the saved arrays, read through their hash check as serving reads them."""
    loaded = load_recommender(MODEL_PATH)
    return ranking_metrics(loaded.recommender, read_parquet(TEST_PATH), loaded.manifest["recommender"]["k"])

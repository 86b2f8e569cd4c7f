"""The recommend kind's train: fit train.model on the interactions, score it, save its arrays."""

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..data.dtypes import read_parquet
from ..paths import ITEMS_PATH, MODEL_PATH, TEST_PATH, TRAIN_PATH
from ..registry.artifacts import save_model
from ..registry.provenance import data_hash, describe
from .artifact import SUFFIX, recommender_bytes
from .ranking import Recommender
from .ranking_metrics import ranking_metrics
from .recommenders import RECOMMENDERS, fit_recommender, hyperparams_of

LIBRARIES = ("implicit", "numpy", "scipy", "pandas")
ESTIMATORS = {"popularity": "Popularity", "item_knn": "CosineRecommender", "als": "AlternatingLeastSquares"}
DEFAULT_K = 10


def parameter_names(model: str) -> list[str]:
    """The hyperparameter names of recommender `model`: params.py's hints for a misspelt key."""
    return sorted(RECOMMENDERS.get(model, {}))


def with_metadata(recommender: Recommender, items: pd.DataFrame) -> Recommender:
    """The recommender with each of its items' metadata (data.items) as text arrays, when there is some."""
    if items.columns.empty:
        return recommender
    table = items.reindex(pd.Index(recommender.items)).fillna("").astype(str)
    return replace(recommender, metadata_columns=np.asarray(table.columns, dtype=str), metadata=table.to_numpy(str))


def train(params: dict[str, Any]) -> None:
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
    manifest = describe(
        params,
        task="recommend",
        target=params["data"]["interactions"]["item"],  # what a recommender predicts: items
        estimator=ESTIMATORS[model],
        metrics=ranking_metrics(recommender, read_parquet(TEST_PATH), k),
        data={
            "train_rows": len(interactions),
            "sha256": data_hash(interactions),
            "users": len(recommender.users),
            "items": len(recommender.items),
        },
        libraries=LIBRARIES,
        recommender={
            "model": model,
            "hyperparams": hyperparams,
            "k": k,
            "file": MODEL_PATH.with_suffix(SUFFIX).name,
            "neighbors": int(recommender.neighbors.shape[1]),
            "metadata": [] if recommender.metadata_columns is None else recommender.metadata_columns.tolist(),
            "columns": dict(params["data"]["interactions"]),  # the export's names: predict_file reads its user column
        },
    )
    saved = save_model(recommender, manifest, MODEL_PATH, (SUFFIX, recommender_bytes(recommender)))
    print(f"train: fitted in {seconds:.1f} s; ndcg@{k} {manifest['metrics'][f'ndcg_at_{k}']} "
          f"(popularity {manifest['metrics'][f'popularity_ndcg_at_{k}']}); sha256 {saved['sha256'][:12]}")  # fmt: skip

"""The recommenders by name (train.model for train.task: recommend), fitted into a Recommender's arrays.

- popularity: every visitor gets the most interacted-with items, the baseline the others must beat;
- item_knn: item-item cosine similarity of the user-item matrix (implicit's CosineRecommender);
- als: implicit-feedback matrix factorisation (implicit's AlternatingLeastSquares, Hu et al. 2008).
"""

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import PipelineError
from ..formatting import did_you_mean
from .ranking import Recommender, top_k

# Each model's hyperparameters (train.hyperparams.<model>) and their defaults.
RECOMMENDERS: dict[str, dict[str, Any]] = {
    "popularity": {},
    "item_knn": {"neighbors": 50},
    "als": {"factors": 8, "regularization": 1.0, "alpha": 10.0, "iterations": 15, "neighbors": 50},
}
BATCH = 512  # items whose similarities to all others are computed at once: bounds the memory of als' neighbours


def hyperparams_of(model: str, given: dict[str, Any] | None) -> dict[str, Any]:
    """The model's hyperparameters: its defaults updated by train.hyperparams.<model>, unknown names refused."""
    if model not in RECOMMENDERS:
        raise PipelineError(f"train.model {model!r} is not a recommender: use one of {', '.join(RECOMMENDERS)}")
    for key in given or {}:
        if key not in RECOMMENDERS[model]:
            allowed = ", ".join(RECOMMENDERS[model]) or "none"
            raise PipelineError(
                f"train.hyperparams.{model}: {key!r} is not one of its parameters ({allowed})"
                + did_you_mean(key, RECOMMENDERS[model])
            )
    return RECOMMENDERS[model] | dict(given or {})


def user_item_matrix(interactions: pd.DataFrame) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """The users x items matrix of interaction weights (a rating, else 1; repeats add up), and both id arrays."""
    users, user_codes = np.unique(interactions["user"].to_numpy(), return_inverse=True)
    items, item_codes = np.unique(interactions["item"].to_numpy(), return_inverse=True)
    weights = interactions["rating"].to_numpy(np.float32) if "rating" in interactions else np.ones(len(user_codes))
    matrix = sparse.csr_matrix(
        (weights.astype(np.float32), (user_codes, item_codes)), shape=(len(users), len(items)), dtype=np.float32
    )
    matrix.sum_duplicates()
    return matrix, plain(users), plain(items)


def plain(ids: np.ndarray) -> np.ndarray:
    """Ids as an array numpy saves without pickling: text ids as fixed-width strings, not objects."""
    return ids.astype(str) if ids.dtype == object else ids


def fit_recommender(model: str, interactions: pd.DataFrame, hyperparams: dict[str, Any], seed: int) -> Recommender:
    """Fit train.model on the training interactions; return the arrays that serve it."""
    matrix, users, items = user_item_matrix(interactions)
    k = int(hyperparams.get("neighbors", 0))
    neighbors, scores = np.full((len(items), k), -1, np.int32), np.zeros((len(items), k), np.float32)
    factors: dict[str, np.ndarray] = {}
    if model == "item_knn":
        neighbors, scores = item_neighbours(matrix, k)
    elif model == "als":
        user_factors, item_factors = als_factors(matrix, hyperparams, seed)
        neighbors, scores = factor_neighbours(item_factors, k)
        factors = {"user_factors": user_factors, "item_factors": item_factors}
    binary = matrix.copy()
    binary.data[:] = 1
    return Recommender(
        items=items,
        popularity=np.asarray(matrix.sum(axis=0), dtype=np.float32).ravel(),
        neighbors=neighbors,
        neighbor_scores=scores,
        users=users,
        history_indptr=binary.indptr.astype(np.int64),
        history_items=binary.indices.astype(np.int32),
        **factors,
    )


def item_neighbours(matrix: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each item's k most cosine-similar items, by implicit's item-item model (threaded C++)."""
    from implicit.nearest_neighbours import CosineRecommender

    knn = CosineRecommender(K=k + 1)  # + 1: an item is its own nearest neighbour, dropped below
    with warnings.catch_warnings():  # its own normalisation hands its C++ part a COO matrix, and warns of it
        warnings.filterwarnings("ignore", "Method expects CSR input")
        knn.fit(matrix, show_progress=False)
    similarity = knn.similarity.tocsr()
    similarity.setdiag(0)
    similarity.eliminate_zeros()
    return fixed_width(similarity, k)


def fixed_width(similarity: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A sparse similarity matrix as [items, k] arrays of neighbours and scores, best first, -1 padding."""
    neighbors, scores = np.full((similarity.shape[0], k), -1, np.int32), np.zeros((similarity.shape[0], k), np.float32)
    for row in range(similarity.shape[0]):
        start, end = similarity.indptr[row], similarity.indptr[row + 1]
        order = np.argsort(-similarity.data[start:end], kind="stable")[:k]
        neighbors[row, : len(order)] = similarity.indices[start:end][order]
        scores[row, : len(order)] = similarity.data[start:end][order]
    return neighbors, scores


def als_factors(matrix: sparse.csr_matrix, hyperparams: dict[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """User and item factors of implicit's alternating least squares, confidence 1 + alpha * weight."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):  # implicit threads itself; a threaded BLAS under it only contends
        als = AlternatingLeastSquares(
            factors=int(hyperparams["factors"]),
            regularization=float(hyperparams["regularization"]),
            alpha=float(hyperparams["alpha"]),
            iterations=int(hyperparams["iterations"]),
            random_state=seed,
        )
        als.fit(matrix, show_progress=False)
    return np.asarray(als.user_factors, np.float32), np.asarray(als.item_factors, np.float32)


def factor_neighbours(item_factors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each item's k nearest items by the cosine of their factors, BATCH items at a time."""
    norms = np.linalg.norm(item_factors, axis=1, keepdims=True)
    unit = item_factors / np.where(norms == 0, 1, norms)
    neighbors, scores = np.full((len(unit), k), -1, np.int32), np.zeros((len(unit), k), np.float32)
    for start in range(0, len(unit), BATCH):
        similarity = unit[start : start + BATCH] @ unit.T
        for offset, row in enumerate(similarity):
            best, best_scores = top_k(row, k, np.array([start + offset]))
            neighbors[start + offset, : len(best)], scores[start + offset, : len(best)] = best, best_scores
    return neighbors, scores

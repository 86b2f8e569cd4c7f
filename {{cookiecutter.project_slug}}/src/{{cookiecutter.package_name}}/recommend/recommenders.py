"""The recommenders by name (train.model for train.task: recommend), fitted into a Recommender's arrays.

- popularity: every visitor gets the most interacted-with items, the baseline the others must beat;
- item_knn: item-item cosine similarity of the user-item matrix (implicit's CosineRecommender);
- als: implicit-feedback matrix factorisation (implicit's AlternatingLeastSquares, Hu et al. 2008).
"""

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import PipelineError
from ..formatting import did_you_mean
from .ranking import Recommender

# Each model's hyperparameters (train.hyperparams.<model>) and their defaults.
RECOMMENDERS: dict[str, dict[str, Any]] = {
    "popularity": {},
    "item_knn": {"neighbors": 50},
    "als": {"factors": 8, "regularization": 1.0, "alpha": 10.0, "iterations": 15, "neighbors": 50},
}
BATCH = 128  # items whose similarities to all others are computed at once: bounds the memory of als' neighbours


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
    rows, users = positions(interactions["user"])
    columns, items = positions(interactions["item"])
    weights = interactions["rating"].to_numpy(np.float32) if "rating" in interactions else None
    if weights is None:
        weights = np.ones(len(rows), np.float32)
    pairs = sparse.coo_matrix((weights, (rows, columns)), shape=(len(users), len(items)), dtype=np.float32)
    del rows, columns, weights
    return pairs.tocsr(), users, items  # a repeat purchase adds up: it weighs more


def positions(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's position among the sorted distinct ids (32-bit: the matrix's index width), and those ids."""
    codes, distinct = pd.factorize(ids, sort=True)  # sorted: the same data gives the same arrays
    return codes.astype(np.int32), plain(np.asarray(distinct))


def plain(ids: np.ndarray) -> np.ndarray:
    """Ids as an array numpy saves without pickling: text ids as fixed-width strings, not objects."""
    return ids.astype(str) if ids.dtype == object else ids


def fit_recommender(model: str, interactions: pd.DataFrame, hyperparams: dict[str, Any], seed: int) -> Recommender:
    """Fit train.model on the training interactions; return the arrays that serve it."""
    matrix, users, items = user_item_matrix(interactions)
    popularity = np.asarray(matrix.sum(axis=0), dtype=np.float32).ravel()
    history = matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32, copy=False)  # each user's items
    k = int(hyperparams.get("neighbors", 0))
    neighbors, scores = np.full((len(items), k), -1, np.int32), np.zeros((len(items), k), np.float32)
    factors: dict[str, np.ndarray] = {}
    if model == "item_knn":
        neighbors, scores = item_neighbours(matrix, k)
    elif model == "als":
        user_factors, item_factors = als_factors(matrix, hyperparams, seed)
        neighbors, scores = factor_neighbours(item_factors, k)
        factors = {"user_factors": user_factors, "item_factors": item_factors}
    return Recommender(
        items=items,
        popularity=popularity,
        neighbors=neighbors,
        neighbor_scores=scores,
        users=users,
        history_indptr=history[0],
        history_items=history[1],
        **factors,
    )


def item_neighbours(matrix: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each item's k most cosine-similar items, by implicit's all-pairs top-k (threaded C++).

    It is what implicit's CosineRecommender fits, called without the scorer that model also builds
    (a second copy of the similarities, which serving here never uses): a third less memory.
    """
    from implicit.nearest_neighbours import all_pairs_knn

    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0), dtype=np.float64).ravel())
    unit = sparse.csr_matrix(  # each item's column of unit length: dot products are then cosines
        (matrix.data / np.where(norms == 0, 1, norms)[matrix.indices], matrix.indices, matrix.indptr), matrix.shape
    )
    similarity = all_pairs_knn(unit, k + 1, show_progress=False).tocsr()  # + 1: an item is its own nearest
    del unit
    return fixed_width(similarity, k)


def fixed_width(similarity: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A sparse similarity matrix as [items, k] arrays of neighbours and scores, best first, -1 padding.

    An item's similarity to itself is left out: it is no recommendation. Row by row: no copy of the whole.
    """
    neighbors, scores = np.full((similarity.shape[0], k), -1, np.int32), np.zeros((similarity.shape[0], k), np.float32)
    for row in range(similarity.shape[0]):
        start, end = similarity.indptr[row], similarity.indptr[row + 1]
        found, values = similarity.indices[start:end], similarity.data[start:end]
        keep = (found != row) & (values > 0)
        found, values = found[keep], values[keep]
        order = np.lexsort((found, -values))[:k]  # by similarity, ties by position: the same arrays every run
        neighbors[row, : len(order)], scores[row, : len(order)] = found[order], values[order]
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
    """Each item's k nearest items by the cosine of their factors (positive ones), BATCH items at a time."""
    norms = np.linalg.norm(item_factors, axis=1, keepdims=True)
    unit = item_factors / np.where(norms == 0, 1, norms)
    width = min(k, len(unit) - 1)
    neighbors, scores = np.full((len(unit), k), -1, np.int32), np.zeros((len(unit), k), np.float32)
    if width <= 0:
        return neighbors, scores
    for start in range(0, len(unit), BATCH):
        similarity = unit[start : start + BATCH] @ unit.T
        rows = np.arange(len(similarity))
        similarity[rows, start + rows] = -np.inf  # not itself
        best = np.sort(np.argpartition(-similarity, width - 1, axis=1)[:, :width], axis=1)  # ties: by position
        values = np.take_along_axis(similarity, best, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        best, values = np.take_along_axis(best, order, axis=1), np.take_along_axis(values, order, axis=1)
        positive = values > 0
        neighbors[start : start + len(rows), :width] = np.where(positive, best, -1)
        scores[start : start + len(rows), :width] = np.where(positive, values, 0)
    return neighbors, scores

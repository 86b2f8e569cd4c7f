"""Ranking metrics of a recommender on held-out interactions, and the same for the popularity baseline.

Each test user gets k recommendations from their training history (what they saw is never
recommended again); the held-out items are the relevant ones. Binary relevance, averaged over users:
precision@k, recall@k, MAP@k (average precision over min(k, relevant)), NDCG@k; coverage is the share
of the catalogue that appears in at least one user's list.
"""

from collections.abc import Iterator

import numpy as np
import pandas as pd

from ..formatting import rounded, table
from .ranking import Ranked, Recommender

NAMES = ("precision", "recall", "map", "ndcg")


def held_out(recommender: Recommender, test: pd.DataFrame) -> Iterator[tuple[int, np.ndarray]]:
    """(user position, relevant item positions) per test user that training knows.

    Items training never saw, and items the user already had in training (a repeat purchase), are
    left out: no recommender is asked to find them.
    """
    for user, items in test.groupby("user", sort=True)["item"]:
        position = recommender.user_position(user)
        if position is None:
            continue
        found = [p for item in items.unique() if (p := recommender.item_position(item)) is not None]
        relevant = np.setdiff1d(np.asarray(found, dtype=np.int64), recommender.history(position))
        if len(relevant):
            yield position, relevant


def recommend_for(recommender: Recommender, user: int, k: int, baseline: bool = False) -> Ranked:
    """What serving answers a training user (Recommender.for_visitor), or the popular items they have not seen."""
    if baseline:
        return recommender.popular(k, recommender.history(user))
    ranked, _ = recommender.for_visitor(k, user=recommender.users[user])
    return ranked


def ranking_metrics(recommender: Recommender, test: pd.DataFrame, k: int) -> dict[str, float | None]:
    """The model's metrics at k, its catalogue coverage, and the popularity baseline's, flat for metrics.json."""
    model, baseline = score_lists(recommender, test, k, False), score_lists(recommender, test, k, True)
    values = {f"{name}_at_{k}": model[name] for name in (*NAMES, "coverage")}
    values |= {f"popularity_{name}_at_{k}": baseline[name] for name in (*NAMES, "coverage")}
    values["users_evaluated"] = model["users"]
    return {name: value if name == "users_evaluated" else rounded(value) for name, value in values.items()}


def score_lists(recommender: Recommender, test: pd.DataFrame, k: int, baseline: bool) -> dict[str, float]:
    """The averages of each metric over the test users, for the model or the popularity baseline."""
    totals, recommended, users = dict.fromkeys(NAMES, 0.0), set(), 0
    discounts = 1 / np.log2(np.arange(2, k + 2))
    for user, relevant in held_out(recommender, test):
        best, _ = recommend_for(recommender, user, k, baseline)
        hits = np.isin(best, relevant).astype(float)
        found = hits.sum()
        totals["precision"] += found / k
        totals["recall"] += found / len(relevant)
        precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        totals["map"] += float((precision_at * hits).sum()) / min(k, len(relevant))
        ideal = discounts[: min(k, len(relevant))].sum()
        totals["ndcg"] += float((hits * discounts[: len(hits)]).sum()) / ideal
        recommended.update(best.tolist())
        users += 1
    averages = {name: total / users if users else float("nan") for name, total in totals.items()}
    return averages | {"coverage": len(recommended) / len(recommender.items), "users": users}


def lift_table(metrics: dict[str, float | None]) -> str | None:
    """The model's ranking metrics beside the popularity baseline's, and the lift; None for other metrics."""
    ks = sorted({name.rsplit("_at_", 1)[1] for name in metrics if name.startswith("popularity_") and "_at_" in name})
    if not ks:
        return None
    rows = []
    for name in (*NAMES, "coverage"):
        model, baseline = metrics.get(f"{name}_at_{ks[0]}"), metrics.get(f"popularity_{name}_at_{ks[0]}")
        lift = f"{model / baseline - 1:+.1%}" if model is not None and baseline else ""
        rows.append([f"{name}@{ks[0]}", model, baseline, lift])
    return table(["metric", "model", "popularity baseline", "lift"], rows)

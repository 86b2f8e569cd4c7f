"""The recommend kind: "you may also like" from interactions (user, item, rating, time).

interactions.py prepares them; recommenders.py fits popularity, item_knn or als into ranking.py's
Recommender; ranking_metrics.py scores it against popularity; prepare.py, train.py and evaluate.py
do the stages' work; artifact.py saves and reads its arrays (model.npz, never a pickle); runtime.py,
answers.py and router.py serve it; batch.py scores files; pages.py draws its site pages.
"""

from typing import Any

from ..errors import PipelineError

TASKS = ("recommend",)
MODELS = ("popularity", "item_knn", "als")
MONITORED = False  # ids, not features: nothing for the drift monitor to compare
NOT_MONITORED = (
    "the served model is a recommender: it reads ids, not features to compare with training; "
    "watch model_items_recommended_total by fallback in /metrics (unknown users and items) instead"
)
CLAIMS: dict[str, Any] = {
    "data": {"interactions": dict.fromkeys(("user", "item", "rating", "time")), "items": None},
    "prepare": dict.fromkeys(("holdout", "min_history")),
    "train": {"k": None},
}


def claims(params: dict[str, Any]) -> bool:
    """Whether the pipeline trains a recommender: data.interactions is set (train.task auto or recommend)."""
    interactions, task = (params.get("data") or {}).get("interactions"), (params.get("train") or {}).get("task", "auto")
    if task == "recommend" and not interactions:
        raise PipelineError("train.task recommend needs data.interactions: {user: <column>, item: <column>}")
    if interactions and task not in ("auto", "recommend"):
        raise PipelineError(f"data.interactions is set, so train.task must be auto or recommend, not {task!r}")
    return bool(interactions)

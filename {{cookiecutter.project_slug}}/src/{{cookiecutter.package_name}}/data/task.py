"""The task, classification, regression, recommend or entities: one rule for prepare, the data profile and train."""

from typing import Any

import pandas as pd

from ..errors import PipelineError

TASKS = ("classification", "regression")
RECOMMEND = "recommend"  # interactions (data.interactions), not a target column
ENTITIES = "entities"  # annotated texts (data.entities): a tagger of people, places, ...
# A numeric target with at most this many distinct values is taken for class labels.
MAX_CLASSES = 20


def infer_task(target: pd.Series, task: str = "auto") -> str:
    """Return train.task when it names one; for 'auto', infer it: text, booleans and few integers are classes."""
    if task in TASKS:
        return task
    if task != "auto":
        raise PipelineError(f"train.task {task!r} is not one of auto, {', '.join(TASKS)}, {RECOMMEND}, {ENTITIES}")
    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return "classification"
    if pd.api.types.is_integer_dtype(target) and target.nunique() <= MAX_CLASSES:
        return "classification"
    return "regression"


def recommends(params: dict[str, Any]) -> bool:
    """Whether the pipeline trains a recommender: data.interactions is set (train.task auto or recommend)."""
    interactions, task = (params.get("data") or {}).get("interactions"), (params.get("train") or {}).get("task", "auto")
    if task == RECOMMEND and not interactions:
        raise PipelineError("train.task recommend needs data.interactions: {user: <column>, item: <column>}")
    if interactions and task not in ("auto", RECOMMEND):
        raise PipelineError(f"data.interactions is set, so train.task must be auto or recommend, not {task!r}")
    return bool(interactions)


def tags_entities(params: dict[str, Any]) -> bool:
    """Whether the pipeline trains an entity tagger: data.entities is set (train.task auto or entities)."""
    entities, task = (params.get("data") or {}).get("entities"), (params.get("train") or {}).get("task", "auto")
    if task == ENTITIES and not entities:
        raise PipelineError("train.task entities needs data.entities: the JSONL or CoNLL file of annotated texts")
    if entities and task not in ("auto", ENTITIES):
        raise PipelineError(f"data.entities is set, so train.task must be auto or entities, not {task!r}")
    return bool(entities)

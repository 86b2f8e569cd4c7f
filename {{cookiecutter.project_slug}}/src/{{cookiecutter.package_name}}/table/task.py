"""The task of a table, classification or regression: one rule for prepare, the data profile and train."""

import pandas as pd

from ..errors import PipelineError
from . import TASKS

# A numeric target with at most this many distinct values is taken for class labels.
MAX_CLASSES = 20


def infer_task(target: pd.Series, task: str = "auto") -> str:
    """Return train.task when it names one; for 'auto', infer it: text, booleans and few integers are classes."""
    if task in TASKS:
        return task
    if task != "auto":
        raise PipelineError(f"train.task {task!r} is not one of auto, {', '.join(TASKS)}")
    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return "classification"
    if pd.api.types.is_integer_dtype(target) and target.nunique() <= MAX_CLASSES:
        return "classification"
    return "regression"

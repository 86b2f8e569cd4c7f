"""The manifest keys every kind writes alike, built once: what was trained, from which data and code."""

import hashlib
import platform
from importlib.metadata import version
from typing import Any

import pandas as pd

from .git import git


def data_hash(frame: pd.DataFrame) -> str:
    """A SHA-256 of the training rows' content, independent of the file format."""
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()


def git_commit() -> str | None:
    """The commit the code was trained from, or None outside a git repository."""
    result = git("rev-parse", "HEAD", check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def describe(
    params: dict[str, Any],
    *,
    task: str,
    target: str,
    estimator: str,
    metrics: dict[str, Any],
    data: dict[str, Any],
    libraries: tuple[str, ...],
    classes: list[Any] | None = None,
    features: list[Any] | None = None,
    search: dict[str, Any] | None = None,
    **section: Any,
) -> dict[str, Any]:
    """A manifest's content (registry/manifest.py's Manifest, less the file hashes save_model adds).

    `section` is the kind's own part (a recommender's `recommender`, a tagger's `tagger`).
    """
    return {
        "task": task,
        "target": target,
        "classes": classes,
        "features": features or [],
        "estimator": estimator,
        "params": {"train": params["train"], "prepare": params["prepare"]},
        "metrics": metrics,
        "search": search,
        "data": data,
        **section,
        "versions": {"python": platform.python_version(), **{lib: version(lib) for lib in libraries}},
        "git_commit": git_commit(),
    }

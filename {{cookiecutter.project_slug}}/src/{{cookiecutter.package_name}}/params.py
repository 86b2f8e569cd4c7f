"""Read the pipeline parameters that DVC tracks in params.yaml, refusing a key the pipeline does not know."""

import difflib
from pathlib import Path
from typing import Any

import yaml

from .errors import PipelineError

PARAMS_FILE = Path("params.yaml")
DVC_FILE = Path("dvc.yaml")
MODELS = ("random_forest", "gradient_boosting", "hist_gradient_boosting", "linear")
ANY = None  # a leaf: any value; a dict: the keys it may hold; FREE: keys checked elsewhere
FREE: dict[str, Any] = {}
# Every key of params.yaml. train.hyperparams.<model> and train.search.space hold the estimator's
# own parameter names: models.py and search.py check them against scikit-learn.
KNOWN: dict[str, Any] = {
    "data": dict.fromkeys(("dataset", "path", "sep", "decimal", "target", "categorical", "drop")),
    "prepare": dict.fromkeys(("split", "seed", "float32")),
    "train": {
        **dict.fromkeys(("task", "model", "seed", "backend")),
        "hyperparams": {model: FREE for model in MODELS},
        "search": {**dict.fromkeys(("method", "cv", "iterations", "scoring")), "space": FREE},
        "dask": dict.fromkeys(("scheduler", "workers", "timeout")),
    },
}


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Return params.yaml as a dict, after checking that every key in it is one the pipeline reads."""
    params = yaml.safe_load(path.read_text()) or {}
    model = str((params.get("train") or {}).get("model", "")) if isinstance(params, dict) else ""
    check_keys(params, {**dict.fromkeys(own_sections(path.parent / DVC_FILE), FREE), **KNOWN}, model=model)
    return params


def own_sections(dvc_file: Path) -> list[str]:
    """The params.yaml sections that the user's own stages in dvc.yaml read (docs/howto/add-stage.md)."""
    if not dvc_file.is_file():
        return []
    stages = (yaml.safe_load(dvc_file.read_text()) or {}).get("stages") or {}
    names = []
    for stage in stages.values():
        for entry in (stage or {}).get("params") or []:
            names += [str(entry).split(".")[0]] if isinstance(entry, str) else []
    return names


def check_keys(params: Any, known: dict[str, Any], prefix: str = "", model: str = "") -> None:
    """Raise a PipelineError naming the first unknown key and the closest known one."""
    if not isinstance(params, dict) or known is FREE:
        return
    for key, value in params.items():
        name = f"{prefix}{key}"
        if key not in known:
            raise PipelineError(f"params.yaml: unknown key {name}{suggestion(name, str(key), model)}")
        if isinstance(known[key], dict):
            check_keys(value, known[key], f"{name}.", model)


def suggestion(name: str, key: str, model: str = "") -> str:
    """' (did you mean train.search.cv?)': the known key spelled closest to `key`, at any level."""
    paths = known_paths(KNOWN)
    close = difflib.get_close_matches(name, paths, n=1, cutoff=0.8)
    if not close:  # a key at the wrong level: match its last part, the trained model's parameters first
        by_last: dict[str, str] = {}
        for path in sorted(paths, key=lambda path: f"hyperparams.{model}." not in path):
            by_last.setdefault(path.rsplit(".", 1)[-1], path)
        leaf = difflib.get_close_matches(key, by_last, n=1, cutoff=0.8)
        close = [by_last[leaf[0]]] if leaf else []
    return f" (did you mean {close[0]}?)" if close else ""


def known_paths(known: dict[str, Any], prefix: str = "") -> list[str]:
    """Every dotted key of `known`, sections included, with the default estimators' parameter names."""
    paths = []
    for key, value in known.items():
        paths.append(f"{prefix}{key}")
        if value is FREE and prefix == "train.hyperparams.":
            paths += [f"{prefix}{key}.{name}" for name in estimator_params(key)]
        elif isinstance(value, dict):
            paths += known_paths(value, f"{prefix}{key}.")
    return paths


def estimator_params(model: str) -> list[str]:
    """The scikit-learn parameter names of `model` (classifier and regressor)."""
    from .models import ESTIMATORS  # here: params.py is read by every stage, scikit-learn only by some

    names = {name for cls in ESTIMATORS[model].values() for name in cls().get_params()}
    return sorted(names)


def model_hyperparams(train: dict[str, Any]) -> dict[str, Any]:
    """train.hyperparams.<train.model>: the hyperparameters of the model being trained."""
    return dict((train.get("hyperparams") or {}).get(train.get("model")) or {})

"""Read the pipeline parameters that DVC tracks in params.yaml, refusing a key the pipeline does not know."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from . import kinds
from .errors import PipelineError
from .formatting import closest
from .paths import DVC_FILE, PARAMS_FILE

# In KNOWN a None is a leaf (any value), a dict the keys it may hold, and FREE keys checked elsewhere.
FREE: dict[str, Any] = {}
# The scikit-learn parameter names of a model named in train.model (a kind's parameter_names).
EstimatorParams = Callable[[str], list[str]]
# The keys every kind shares; each kind adds its own (its CLAIMS, kinds.claims()). train.hyperparams.<model>
# and train.search.space hold the estimator's own parameter names, which the kind checks itself.
SHARED: dict[str, Any] = {
    "data": dict.fromkeys(("path", "sep", "decimal")),
    "prepare": {"seed": None},
    "train": {**dict.fromkeys(("task", "model", "seed")), "hyperparams": {}},
    "monitor": dict.fromkeys(
        ("window", "min_rows", "p_value", "distance", "quality_metric", "min_labels", "max_drop", "max_mae_increase")
    ),
}


def known_keys() -> dict[str, Any]:
    """Every key of params.yaml this project reads: the shared ones and the present kinds' claims."""
    known = {section: dict(keys) for section, keys in SHARED.items()}
    for section, keys in kinds.claims().items():
        known[section] = {**known.get(section, {}), **keys}
    known["train"]["hyperparams"] = {model: FREE for model in kinds.models()}
    return known


def load_params(
    path: Path = PARAMS_FILE, sections: tuple[str, ...] = tuple(SHARED), estimator_params: EstimatorParams | None = None
) -> dict[str, Any]:
    """Return params.yaml as a dict, after checking that every key of `sections` is one the pipeline reads.

    A stage checks the sections it reads (prepare: data and prepare), so that its code needs no
    estimator; `estimator_params` (the train stage's) adds the estimators' own names to the hints.
    """
    params = yaml.safe_load(path.read_text()) or {}
    model = str((params.get("train") or {}).get("model", "")) if isinstance(params, dict) else ""
    every = known_keys()
    known = {key: value if key in sections else FREE for key, value in every.items()}
    hints = known_paths(every, estimator_params=estimator_params)
    check_keys(params, {**dict.fromkeys(own_sections(path.parent / DVC_FILE), FREE), **known}, hints, model=model)
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


def check_keys(params: Any, known: dict[str, Any], hints: list[str], prefix: str = "", model: str = "") -> None:
    """Raise a PipelineError naming the first unknown key and the closest of the `hints` (dotted keys)."""
    if not isinstance(params, dict) or known is FREE:
        return
    for key, value in params.items():
        name = f"{prefix}{key}"
        if key not in known:
            raise PipelineError(f"params.yaml: unknown key {name}{suggestion(name, str(key), hints, model)}")
        if isinstance(known[key], dict):
            check_keys(value, known[key], hints, f"{name}.", model)


def suggestion(name: str, key: str, paths: list[str], model: str = "") -> str:
    """' (did you mean train.search.cv?)': the known key spelled closest to `key`, at any level."""
    close = closest(name, paths, cutoff=0.8)
    if not close:  # a key at the wrong level: match its last part, the trained model's parameters first
        by_last: dict[str, str] = {}
        for path in sorted(paths, key=lambda path: f"hyperparams.{model}." not in path):
            by_last.setdefault(path.rsplit(".", 1)[-1], path)
        leaf = closest(key, by_last, cutoff=0.8)
        close = by_last[leaf] if leaf else None
    return f" (did you mean {close}?)" if close else ""


def known_paths(known: dict[str, Any], prefix: str = "", estimator_params: EstimatorParams | None = None) -> list[str]:
    """Every dotted key of `known`, sections included, with the estimators' parameter names when given."""
    paths = []
    for key, value in known.items():
        paths.append(f"{prefix}{key}")
        if value is FREE and prefix == "train.hyperparams.":
            paths += [f"{prefix}{key}.{name}" for name in (estimator_params(key) if estimator_params else [])]
        elif isinstance(value, dict):
            paths += known_paths(value, f"{prefix}{key}.", estimator_params)
    return paths


def model_hyperparams(train: dict[str, Any]) -> dict[str, Any]:
    """train.hyperparams.<train.model>: the hyperparameters of the model being trained."""
    return dict((train.get("hyperparams") or {}).get(train.get("model")) or {})

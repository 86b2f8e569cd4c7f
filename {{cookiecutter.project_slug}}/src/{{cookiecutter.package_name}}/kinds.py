"""The task kinds this project holds, found by name: one folder each, behind the same small interface.

A kind's folder (table/, recommend/, entities/) holds everything of that kind: its `__init__.py`
says what it claims of params.yaml (CLAIMS, MODELS, TASKS, MONITORED, claims()), and its modules
{%- if cookiecutter.use_django == "yes" %}
`prepare`, `train` and `evaluate` (the stages' work), `runtime` (load), `router` (the django-ninja
endpoints), `batch` (predict_file), `pages` (site pages, PR-report tables) and `example` (how the
example app uses it) do the rest.
{%- else %}
`prepare`, `train` and `evaluate` (the stages' work) and `pages` (site pages, PR-report tables) do
the rest.
{%- endif %}
Shared layers never import a kind: they ask here, by name, so a bake that holds one kind imports
nothing of the others (the post-generation hook removed their folders). docs/architecture.md
walks through adding one.
"""

import importlib
from importlib.util import find_spec
from types import ModuleType
from typing import Any

from .errors import ModelIntegrityError, PipelineError

# Asked in this order whether the params claim them: the table last, the kind of any data with a target.
NAMES = ("recommend", "entities", "table")


def present() -> list[str]:
    """The kinds this project holds: the folders the post-generation hook kept."""
    return [name for name in NAMES if find_spec(f"{__package__}.{name}") is not None]


def kinds() -> list[ModuleType]:
    """Each present kind's package: its interface constants and claims(), cheap to import."""
    return [importlib.import_module(f"{__package__}.{name}") for name in present()]


def part(kind: ModuleType, module: str) -> ModuleType:
    """One module of a kind: `prepare`, `train`, `evaluate`, `pages`{% if cookiecutter.use_django == "yes" %}, `runtime`, `router`, `batch` or `example`{% endif %}."""
    return importlib.import_module(f"{kind.__name__}.{module}")


def for_params(params: dict[str, Any]) -> ModuleType:
    """The kind that trains on what params.yaml names (its claims() may refuse a contradiction by name)."""
    for kind in kinds():
        if kind.claims(params):
            return kind
    task = (params.get("train") or {}).get("task", "auto")
    tasks = ", ".join(["auto", *(task for kind in kinds() for task in kind.TASKS)])
    raise PipelineError(f"train.task {task!r} is not one of {tasks}: the tasks of this project's kinds")


def for_task(task: str | None) -> ModuleType:
    """The kind that answers a manifest's task; ModelIntegrityError when this project holds none."""
    for kind in kinds():
        if task in kind.TASKS:
            return kind
    raise ModelIntegrityError(
        f"the model is a {task} model, but this project holds no kind for it ({', '.join(present())}): "
        "retrain it with `dvc repro`"
    )


def claims() -> dict[str, Any]:
    """Every params.yaml key the present kinds read, merged section by section (params.KNOWN's kind part)."""
    merged: dict[str, Any] = {}
    for kind in kinds():
        for section, keys in kind.CLAIMS.items():
            merged[section] = {**merged.get(section, {}), **keys}
    return merged


def models() -> tuple[str, ...]:
    """Every train.model name of the present kinds: each kind lists its own once, in MODELS."""
    return tuple(name for kind in kinds() for name in kind.MODELS)


def parameter_names(model: str) -> list[str]:
    """The parameter names of train.model `model`, from its kind (params.py's hints for a misspelt key)."""
    for kind in kinds():
        if model in kind.MODELS:
            names: list[str] = part(kind, "train").parameter_names(model)
            return names
    return []

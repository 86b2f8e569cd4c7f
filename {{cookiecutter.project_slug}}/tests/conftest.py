"""Shared fixtures: a scratch copy of the project's inputs to run stages in, and a trained model."""

{% if cookiecutter.use_django == "yes" -%}
import json
{% endif -%}
import shutil
{%- if cookiecutter.use_django == "yes" %}
from collections.abc import Callable, Iterator
{%- else %}
from collections.abc import Callable
{%- endif %}
from pathlib import Path
from typing import Any

import pytest
import yaml
{%- if cookiecutter.use_django == "yes" %}
from pytest_django.fixtures import Settings
{%- endif %}

PROJECT = Path(__file__).resolve().parents[1]


def table_params() -> dict[str, Any]:
    """This project's params.yaml, as a dict a test may change."""
    return dict(yaml.safe_load((PROJECT / "params.yaml").read_text()))


def copy_inputs(target: Path) -> None:
    """Copy params.yaml, dvc.yaml (whose stages may read params.yaml sections of your own) and the raw data."""
    shutil.copy(PROJECT / "params.yaml", target)
    shutil.copy(PROJECT / "dvc.yaml", target)
    if (PROJECT / "data" / "raw").is_dir():
        shutil.copytree(PROJECT / "data" / "raw", target / "data" / "raw")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder holding params.yaml and the raw data, made the working directory."""
    copy_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_stages(folder: Path) -> Path:
    """Run prepare, train and evaluate in `folder` (its params.yaml and data), as `dvc repro` would."""
    from {{ cookiecutter.package_name }} import evaluate, prepare, train

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        prepare.main()
        train.main()
        evaluate.main()
    return folder


@pytest.fixture(scope="session")
def stages() -> Callable[[Path], Path]:
    """run_stages, for a test module that trains a model of its own."""
    return run_stages


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where the pipeline has run once: models/, metrics/, data/prepared/. Read it, never change it."""
    folder = tmp_path_factory.mktemp("trained")
    copy_inputs(folder)
    return run_stages(folder)


{%- if cookiecutter.__kind == "recommend" %}


@pytest.fixture(scope="session")
def recommender_trained(trained: Path) -> Path:
    """The trained folder of this project's recommender."""
    return trained
{%- endif %}
{%- if cookiecutter.__kind == "entities" %}


@pytest.fixture(scope="session")
def tagger_trained(trained: Path) -> Path:
    """The trained folder of this project's entity tagger."""
    return trained
{%- endif %}


def working_copy(folder: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of a trained folder at `target`, made the working directory: cheaper than running the stages."""
    shutil.copytree(folder, target)
    monkeypatch.chdir(target)
    return target


@pytest.fixture
def trained_workdir(trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the trained folder, made the working directory."""
    return working_copy(trained, tmp_path / "trained", monkeypatch)
{%- if cookiecutter.use_django == "yes" %}


@pytest.fixture
def runtime() -> str:
    """The SERVING_RUNTIME the store serves: auto (model.onnx when train's check passed); a module may override it."""
    return "auto"


@pytest.fixture(scope="session")
def table_trained(trained: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained table model for the tests of JSON rows: this project's, or for an image project one trained
    on scikit-learn's breast_cancer set, so that every project tests both kinds of serving."""
    if json.loads((trained / "models" / "model.json").read_text())["features"][0]["kind"] != "image":
        return trained
    folder = tmp_path_factory.mktemp("table")
    params = table_params()
    params["data"] = {"dataset": "breast_cancer", "target": "target"}
    params["train"]["model"] = "random_forest"
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    return run_stages(folder)


@pytest.fixture
def serving_project(trained: Path) -> Path:
    """The trained folder whose model model_copy serves: this project's; the table-row modules take table_trained."""
    return trained


@pytest.fixture
def model_copy(serving_project: Path, tmp_path: Path, settings: Settings, runtime: str) -> Iterator[Path]:
    """A private copy of the trained model that the served store uses, under `runtime`; tests may break it."""
    from {{ cookiecutter.package_name }}.serving.model_store import store

    check = json.loads((serving_project / "models" / "model.json").read_text()).get("onnx") or {}
    if runtime == "onnx" and check.get("status") != "passed":
        pytest.skip(f"this model has no checked ONNX copy: {check.get('reason')}")
    shutil.copytree(serving_project / "models", tmp_path / "models")
    settings.SERVING_MODEL_PATH = tmp_path / "models" / "model.joblib"
    settings.SERVING_RUNTIME = runtime
    store.reset()
    yield settings.SERVING_MODEL_PATH
    store.reset()
{%- endif %}

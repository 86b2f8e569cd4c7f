"""Bake projects with pytest-cookies and run commands inside them with this environment's tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Let `--dist loadgroup` see the xdist_group marks with this environment's pytest (9.2).

    pytest-xdist (3.8) puts a test's group into its node id by setting `item._nodeid`, but this pytest reads
    the node id from `item._id`: the group was lost and every test was scheduled alone, so a module's fixtures
    were built again on each worker and after each interleaved test. Carry the grouped id over (a no-op
    where xdist's own renaming works, and without xdist).
    """
    for item in items:
        grouped = getattr(item, "_nodeid", None)
        node_id = getattr(item, "_id", None)
        if isinstance(grouped, str) and node_id is not None and str(node_id) != grouped:
            item._id = type(node_id).parse(grouped)


def require(tool: str | None, missing: str) -> str:
    """The tool's path; without it, skip the test, or fail it under CI, which must install every tool."""
    if tool:
        return tool
    if os.environ.get("CI"):
        pytest.fail(f"{missing}, and CI is set: CI must install it")
    pytest.skip(missing)


def clone_template(tmp_path: Path) -> Path:
    """A git clone of the template with this working tree's files committed on top: a fresh clone to bake from."""
    clone = tmp_path / "template"
    subprocess.run(["git", "clone", "--quiet", str(TEMPLATE), str(clone)], check=True, capture_output=True)
    shutil.copytree(TEMPLATE, clone, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "node_modules", "build", "site", ".pytest_cache", ".ruff_cache", "__pycache__"))  # fmt: skip
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "add", "--all"], cwd=clone, check=True)
    subprocess.run(["git", *identity, "commit", "-qm", "the working tree", "--allow-empty"], cwd=clone, check=True)
    return clone


def link_venv(project: Path) -> None:
    """Stand this environment in for the project's `.venv` (what `make install` makes), if it has none.

    The package itself comes from PYTHONPATH (see `Project.env`); tests of a real install use a real venv.
    """
    venv = project / ".venv"
    if not venv.exists() and not venv.is_symlink():
        venv.symlink_to(BIN.parent, target_is_directory=True)


class Project:
    """A baked project and the commands to run in it."""

    def __init__(self, path: Path, context: dict[str, Any]) -> None:
        self.path = path
        self.context = context
        self.package = context["package_name"]
        link_venv(path)

    def env(self) -> dict[str, str]:
        """This interpreter's tools first on PATH and the package importable, like an installed project."""
        return {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(self.path / "src"),
            "DVC_NO_ANALYTICS": "1",
            "NO_MKDOCS_2_WARNING": "1",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
        }

    def run(
        self, *command: str, check: bool = True, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project (`stdin` its input); fail the test with its output when `check` and it fails."""
        result = subprocess.run(
            command, cwd=self.path, env=env or self.env(), input=stdin, capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            pytest.fail(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run DVC in the project."""
        return self.run(str(BIN / "dvc"), *args, check=check)

    def copy(self, target: Path) -> Project:
        """A private copy of this project (git, DVC cache and outputs too): far cheaper than a bake and a repro."""
        shutil.copytree(self.path, target, symlinks=True)
        return type(self)(target, self.context)

    def add_origin(self, folder: Path) -> Path:
        """A new bare repository in `folder`, added as this project's `origin` (nothing pushed yet)."""
        origin = folder / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
        self.run("git", "remote", "add", "origin", str(origin))
        return origin

    def copy_with_origin(self, origin: Path, target: Path) -> tuple[Project, Path]:
        """A private copy of this project and of its bare origin, set as the copy's `origin`: one test pushes there."""
        origin_copy = target / "origin.git"
        shutil.copytree(origin, origin_copy, symlinks=True)
        copied = self.copy(target / self.path.name)
        copied.run("git", "remote", "set-url", "origin", str(origin_copy))
        return copied, origin_copy

    def json(self, relative: str) -> Any:
        """Read a JSON file of the project."""
        return json.loads((self.path / relative).read_text())

    def set_params(self, section: str, **values: object) -> None:
        """Change values of one params.yaml section."""
        path = self.path / "params.yaml"
        params = yaml.safe_load(path.read_text())
        params[section].update(values)
        path.write_text(yaml.safe_dump(params, sort_keys=False))

    def commit_all(self, message: str) -> None:
        """Stage everything and commit it."""
        self.run("git", "add", "-A")
        self.run("git", "commit", "-qm", message)

    def ran_stages(self, output: str) -> list[str]:
        """The stages a `dvc repro` output says it ran."""
        return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def baker(cookies: Any) -> Callable[..., Project]:
    """A function that bakes the template with some answers and fails the test unless the bake succeeds."""

    def _bake(**answers: str) -> Project:
        result = cookies.bake(extra_context=answers)
        assert result.exception is None, result.exception
        assert result.exit_code == 0
        return Project(Path(result.project_path), result.context)

    return _bake


@pytest.fixture
def bake(cookies: Any) -> Callable[..., Project]:
    """Bake a fresh project for one test (for tests that change it)."""
    return baker(cookies)


@pytest.fixture(scope="session")
def bake_shared(cookies_session: Any) -> Callable[..., Project]:
    """Bake a project shared by the tests of a session (for tests that only read it)."""
    return baker(cookies_session)


@pytest.fixture(scope="session")
def digits_demo(bake_shared: Callable[..., Project]) -> tuple[Project, str]:
    """The digits demo (with Django, which its report mentions) after its first `dvc repro`, and what that printed.

    Shared by tests/test_images.py and tests/test_image_report.py (one xdist group, so one worker trains it once):
    read it, never change it (the report tests build its site).
    """
    project = bake_shared(project_name="Digits", dataset="digits", use_django="yes")
    return project, project.dvc("repro").stdout

"""The baked package type-checks: `make lint`'s mypy, with the project's own settings, passes on a bake."""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Callable

import pytest

from conftest import BIN, Project


def make_recipe(project: Project, target: str) -> list[str]:
    """The commands of one target of the baked Makefile, as written there."""
    lines = (project.path / "Makefile").read_text().splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


@pytest.mark.parametrize("use_django", ["yes", "no"])
def test_the_package_passes_mypy(bake_shared: Callable[..., Project], use_django: str) -> None:
    project = bake_shared(project_name=f"Typed {use_django}", use_django=use_django)
    dev = tomllib.loads((project.path / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert any(dependency.startswith("mypy") for dependency in dev)
    # Run what `make lint` runs, with this environment's mypy: the settings are the project's [tool.mypy].
    command = next(line for line in make_recipe(project, "lint") if line.startswith("$(BIN)/mypy"))
    result = project.run(str(BIN / "mypy"), *shlex.split(command)[1:], check=False)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"

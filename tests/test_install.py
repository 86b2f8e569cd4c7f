"""The baked README's commands word for word in a fresh virtual environment: catches a missing dependency."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import pytest

from conftest import Project


@pytest.mark.slow
def test_make_install_then_repro_test_and_lint_in_a_fresh_venv(bake: Callable[..., Project]) -> None:
    project = bake(dataset="csv")
    project.run("make", "install", f"PYTHON={sys.executable}")
    venv = project.path / ".venv" / "bin"
    # Only the project's own .venv: nothing from the template's environment leaks in.
    env = {key: value for key, value in project.env().items() if key != "PYTHONPATH"}
    env["PATH"] = os.pathsep.join([str(venv), "/usr/local/bin", "/usr/bin", "/bin"])
    project.run(str(venv / "dvc"), "repro", env=env)
    project.run("make", "test", env=env)
    project.run("make", "lint", env=env)
    assert project.json("models/model.json")["metrics"] == project.json("metrics/metrics.json")

"""The baked project's Django tests on PostgreSQL (`.ci/run` starts one and sets TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

import pytest

from conftest import Project

DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.mark.skipif(not DATABASE_URL, reason="set TEST_DATABASE_URL=postgres://... (.ci/run starts PostgreSQL)")
def test_the_django_tests_pass_on_postgresql(bake: Callable[..., Project]) -> None:
    project = bake(dataset="csv", project_name="On Postgres")
    env = project.env() | {"DATABASE_URL": str(DATABASE_URL), "PYTHONPATH": f"{project.path / 'src'}:{project.path}"}
    vendor = project.run(
        sys.executable, "-c",
        "import django; django.setup(); from django.db import connection; print(connection.vendor)",
        env=env | {"DJANGO_SETTINGS_MODULE": "config.settings_test"},
    )  # fmt: skip
    assert vendor.stdout.strip() == "postgresql"
    tests = ["tests/test_serving_api.py", "tests/test_serving_commands.py"]
    result = project.run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests, env=env)
    assert re.search(r"\b\d+ passed\b", result.stdout)  # and none failed: run() fails on pytest's exit code

"""Shared fixtures: a scratch copy of the project's inputs to run stages in."""

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder holding params.yaml and the raw data, made the working directory."""
    shutil.copy(PROJECT / "params.yaml", tmp_path)
    if (PROJECT / "data" / "raw").is_dir():
        shutil.copytree(PROJECT / "data" / "raw", tmp_path / "data" / "raw")
    monkeypatch.chdir(tmp_path)
    return tmp_path

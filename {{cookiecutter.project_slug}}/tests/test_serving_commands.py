"""The management commands: register_model and predict_file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from {{ cookiecutter.package_name }}.serving.models import ModelVersion

pytestmark = pytest.mark.django_db
PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def serving_project(table_trained: Path) -> Path:
    """These tests send table rows: a table model, in an image project too (tests/test_serving_images.py: images)."""
    return table_trained


def test_register_model_records_the_manifest_once(model_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    call_command("register_model")
    assert "registered:" in capsys.readouterr().out
    call_command("register_model")
    assert "already registered" in capsys.readouterr().out
    entry = ModelVersion.objects.get()
    assert entry.sha256 == manifest["sha256"] and entry.metrics == manifest["metrics"]
    assert entry.params == manifest["params"] and entry.git_commit == (manifest["git_commit"] or "")


def test_register_model_renames_a_model_registered_before_its_version_was_tagged(
    model_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sha256 = json.loads(model_copy.with_suffix(".json").read_text())["sha256"]
    call_command("register_model")  # no git history and no SERVING_MODEL_VERSION: named by its sha256 prefix
    assert ModelVersion.objects.get().version == sha256[:12]
    monkeypatch.setenv("SERVING_MODEL_VERSION", "model@v0.0.7")  # as `make docker` names a tagged model
    call_command("register_model")
    assert capsys.readouterr().out.splitlines()[-1] == f"already registered: model@v0.0.7 sha256 {sha256}"
    assert ModelVersion.objects.get().version == "model@v0.0.7"


@pytest.mark.parametrize("file", ["model.joblib", "model.onnx"])
def test_register_model_refuses_a_tampered_model(model_copy: Path, file: str) -> None:
    tampered = model_copy.parent / file  # every dataset's default model has a checked ONNX copy
    tampered.write_bytes(tampered.read_bytes()[:-1])
    with pytest.raises(CommandError, match=f"{file} has sha256 .* refusing to load it"):
        call_command("register_model")
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("csv", [{"sep": ",", "decimal": "."}, {"sep": ";", "decimal": ","}])
def test_predict_file_scores_every_row(model_copy: Path, serving_project: Path, tmp_path: Path, csv: dict) -> None:
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    test = pd.read_parquet(serving_project / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    source, scored = tmp_path / "in.csv", tmp_path / "out.csv"
    test.to_csv(source, index=False, **csv)
    call_command("predict_file", str(source), str(scored), f"--sep={csv['sep']}", f"--decimal={csv['decimal']}")
    result = pd.read_csv(scored, **csv)
    assert len(result) == len(test) and "prediction" in result
    numbers = [f["name"] for f in manifest["features"] if f["kind"] == "number"]
    assert np.allclose(result[numbers].to_numpy(float), test[numbers].to_numpy(float), equal_nan=True)
    if manifest["task"] == "classification":
        assert {f"probability_{c}" for c in manifest["classes"]} <= set(result.columns)


def test_predict_file_runs_without_web_server_settings(model_copy: Path, serving_project: Path, tmp_path: Path) -> None:
    # a batch job in a plain shell: no DJANGO_SECRET_KEY, no DJANGO_DEBUG, no settings module
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    test = pd.read_parquet(serving_project / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    source, scored = tmp_path / "in.csv", tmp_path / "out.csv"
    test.head(5).to_csv(source, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {"PYTHONPATH": str(PROJECT / "src"), "SERVING_MODEL_PATH": str(model_copy),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}  # fmt: skip
    command = [sys.executable, "manage.py", "predict_file", str(source), str(scored)]
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and len(pd.read_csv(scored)) == 5


def test_predict_file_takes_an_absent_nullable_column_as_missing(
    model_copy: Path, serving_project: Path, tmp_path: Path
) -> None:
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    nullable = [f["name"] for f in manifest["features"] if f["nullable"]]
    if not nullable:
        pytest.skip("no feature of this data set had missing values in training")
    test = pd.read_parquet(serving_project / "data" / "prepared" / "test.parquet").drop(
        columns=[manifest["target"], *nullable]
    )
    source, scored = tmp_path / "in.csv", tmp_path / "out.csv"
    test.to_csv(source, index=False)
    call_command("predict_file", str(source), str(scored))
    assert len(pd.read_csv(scored)) == len(test)


def test_predict_file_names_the_separator_of_a_file_read_with_another(model_copy: Path, tmp_path: Path) -> None:
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    columns = ["id", *(feature["name"] for feature in manifest["features"])]  # two or more, whatever the data
    source, scored = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(";".join(columns) + "\n" + ";".join("1" for _ in columns) + "\n")  # read with ","
    with pytest.raises(CommandError, match=r"lacks feature columns: .* looks separated by \";\": pass --sep ';'\)$"):
        call_command("predict_file", str(source), str(scored))
    assert not scored.exists()


def test_predict_file_names_the_bad_row_and_writes_nothing(
    model_copy: Path, serving_project: Path, tmp_path: Path
) -> None:
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    test = pd.read_parquet(serving_project / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    feature = next((f["name"] for f in manifest["features"] if f["kind"] == "number"), None)
    if feature is None:
        pytest.skip("this data set has no numeric feature")
    test[feature] = test[feature].astype(object)
    test.loc[test.index[2], feature] = "oops"
    source, scored = tmp_path / "in.csv", tmp_path / "out.csv"
    test.to_csv(source, index=False)
    with pytest.raises(CommandError, match=f"data row 3: column '{feature}' is not a number: 'oops'"):
        call_command("predict_file", str(source), str(scored))
    assert not scored.exists()

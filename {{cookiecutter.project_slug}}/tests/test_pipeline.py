"""The stages end to end in a scratch folder: outputs, the hash check, failures that keep outputs."""

import json
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }} import evaluate, prepare, progress, train
from {{ cookiecutter.package_name }}.atomic import atomic_dir, atomic_path
from {{ cookiecutter.package_name }}.data.schema import feature_schema, split_xy
from {{ cookiecutter.package_name }}.errors import ModelIntegrityError, PipelineError
from {{ cookiecutter.package_name }}.paths import (
    MANIFEST_PATH,
    METRICS_PATH,
    MODEL_PATH,
    PLOTS_DIR,
    PREPARED_DIR,
    PROFILE_PATH,
    TEST_PATH,
)
from {{ cookiecutter.package_name }}.registry.artifacts import ModelVersionWarning, load_model, sha256_file
from {{ cookiecutter.package_name }}.table.modeling.pipeline import build_pipeline

OUTPUTS = [MODEL_PATH, MANIFEST_PATH, METRICS_PATH, PREPARED_DIR / "train.parquet"]


def run_pipeline() -> None:
    prepare.main()
    train.main()
    evaluate.main()


def snapshot() -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in OUTPUTS}


def edit_params(section: str, **values: object) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())
    params[section].update(values)
    Path("params.yaml").write_text(yaml.safe_dump(params))


def test_pipeline_writes_a_verified_model_and_its_metrics(trained_workdir: Path) -> None:
    loaded = load_model()
    metrics = json.loads(METRICS_PATH.read_text())
    assert loaded.manifest["sha256"] == sha256_file(MODEL_PATH)
    assert loaded.manifest["metrics"] == metrics
    assert set(metrics) & {"accuracy", "r2"}
    test, _ = split_xy(pd.read_parquet(TEST_PATH), loaded.manifest["target"])
    assert len(loaded.model.predict(test)) == len(test)
    importance = json.loads((PLOTS_DIR / "feature_importance.json").read_text())
    features = [feature["name"] for feature in loaded.manifest["features"] if feature["kind"] != "image"]
    assert sorted(row["feature"] for row in importance) == sorted(features)  # one row per feature, none per pixel
    scores = [row["importance"] for row in importance]
    assert scores == sorted(scores, reverse=True) and (not scores or scores[0] > 0)  # largest first; some matters
    assert json.loads(PROFILE_PATH.read_text())["rows"] > len(test)


def test_the_same_inputs_give_the_same_model(trained_workdir: Path) -> None:
    first = snapshot()
    run_pipeline()
    assert snapshot() == first


@pytest.mark.parametrize("hyperparams", [{}, {"categorical_features": None}], ids=["native", "ordinal"])
def test_histogram_boosting_trains_the_model_the_whole_pipeline_would(
    workdir: Path, hyperparams: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # train encodes the table up front, in chunks, and fits the estimator on the matrix: the model
    # must be the one Pipeline.fit makes on the table, even with numbers float32 cannot hold
    hist = {"hist_gradient_boosting": {"max_iter": 20, **hyperparams}}
    edit_params("train", model="hist_gradient_boosting", hyperparams=hist)
    prepare.main()
    if yaml.safe_load(Path("params.yaml").read_text())["data"].get("text"):  # it reads no text: refused, by name
        with pytest.raises(PipelineError, match=r"cannot learn from text columns .* set train.model: linear"):
            train.main()
        return
    data = yaml.safe_load(Path("params.yaml").read_text())["data"]
    target, splits = data["target"], () if data.get("images") else ("train", "test")  # pixels: no such column
    for split in splits:  # a predictive int32 column beyond float32's exact integers (2**24)
        path = PREPARED_DIR / f"{split}.parquet"
        frame = pd.read_parquet(path)
        codes, classes = pd.factorize(frame[target], sort=True)
        frame["big"] = (50_000_000 + (codes >= len(classes) // 2)).astype("int32")
        frame.to_parquet(path, index=False)
    monkeypatch.setattr(progress, "CHUNK_ROWS", 7)  # many chunks
    train.main()
    loaded = load_model()
    params = yaml.safe_load(Path("params.yaml").read_text())
    features, labels = split_xy(pd.read_parquet(PREPARED_DIR / "train.parquet"), target)
    images = [feature for feature in loaded.manifest["features"] if feature["kind"] == "image"]
    schema = images or feature_schema(features)  # an image's pixels are one feature
    whole = build_pipeline(params["train"], loaded.manifest["task"], schema)
    whole.fit(features, labels)  # the encoder learns its categories from the rows, as a plain Pipeline does
    test, _ = split_xy(pd.read_parquet(TEST_PATH), target)
    assert np.array_equal(loaded.model.predict(test), whole.predict(test))
    if hasattr(whole, "predict_proba"):
        assert np.array_equal(loaded.model.predict_proba(test), whole.predict_proba(test))


def test_a_tampered_model_is_refused(trained_workdir: Path) -> None:
    with MODEL_PATH.open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelIntegrityError, match="refusing to load it"):
        load_model()


def test_a_model_pickled_before_the_kinds_moved_is_refused_in_one_line(trained_workdir: Path) -> None:
    # 0.x pickled the encoder as {{ cookiecutter.package_name }}.features.preprocessor.DateParts: now under table/
    old = b"\x80\x04c{{ cookiecutter.package_name }}.features.preprocessor\nDateParts\n."  # pickle's GLOBAL opcode
    MODEL_PATH.write_bytes(old)
    manifest = json.loads(MANIFEST_PATH.read_text())
    manifest["sha256"] = sha256_file(MODEL_PATH)
    MANIFEST_PATH.write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match=r"pickled by an older version .* retrain it with `dvc repro`$"):
        load_model()


def test_another_scikit_learn_version_is_a_warning(trained_workdir: Path) -> None:
    manifest_file = MANIFEST_PATH
    manifest = json.loads(manifest_file.read_text())
    manifest["versions"]["scikit-learn"] = "0.1"
    manifest_file.write_text(json.dumps(manifest))
    with pytest.warns(ModelVersionWarning, match="trained with scikit-learn 0.1"):
        assert load_model().manifest["versions"]["scikit-learn"] == "0.1"


def test_a_failed_stage_keeps_the_previous_outputs(trained_workdir: Path) -> None:
    before = snapshot()
    edit_params("train", model="no_such_model")
    with pytest.raises(PipelineError, match=r"train\.model 'no_such_model'"):
        train.main()
    if yaml.safe_load(Path("params.yaml").read_text())["data"].get("images"):
        edit_params("data", images="no_such_folder")
        missing = r"image folder not found: no_such_folder"
    else:
        edit_params("data", path="no_such_file.csv")
        missing = r"data file not found: no_such_file\.csv"
    with pytest.raises(PipelineError, match=missing):
        prepare.main()
    assert snapshot() == before
    assert not list(Path().rglob("*.tmp"))


def test_outputs_written_atomically_are_as_readable_as_a_plain_write(tmp_path: Path) -> None:
    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    (tmp_path / "plain.txt").write_text("x")
    (tmp_path / "plain").mkdir()
    with atomic_path(tmp_path / "model.joblib") as tmp:
        tmp.write_text("x")
    with atomic_dir(tmp_path / "plots") as tmp:
        (tmp / "confusion.json").write_text("{}")
    # not tempfile's private 0600 and 0700: a Docker image's non-root user must read the model
    assert mode(tmp_path / "model.joblib") == mode(tmp_path / "plain.txt")
    assert mode(tmp_path / "plots") == mode(tmp_path / "plain")

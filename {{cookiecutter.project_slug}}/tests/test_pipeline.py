"""The stages end to end in a scratch folder: outputs, the hash check, failures that keep outputs."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }} import evaluate, prepare, train
from {{ cookiecutter.package_name }} import features as features_module
from {{ cookiecutter.package_name }}.artifacts import (
    MODEL_PATH,
    ModelVersionWarning,
    load_model,
    manifest_path,
    sha256_file,
)
from {{ cookiecutter.package_name }}.errors import ModelIntegrityError, PipelineError
from {{ cookiecutter.package_name }}.features import feature_schema, split_xy

OUTPUTS = [MODEL_PATH, manifest_path(MODEL_PATH), evaluate.METRICS_PATH, prepare.PREPARED_DIR / "train.parquet"]


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
    metrics = json.loads(evaluate.METRICS_PATH.read_text())
    assert loaded.manifest["sha256"] == sha256_file(MODEL_PATH)
    assert loaded.manifest["metrics"] == metrics
    assert set(metrics) & {"accuracy", "r2"}
    test = pd.read_parquet(evaluate.TEST_PATH)
    features = [feature["name"] for feature in loaded.manifest["features"]]
    assert len(loaded.model.predict(test[features])) == len(test)
    importance = json.loads((evaluate.PLOTS_DIR / "feature_importance.json").read_text())
    assert sorted(row["feature"] for row in importance) == sorted(features)  # one row per feature
    scores = [row["importance"] for row in importance]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0  # largest first; some feature matters
    assert json.loads(prepare.PROFILE_PATH.read_text())["rows"] > len(test)


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
    target = yaml.safe_load(Path("params.yaml").read_text())["data"]["target"]
    for split in ("train", "test"):  # a predictive int32 column beyond float32's exact integers (2**24)
        path = prepare.PREPARED_DIR / f"{split}.parquet"
        frame = pd.read_parquet(path)
        codes, classes = pd.factorize(frame[target], sort=True)
        frame["big"] = (50_000_000 + (codes >= len(classes) // 2)).astype("int32")
        frame.to_parquet(path, index=False)
    monkeypatch.setattr(features_module, "CHUNK_ROWS", 7)  # many chunks
    train.main()
    loaded = load_model()
    params = yaml.safe_load(Path("params.yaml").read_text())
    features, labels = split_xy(pd.read_parquet(prepare.PREPARED_DIR / "train.parquet"), target)
    whole = train.build_pipeline(params["train"], loaded.manifest["task"], feature_schema(features))
    whole.fit(features, labels)  # the encoder learns its categories from the rows, as a plain Pipeline does
    test, _ = split_xy(pd.read_parquet(evaluate.TEST_PATH), target)
    assert np.array_equal(loaded.model.predict(test), whole.predict(test))
    if hasattr(whole, "predict_proba"):
        assert np.array_equal(loaded.model.predict_proba(test), whole.predict_proba(test))


def test_a_tampered_model_is_refused(trained_workdir: Path) -> None:
    with MODEL_PATH.open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelIntegrityError, match="refusing to load it"):
        load_model()


def test_another_scikit_learn_version_is_a_warning(trained_workdir: Path) -> None:
    manifest_file = manifest_path(MODEL_PATH)
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
    edit_params("data", path="no_such_file.csv")
    with pytest.raises(PipelineError, match=r"data file not found: no_such_file\.csv"):
        prepare.main()
    assert snapshot() == before
    assert not list(Path().rglob("*.tmp"))

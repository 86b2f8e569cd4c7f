"""The stages end to end in a scratch folder: outputs, the hash check, failures that keep outputs."""

import ast
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
    whole = train.build_pipeline(params["train"], loaded.manifest["task"], schema)
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


def imported_files(package: Path, module: Path) -> set[Path]:
    """The package's files that `module` imports, directly or through each other (parsed, not run)."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for node in ast.walk(ast.parse(current.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:  # from .x import y, from . import y
                base = current.parents[node.level - 1]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == package.name:
                base = package.parent
            else:
                continue
            target = base.joinpath(*(node.module or "").split("."))
            candidates = [target.with_suffix(".py"), *(target / f"{alias.name}.py" for alias in node.names)]
            todo += [path for path in candidates if path.is_file()]
    return seen


@pytest.mark.parametrize("stage", ["prepare", "train", "evaluate"])
def test_dvc_yaml_deps_cover_every_module_a_stage_imports(stage: str) -> None:
    # a module missing from a stage's deps would change the stage's results without `dvc repro` seeing it
    root = Path(__file__).resolve().parents[1]
    package = root / "src" / "{{ cookiecutter.package_name }}"
    deps = [root / dep for dep in yaml.safe_load((root / "dvc.yaml").read_text())["stages"][stage]["deps"]]
    for path in imported_files(package, package / f"{stage}.py"):
        assert any(path == dep or path.is_relative_to(dep) for dep in deps), f"dvc.yaml: {stage} lacks a dep on {path}"
    for init in package.rglob("__init__.py"):  # imported with their folders; a docstring only, so no dep
        assert all(isinstance(node, ast.Expr) for node in ast.parse(init.read_text()).body), init


def test_serving_report_and_gitops_depend_on_the_registry_not_on_each_other() -> None:
    package = Path(__file__).resolve().parents[1] / "src" / "{{ cookiecutter.package_name }}"
    parts = [package / name for name in ("serving", "report", "gitops") if (package / name).is_dir()]
    for part in parts:
        imported = set().union(*(imported_files(package, path) for path in part.rglob("*.py")))
        crossing = [path for path in imported for other in parts if other != part and path.is_relative_to(other)]
        assert not crossing, f"{part.name} imports {crossing}"


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

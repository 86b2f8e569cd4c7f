"""Run `dvc repro` in baked projects: the model, its quality, determinism, reruns and bad data."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import BIN, Project
from datagen import churn_frame

pytestmark = pytest.mark.xdist_group("pipeline")  # one worker: its module fixtures train a project once

OUTPUTS = ("models/model.joblib", "models/model.onnx", "models/model.json", "metrics/metrics.json", "dvc.lock")


def digests(project: Project) -> dict[str, str]:
    """The sha256 of each pipeline output."""
    return {name: hashlib.sha256((project.path / name).read_bytes()).hexdigest() for name in OUTPUTS}


def repro(project: Project, *args: str) -> list[str]:
    """Run `dvc repro` and return the stages it ran."""
    return project.ran_stages(project.dvc("repro", *args).stdout)


@pytest.mark.parametrize(
    ("dataset", "metric", "floor"),
    [("breast_cancer", "accuracy", 0.9), ("wine", "accuracy", 0.9), ("diabetes", "r2", 0.3)],
)
def test_repro_writes_a_good_model_its_manifest_and_metrics(
    request: pytest.FixtureRequest, bake: Callable[..., Project], dataset: str, metric: str, floor: float
) -> None:
    if dataset in TRAINED:  # a module fixture's project, whose first repro ran every stage
        project = request.getfixturevalue(TRAINED[dataset])
    else:
        project = bake(dataset=dataset)
        assert repro(project) == ["prepare", "train", "evaluate"]
    manifest, metrics = project.json("models/model.json"), project.json("metrics/metrics.json")
    assert metrics[metric] >= floor
    assert manifest["metrics"] == metrics
    assert manifest["sha256"] == hashlib.sha256((project.path / "models/model.joblib").read_bytes()).hexdigest()
    assert manifest["task"] == ("regression" if dataset == "diabetes" else "classification")
    assert manifest["features"] and all({"name", "dtype", "kind", "nullable"} <= set(f) for f in manifest["features"])
    assert set(manifest["versions"]) >= {"python", "scikit-learn", "pandas", "numpy", "joblib", "skl2onnx", "onnx"}
    onnx = manifest["onnx"]  # train checked its ONNX copy on the held-out rows (tests/test_onnx.py: the rest)
    assert onnx["status"] == "passed" and onnx["rows_checked"] > 0 and onnx["reason"] is None
    if dataset == "diabetes":  # targets in the hundreds: float32 sums agree to about 1e-4
        assert onnx["label_agreement"] is None and 0 <= onnx["max_prediction_difference"] < 1e-3
    else:
        assert onnx["label_agreement"] == 1.0 and 0 <= onnx["max_probability_difference"] < 1e-5
    onnx_file = (project.path / "models/model.onnx").read_bytes()
    assert manifest["files"]["model.onnx"] == hashlib.sha256(onnx_file).hexdigest()
    assert len(manifest["data"]["sha256"]) == 64
    assert manifest["params"]["train"]["model"] == "random_forest"
    plots = {path.name for path in (project.path / "plots").iterdir()}
    expected = {"predictions.json", "residuals.json"} if dataset == "diabetes" else {"roc.json", "confusion.json"}
    assert expected | {"feature_importance.json"} <= plots
    assert repro(project) == []
    assert "up to date" in project.dvc("status").stdout


@pytest.fixture(scope="module")
def trained_default(bake_shared: Callable[..., Project]) -> Project:
    """The default project after its first `dvc repro`; tests change copies of it."""
    project = bake_shared(project_name="Trained Default")
    assert repro(project) == ["prepare", "train", "evaluate"]
    return project


@pytest.fixture(scope="module")
def trained_wine(bake_shared: Callable[..., Project]) -> Project:
    """A wine project after its first `dvc repro`; tests change copies of it."""
    project = bake_shared(dataset="wine", project_name="Trained Wine")
    assert repro(project) == ["prepare", "train", "evaluate"]
    return project


TRAINED = {"breast_cancer": "trained_default", "wine": "trained_wine"}  # data sets a module fixture has trained


def test_repro_force_twice_gives_the_same_model_and_metrics(trained_default: Project, tmp_path: Path) -> None:
    project = trained_default.copy(tmp_path / "project")
    first = digests(project)
    repro(project, "--force")
    second = digests(project)
    assert first["models/model.joblib"] == second["models/model.joblib"]
    assert first["models/model.onnx"] == second["models/model.onnx"]  # skl2onnx's graph name is fixed
    assert first["metrics/metrics.json"] == second["metrics/metrics.json"]


def test_a_train_param_change_reruns_train_and_evaluate_only(trained_default: Project, tmp_path: Path) -> None:
    project = trained_default.copy(tmp_path / "project")
    before = project.json("models/model.json")["sha256"]
    project.set_params(
        "train", hyperparams={"random_forest": {"n_estimators": 20, "max_depth": 3, "min_samples_leaf": 1}}
    )
    assert repro(project) == ["train", "evaluate"]
    assert project.json("models/model.json")["sha256"] != before
    assert project.json("models/model.json")["params"]["train"]["hyperparams"]["random_forest"]["n_estimators"] == 20
    assert repro(project) == []


def plain_shell(project: Project, home: Path) -> dict[str, str]:
    """A plain shell in the project: no venv activated, nothing of this environment on PATH or PYTHONPATH."""
    home.mkdir(exist_ok=True)
    keep = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "DVC_NO_ANALYTICS")
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), **{key: project.env()[key] for key in keep}}


def test_experiments_run_in_dvcs_temporary_workspaces(trained_default: Project, tmp_path: Path) -> None:
    """`dvc exp run --temp` and `--queue` run the stages in clones under .dvc/tmp/exps/, which have no .venv."""
    project = trained_default.copy(tmp_path / "project")
    project.commit_all("First model")
    shell = plain_shell(project, tmp_path / "home")
    dvc = str(project.path / ".venv" / "bin" / "dvc")
    before = digests(project)

    temp = project.run(dvc, "exp", "run", "--temp", "-S", "train.model=linear", "-n", "linear", env=shell)
    assert project.ran_stages(temp.stdout) == ["train", "evaluate"], temp.stdout
    assert digests(project) == before  # the workspace keeps its model: the experiment ran in its own clone

    # A queued experiment runs the code it was queued with, even once the workspace's code has moved on.
    train = project.path / "src" / project.package / "train.py"
    code = train.read_text()
    train.write_text(code.replace("\ndef main(", '\nprint("the queued code")\n\n\ndef main(', 1))
    project.run(dvc, "exp", "run", "--queue", "-S", "train.model=gradient_boosting", "-n", "boosted", env=shell)
    train.write_text(code)
    try:
        project.run("make", "queue", env=shell)  # DVC starts its workers as a plain `dvc`: the Makefile's PATH
        deadline = time.monotonic() + 300
        while "boosted" not in (done := finished(project, dvc, shell)) and time.monotonic() < deadline:
            time.sleep(1)
        assert done.get("boosted") == "Success", project.run(dvc, "queue", "logs", "boosted", env=shell).stdout
    finally:
        project.run(dvc, "queue", "stop", "--kill", env=shell, check=False)
    assert "the queued code" in project.run(dvc, "queue", "logs", "boosted", env=shell).stdout
    shown = json.loads(project.run(dvc, "exp", "show", "--json", env=shell).stdout)
    experiments = {exp["name"]: exp for run in shown for exp in (run.get("experiments") or [])}
    params = {name: exp["revs"][0]["data"]["params"]["params.yaml"]["data"]["train"]["model"]
              for name, exp in experiments.items()}  # fmt: skip
    assert params == {"linear": "linear", "boosted": "gradient_boosting"}
    assert digests(project) == before

    # Without a .venv, a stage names the fix.
    (project.path / ".venv").unlink()
    missing = project.run("bin/python", "-c", "pass", env=shell, check=False)
    assert missing.returncode == 1
    assert missing.stderr == f"bin/python: {project.path} has no .venv: run `make install` there first\n"


def finished(project: Project, dvc: str, shell: dict[str, str]) -> dict[str, str]:
    """The queued experiments that finished, by name: Success or Failed."""
    status = project.run(dvc, "queue", "status", env=shell).stdout.splitlines()
    return {words[1]: words[-1] for words in map(str.split, status) if words and words[-1] in ("Success", "Failed")}


def test_a_trained_default_model_is_under_the_large_file_limit(trained_default: Project) -> None:
    """The pre-commit hook must let the model a fresh project trains be committed (model_storage=git)."""
    project = trained_default
    config = yaml.safe_load((project.path / ".pre-commit-config.yaml").read_text())
    hook = next(hook for repo in config["repos"] for hook in repo["hooks"] if hook["id"] == "check-added-large-files")
    max_kb = int(hook["args"][0].split("=")[1])
    size = (project.path / "models" / "model.joblib").stat().st_size
    assert 100_000 < size < max_kb * 1024  # a real forest, and one the hook lets through


def test_the_committed_model_is_in_git(trained_default: Project, tmp_path: Path) -> None:
    project = trained_default.copy(tmp_path / "project")
    project.run("git", "add", "-A")
    project.run("git", "commit", "-qm", "Train")
    tracked = project.run("git", "ls-files").stdout.split()
    assert {"models/model.joblib", "models/model.json", "metrics/metrics.json", "dvc.lock"} <= set(tracked)
    assert not any(name.startswith("data/prepared/") and name.endswith(".parquet") for name in tracked)
    assert project.run("git", "status", "--porcelain").stdout == ""


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_csv_project_trains_on_categories_and_missing_values(bake: Callable[..., Project], suffix: str) -> None:
    project = bake(dataset="csv")
    frame = churn_frame(3000, seed=1, missing=0.1)
    path = project.path / "data" / "raw" / f"customers{suffix}"
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
    project.set_params("data", path=f"data/raw/customers{suffix}")
    repro(project)
    manifest = project.json("models/model.json")
    kinds = {f["name"]: (f["kind"], f["nullable"]) for f in manifest["features"]}
    assert kinds["contract"] == ("category", False)
    assert kinds["payment_method"] == ("category", True)
    assert kinds["monthly_charges"] == ("number", True)
    assert manifest["classes"] == ["no", "yes"]
    assert manifest["metrics"]["accuracy"] > 0.75


def test_a_csv_regression_target_is_inferred(bake: Callable[..., Project]) -> None:
    project = bake(dataset="csv")
    frame = churn_frame(800, seed=2, missing=0.0).drop(columns="churned")
    frame.to_csv(project.path / "data" / "raw" / "data.csv", index=False)
    project.set_params("data", target="monthly_charges")
    repro(project)
    assert project.json("models/model.json")["task"] == "regression"
    assert "r2" in project.json("metrics/metrics.json")


def test_an_integer_regression_target_with_a_rare_value_trains_when_train_task_says_so(
    bake: Callable[..., Project],
) -> None:
    # few distinct integers look like classes, and one seen once could not be stratified: train.task decides
    project = bake(dataset="csv")
    frame = churn_frame(800, seed=3, missing=0.0).drop(columns="churned")
    frame["rating"] = (frame["tenure_months"] // 12).astype(int)  # 0..5
    frame.loc[0, "rating"] = 9  # one row only
    frame.to_csv(project.path / "data" / "raw" / "data.csv", index=False)
    project.set_params("data", target="rating")
    project.set_params("train", task="regression")
    repro(project)
    assert project.json("models/model.json")["task"] == "regression"
    assert project.json("reports/data_profile.json")["target"]["task"] == "regression"


def test_the_data_page_and_the_manifest_agree_on_the_task(bake: Callable[..., Project]) -> None:
    # a float target with a few distinct values: training says regression, so must the data page
    project = bake(dataset="csv", use_django="no")
    frame = churn_frame(600, seed=4, missing=0.0).drop(columns="churned")
    frame["score"] = (frame["tenure_months"] // 15).astype(float) + 0.5  # 5 distinct floats
    frame.to_csv(project.path / "data" / "raw" / "data.csv", index=False)
    project.set_params("data", target="score")
    repro(project)
    assert project.json("models/model.json")["task"] == "regression"
    script = (
        f"import json; from {project.package}.table.pages import data_page; "
        "print(data_page(json.load(open('reports/data_profile.json'))))"
    )
    page = project.run(str(BIN / "python"), "-c", script).stdout
    assert "| statistic | value |" in page and "| class |" not in page


def test_bytecode_is_no_change_and_a_new_module_reruns_only_the_stages_of_its_folder(
    trained_default: Project, tmp_path: Path
) -> None:
    # folder deps see every file in them: .dvcignore keeps out the __pycache__ that Python writes
    project = trained_default.copy(tmp_path / "project")
    env = {key: value for key, value in project.env().items() if key != "PYTHONDONTWRITEBYTECODE"}
    dvc = str(BIN / "dvc")
    kind = project.path / "src" / project.package / "table"
    project.run(dvc, "repro", "--force", env=env)
    assert list((kind / "modeling").glob("__pycache__/*.pyc"))
    assert project.ran_stages(project.run(dvc, "repro", env=env).stdout) == []
    (kind / "modeling" / "my_estimator.py").write_text('"""A new estimator."""\n')
    assert project.ran_stages(project.run(dvc, "repro", env=env).stdout) == ["train", "evaluate"]
    # the kind's serving and site code is no dependency of its stages: editing it reruns nothing
    (kind / "router.py").write_text((kind / "router.py").read_text() + "\n# an edit\n")
    (kind / "pages.py").write_text((kind / "pages.py").read_text() + "\n# an edit\n")
    assert project.ran_stages(project.run(dvc, "repro", env=env).stdout) == []


def test_a_data_file_that_prepare_does_not_depend_on_is_refused(trained_wine: Project, tmp_path: Path) -> None:
    project = trained_wine.copy(tmp_path / "project")
    before = digests(project)
    (project.path / "data" / "raw").mkdir()
    churn_frame(600, seed=3, missing=0.0).to_csv(project.path / "data" / "raw" / "own.csv", index=False)
    project.set_params("data", path="data/raw/own.csv", target="churned")
    result = project.dvc("repro", check=False)
    assert result.returncode != 0
    assert "error: data.path data/raw/own.csv is not a dependency of the prepare stage" in result.stderr
    assert digests(project) == before
    dvc_file = project.path / "dvc.yaml"
    dvc_file.write_text(dvc_file.read_text().replace("    deps:\n", "    deps:\n      - ${data.path}\n", 1))
    assert repro(project, "--single-item", "prepare") == ["prepare"]
    churn_frame(700, seed=4, missing=0.0).to_csv(project.path / "data" / "raw" / "own.csv", index=False)
    status = project.dvc("status").stdout
    assert "prepare:" in status and "modified:" in status and "data/raw/own.csv" in status


@pytest.fixture(scope="module")
def trained_csv(bake_shared: Callable[..., Project]) -> Project:
    """A csv project trained once; bad-data tests restore its data after each case."""
    project = bake_shared(dataset="csv", project_name="Bad Data")
    repro(project)
    return project


def junk_numeric() -> str:
    frame = churn_frame(100, seed=3)
    frame["tenure_months"] = frame["tenure_months"].astype(str)
    frame.loc[41, "tenure_months"] = "unknown"
    return frame.to_csv(index=False)


def nan_target() -> str:
    frame = churn_frame(100, seed=3)
    frame.loc[9, "churned"] = None
    return frame.to_csv(index=False)


JUNK_MESSAGE = "column 'tenure_months' is numeric but has 1 non-numeric value (first: 'unknown' at data row 42)"
BAD_DATA = {
    "missing target column": (
        churn_frame(50).drop(columns="churned").to_csv(index=False),
        "target column 'churned' not found",
    ),
    "empty file": ("", "data file is empty: data/raw/data.csv"),
    "no columns": ("\n\n\n", "data file has no columns"),
    "unparseable": ('a,b,churned\n1,"2,yes\n3,4,no\n', "cannot parse data/raw/data.csv"),
    "junk in a numeric column": (junk_numeric(), JUNK_MESSAGE),
    "NaN in the target": (nan_target(), "target column 'churned' has 1 missing value (first at data row 10)"),
    "single class": (
        churn_frame(50).assign(churned="no").to_csv(index=False),
        "target column 'churned' has a single value ('no')",
    ),
}


@pytest.mark.parametrize("case", BAD_DATA)
def test_bad_data_fails_with_its_reason_and_keeps_the_outputs(trained_csv: Project, case: str) -> None:
    content, message = BAD_DATA[case]
    data = trained_csv.path / "data" / "raw" / "data.csv"
    good, before = data.read_bytes(), digests(trained_csv)
    try:
        data.write_text(content)
        result = trained_csv.dvc("repro", check=False)
        assert result.returncode != 0
        assert f"error: {message}" in result.stderr
        assert digests(trained_csv) == before
        assert not list(trained_csv.path.rglob(".*.tmp"))
    finally:
        data.write_bytes(good)


def test_a_missing_data_file_fails_and_keeps_the_outputs(trained_csv: Project) -> None:
    data = trained_csv.path / "data" / "raw" / "data.csv"
    moved = data.with_name("moved.csv")
    before = digests(trained_csv)
    data.rename(moved)
    try:
        result = trained_csv.dvc("repro", check=False)
        assert result.returncode != 0
        assert "No such file or directory" in result.stderr and "data/raw/data.csv" in result.stderr
        result = trained_csv.run(str(BIN / "python"), "-m", "bad_data.prepare", check=False)
        assert result.returncode == 1
        assert result.stderr.strip() == "error: data file not found: data/raw/data.csv (set data.path in params.yaml)"
        assert digests(trained_csv) == before
    finally:
        moved.rename(data)


def test_a_tampered_model_is_refused_by_evaluate(trained_csv: Project) -> None:
    model = trained_csv.path / "models" / "model.joblib"
    good = model.read_bytes()
    try:
        model.write_bytes(good[:-10] + b"0123456789")
        result = trained_csv.run(str(BIN / "python"), "-m", "bad_data.evaluate", check=False)
        assert result.returncode == 1
        assert "refusing to load it" in result.stderr and "Traceback" not in result.stderr
    finally:
        model.write_bytes(good)


def test_dvc_remote_storage_keeps_the_model_out_of_git(bake: Callable[..., Project], tmp_path: Path) -> None:
    project = bake(dataset="wine", model_storage="dvc-remote", dvc_remote_url=str(tmp_path / "remote"))
    repro(project)
    ignored = (project.path / "models" / ".gitignore").read_text().split()
    assert {"/model.joblib", "/model.onnx"} <= set(ignored)
    lock = yaml.safe_load((project.path / "dvc.lock").read_text())
    model_out = next(out for out in lock["stages"]["train"]["outs"] if out["path"] == "models/model.joblib")
    assert model_out["md5"]
    project.dvc("push")
    assert any((tmp_path / "remote").rglob("*")), "dvc push sent nothing to the remote"
    project.run("git", "add", "-A")
    tracked = project.run("git", "ls-files").stdout.split()
    assert "models/model.joblib" not in tracked and "models/model.onnx" not in tracked
    assert "models/model.json" in tracked  # the manifest stays in git: the model history reads it

"""Beyond one machine: the Dask backend, the hyperparameter search, and a DVC remote between clones."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import BIN, Project

pytestmark = pytest.mark.xdist_group("scale")  # one worker: its tests share one project and change its params in turn

OUTPUTS = ("models/model.joblib", "models/model.json", "metrics/metrics.json", "dvc.lock")


def set_train(project: Project, **values: object) -> None:
    path = project.path / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for key, value in values.items():
        section = params["train"]
        *parents, leaf = key.split("__")
        for parent in parents:
            section = section[parent]
        section[leaf] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def predictions(project: Project) -> list:
    """The model's predictions on the test split, computed in a fresh process."""
    code = (
        "import json, pandas as pd\n"
        f"from {project.package}.registry.artifacts import load_model\n"
        "loaded = load_model()\n"
        "test = pd.read_parquet('data/prepared/test.parquet').drop(columns=loaded.manifest['target'])\n"
        "print(json.dumps(loaded.model.predict(test).tolist()))"
    )
    return yaml.safe_load(project.run(str(BIN / "python"), "-c", code).stdout)


@pytest.fixture(scope="module")
def scale_project(bake_shared: Callable[..., Project]) -> Project:
    return bake_shared(project_name="Scale", use_django="no")


@pytest.fixture
def project(scale_project: Project) -> Iterator[Project]:
    """The module's project, its params.yaml put back after each test, whether it passed or not."""
    path = scale_project.path / "params.yaml"
    params = path.read_text()
    try:
        yield scale_project
    finally:
        path.write_text(params)


def test_the_dask_backend_gives_the_local_results(project: Project) -> None:
    set_train(project, backend="local")
    project.dvc("repro")
    local = project.json("metrics/metrics.json"), predictions(project)
    set_train(project, backend="dask", dask__workers=2)  # a real distributed.LocalCluster
    result = project.dvc("repro")
    assert ", dask (tcp://127.0.0.1:" in result.stdout
    assert (project.json("metrics/metrics.json"), predictions(project)) == local
    # Equal models, not always equal bytes: scikit-learn's tree node records carry padding bytes.


@pytest.mark.parametrize("backend", ["local", "dask"])
def test_a_grid_search_records_its_best_params_and_cv_score(project: Project, backend: str) -> None:
    set_train(
        project,
        backend=backend,
        search={"method": "grid", "cv": 3, "iterations": 10, "scoring": None,
                "space": {"n_estimators": [10, 30], "max_depth": [None, 3]}},
    )  # fmt: skip
    project.dvc("repro")
    manifest, metrics = project.json("models/model.json"), project.json("metrics/metrics.json")
    assert manifest["search"]["candidates"] == 4
    assert set(manifest["search"]["best_params"]) == {"n_estimators", "max_depth"}
    assert metrics["cv_score"] == manifest["search"]["cv_score"] and manifest["metrics"] == metrics


def test_both_backends_find_the_same_best_params(project: Project) -> None:
    found = []
    for backend in ("local", "dask"):
        set_train(
            project,
            backend=backend,
            search={"method": "random", "cv": 3, "iterations": 3, "scoring": "f1_macro",
                    "space": {"n_estimators": [10, 20, 40], "min_samples_leaf": [1, 2, 4]}},
        )  # fmt: skip
        project.dvc("repro")
        found.append(project.json("models/model.json")["search"])
    assert found[0] == found[1]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"backend": "spark"}, "train.backend 'spark' is not one of local, dask"),
        (
            {"backend": "dask", "dask__scheduler": "tcp://127.0.0.1:9", "dask__timeout": 2},
            "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 2 s",
        ),
        ({"search": {"method": "grid", "space": {"n_estimator": [1]}}}, "did you mean 'n_estimators'"),
        ({"search": {"method": "bayes", "space": {}}}, "train.search.method 'bayes' is not one of"),
        (
            {"hyperparams": {"random_forest": {"max_depth": -1}}},
            "train.hyperparams.random_forest: The 'max_depth' parameter of RandomForestClassifier",
        ),
    ],
)
def test_bad_scale_settings_fail_clearly_and_keep_the_outputs(
    project: Project, values: dict[str, object], message: str
) -> None:
    project.dvc("repro")
    before = {name: (project.path / name).read_bytes() for name in OUTPUTS}
    set_train(project, **values)
    result = project.dvc("repro", check=False)
    assert result.returncode != 0 and message in result.stderr
    assert {name: (project.path / name).read_bytes() for name in OUTPUTS} == before


def test_a_dvc_remote_carries_the_model_to_a_fresh_clone(bake: Callable[..., Project], tmp_path: Path) -> None:
    remote = tmp_path / "dvc-store"
    project = bake(project_name="Remote", use_django="no", model_storage="dvc-remote", dvc_remote_url=str(remote))
    project.dvc("repro")
    project.run("make", "push", f"BIN={BIN}")
    project.run("git", "add", "-A")
    project.run("git", "commit", "-qm", "Model in the DVC remote")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(project.path), str(origin)], check=True)
    subprocess.run(["git", "clone", "-q", str(origin), str(tmp_path / "fresh")], check=True)
    fresh = Project(tmp_path / "fresh", project.context)
    assert not (fresh.path / "models" / "model.joblib").exists()
    fresh.run("make", "pull", f"BIN={BIN}")
    assert fresh.ran_stages(fresh.dvc("repro").stdout) == []
    assert predictions(fresh) == predictions(project)


def test_push_without_a_remote_says_how_to_add_one(bake: Callable[..., Project]) -> None:
    project = bake(project_name="No Remote", use_django="no")
    result = project.run("make", "push", f"BIN={BIN}", check=False)
    assert result.returncode != 0 and "no remote specified" in result.stderr and "dvc remote add" in result.stderr


def test_prepared_data_is_tight_and_long_steps_report_progress(bake: Callable[..., Project]) -> None:
    from datagen import churn_frame

    project = bake(project_name="Tight", dataset="csv", use_django="no")
    churn_frame(60_000, seed=3).to_csv(project.path / "data" / "raw" / "data.csv", index=False)
    set_train(project, model="hist_gradient_boosting", hyperparams={"hist_gradient_boosting": {"max_iter": 20}})
    # In a log, progress prints a line every PROGRESS_SECONDS (default 30 s): 0 shows every update.
    result = project.run(str(BIN / "dvc"), "repro", env=project.env() | {"PROGRESS_SECONDS": "0"})
    lines = result.stderr.splitlines()
    read = [line for line in lines if line.startswith("prepare: read data.csv: ")]
    assert re.search(r"\(100%\), [\d.]+[kM]? B/s, 00:00 left$", read[-1]), read
    predicted = [line for line in lines if line.startswith("evaluate: predict: ")]
    assert re.match(r"evaluate: predict: 12\.0k/12\.0k rows \(100%\), [\d.]+[kM]? rows/s", predicted[-1])
    assert "\r" not in result.stderr and "fitting HistGradientBoostingClassifier on 48,000 rows" in result.stdout

    prepared = pd.read_parquet(project.path / "data" / "prepared" / "train.parquet")
    dtypes = prepared.dtypes.astype(str).to_dict()
    assert dtypes["monthly_charges"] == "float32" and dtypes["customer_age"] == "int8"
    assert dtypes["contract"] == dtypes["payment_method"] == "category"
    assert project.json("metrics/metrics.json")["accuracy"] > 0.8

    quiet = project.dvc("repro", "--force")  # the default interval: a short run prints no progress
    assert " left" not in quiet.stderr


@pytest.mark.slow
def test_a_million_rows_with_categories_and_missing_values(bake: Callable[..., Project]) -> None:
    from datagen import churn_frame

    project = bake(project_name="Million", dataset="csv", use_django="no")
    churn_frame(1_000_000, seed=5, missing=0.05).to_parquet(project.path / "data" / "raw" / "big.parquet")
    path = project.path / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["data"]["path"] = "data/raw/big.parquet"
    params["train"].update(model="hist_gradient_boosting", hyperparams={"hist_gradient_boosting": {"max_iter": 50}})
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    project.dvc("repro")
    assert project.json("models/model.json")["data"]["train_rows"] == 800_000
    assert project.json("metrics/metrics.json")["accuracy"] > 0.8
    assert len(pd.read_parquet(project.path / "data" / "prepared" / "test.parquet")) == 200_000

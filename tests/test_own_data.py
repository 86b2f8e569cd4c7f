"""Own data as exported from real systems: IDs and dates, params typos, switching models, regression plots."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from conftest import BIN, Project
from datagen import churn_frame


def python(project: Project, code: str) -> str:
    """Run Python code in the project (its package importable) and return what it printed."""
    return project.run(str(BIN / "python"), "-c", code).stdout


def daily_sales(days: int = 4 * 365, seed: int = 0) -> pd.DataFrame:
    """Daily rows whose `sales` follow the season: a date column as a spreadsheet exports it."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-01", periods=days, freq="D")
    season = np.sin(2 * np.pi * dates.day_of_year / 365.25)
    return pd.DataFrame(
        {
            "day": dates.strftime("%Y-%m-%d"),
            "opened": (dates + pd.to_timedelta(rng.integers(7, 11, days), unit="h")).strftime("%Y-%m-%dT%H:%M+01:00"),
            "store": rng.choice(["north", "south"], days),
            "register": rng.choice([1, 2, 3], days),  # a code: data.categorical
            "sales": (100 + 40 * season + rng.normal(0, 5, days)).round(2),
        }
    )


def test_an_id_column_stops_prepare_until_dropped(bake: Callable[..., Project]) -> None:
    project = bake(dataset="csv", use_django="no")
    frame = churn_frame(400, seed=4, missing=0.0)
    frame.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(frame))])
    frame.to_csv(project.path / "data" / "raw" / "data.csv", index=False)
    failed = project.dvc("repro", check=False)
    assert failed.returncode != 0
    assert "error: column 'customer_id' is text with 400 distinct values in 400 rows" in failed.stderr
    assert "list it in data.text to learn from its words, in data.drop to leave it out" in failed.stderr
    assert not (project.path / "data" / "prepared" / "train.parquet").exists()

    project.set_params("data", drop=["customer_id", "custmer_age"])
    failed = project.dvc("repro", check=False)
    assert "error: data.drop names columns that do not exist: custmer_age" in failed.stderr

    project.set_params("data", drop=["customer_id"])
    project.dvc("repro")
    names = [feature["name"] for feature in project.json("models/model.json")["features"]]
    assert "customer_id" not in names and "contract" in names
    project.set_params("data", drop=[], categorical=["customer_id"])  # a category on purpose
    assert project.dvc("repro", "prepare").returncode == 0


def test_iso_dates_become_date_features_the_api_and_data_page_accept(bake: Callable[..., Project]) -> None:
    project = bake(dataset="csv", use_django="yes")
    daily_sales().to_csv(project.path / "data" / "raw" / "data.csv", index=False)
    project.set_params("data", target="sales", categorical=["register"])
    project.dvc("repro")
    manifest = project.json("models/model.json")
    features = {feature["name"]: feature for feature in manifest["features"]}
    assert features["register"]["kind"] == "category"
    assert features["day"]["kind"] == "date" and features["day"]["parts"] == [
        "year",
        "month",
        "day_of_year",
        "day_of_week",
    ]
    assert features["opened"]["kind"] == "date" and "hour" in features["opened"]["parts"]
    assert manifest["task"] == "regression" and manifest["metrics"]["r2"] > 0.8  # the season is learnt
    assert manifest["onnx"]["status"] == "passed", manifest["onnx"]["reason"]  # dates enter the graph as parts
    profile = {feature["name"]: feature for feature in project.json("reports/data_profile.json")["features"]}
    assert (profile["day"]["min"], profile["day"]["max"]) == ("2020-01-01T00:00:00", "2023-12-30T00:00:00")
    page = python(
        project,
        f"import json; from {project.package}.table.pages import data_page; "
        "print(data_page(json.load(open('reports/data_profile.json'))))",
    )
    assert "2020-01-01T00:00:00" in page and "2023-12-30T00:00:00" in page
    answers = python(
        project,
        f"""
import json
from pydantic import ValidationError
from pathlib import Path
from {project.package}.serving.predictor import predict_rows
from {project.package}.serving.runtime import load_runtime
from {project.package}.serving.schemas import request_model
loaded = load_runtime(Path("models/model.joblib"))  # the ONNX copy: dates enter as their parts
model = request_model(loaded.manifest["features"], 10, 10_000)
for day in ["2024-04-01", "2024-04-01T09:30", "2024-04-01T09:30:15Z", "2024-04-01 09:30+01:00", "2024-02-30", "July 1"]:
    row = {{"day": day, "opened": "2024-07-01T09:00:00+01:00", "store": "north", "register": "2"}}
    try:
        model.model_validate({{"instances": [row]}})
        print(day, "ok", round(predict_rows(loaded, [row])["predictions"][0]))
    except ValidationError:
        print(day, "refused")
""",
    ).splitlines()
    assert [line.split()[-1] for line in answers[-2:]] == ["refused", "refused"]
    spring = [int(line.split()[-1]) for line in answers[:4]]
    assert len(set(spring)) == 1 and spring[0] > 110, answers  # above the year's mean (100): the season is learnt

    # A batch file as a database exports it: Parquet with real datetime columns, the code as a number.
    batch = daily_sales().head(30)
    batch["day"] = pd.to_datetime(batch["day"])
    batch.drop(columns="sales").to_parquet(project.path / "batch.parquet")
    scored = project.run(str(BIN / "python"), "manage.py", "predict_file", "batch.parquet", "scored.csv")
    assert "scored 30 rows" in scored.stdout
    assert pd.read_csv(project.path / "scored.csv")["prediction"].notna().all()


def test_a_typo_anywhere_in_params_is_refused_with_the_closest_key(bake: Callable[..., Project]) -> None:
    project = bake(use_django="no")
    path = project.path / "params.yaml"
    original = path.read_text()
    cases = {
        "  split: 0.2": ("  splt: 0.2", "params.yaml: unknown key prepare.splt (did you mean prepare.split?)"),
        "  backend: local": (
            "  n_estimator: 50\n  backend: local",
            "params.yaml: unknown key train.n_estimator (did you mean train.hyperparams.random_forest.n_estimators?)",
        ),
        "      min_samples_leaf: 1": (
            "      min_samples_leaf: 1\n      max_dept: 3",
            "train.hyperparams.random_forest: 'max_dept' is not a parameter of RandomForestClassifier",
        ),
    }
    for old, (new, message) in cases.items():
        path.write_text(original.replace(old, new, 1))
        result = project.dvc("repro", check=False)
        assert result.returncode != 0 and message in result.stderr, result.stderr
        assert not (project.path / "models" / "model.joblib").exists()


def test_switching_models_is_one_set_param(bake: Callable[..., Project]) -> None:
    project = bake(use_django="no")
    project.dvc("repro")
    project.commit_all("First model")
    project.dvc("exp", "run", "-S", "train.model=linear")
    manifest = project.json("models/model.json")
    assert manifest["estimator"] == "LogisticRegression" and manifest["params"]["train"]["model"] == "linear"
    assert project.json("metrics/metrics.json")["accuracy"] > 0.9
    project.dvc("exp", "run", "-S", "train.model=random_forest", "-S", "train.hyperparams.random_forest.max_depth=5")
    manifest = project.json("models/model.json")
    assert manifest["estimator"] == "RandomForestClassifier"
    assert manifest["params"]["train"]["hyperparams"]["random_forest"]["max_depth"] == 5


def test_a_numeric_csv_target_gets_regression_plots(bake: Callable[..., Project]) -> None:
    project = bake(dataset="csv", use_django="no")
    churn_frame(600, seed=2, missing=0.0).drop(columns="churned").to_csv(
        project.path / "data" / "raw" / "data.csv", index=False
    )
    project.set_params("data", target="monthly_charges")
    project.dvc("repro")
    shown = project.dvc("plots", "show")
    output = shown.stdout + shown.stderr
    assert "failed" not in output.lower() and "could not" not in output.lower(), output
    html = (project.path / "dvc_plots" / "index.html").read_text()
    assert "Predicted vs actual" in html and "Residuals" in html and "Feature importance" in html
    assert "ROC curve" not in html
    assert json.loads((project.path / "plots" / "roc.json").read_text()) == []
    project.run("git", "add", "-A")
    assert "dvc_plots" not in project.run("git", "status", "--porcelain").stdout

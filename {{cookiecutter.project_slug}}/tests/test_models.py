"""Task inference and the estimators by name."""

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.errors import DataError, PipelineError
from {{ cookiecutter.package_name }}.table.modeling.estimators import ESTIMATORS, build_estimator
from {{ cookiecutter.package_name }}.table.prepare import split
from {{ cookiecutter.package_name }}.table.profile import profile
from {{ cookiecutter.package_name }}.table.task import infer_task


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["yes", "no", "yes"], "classification"),
        ([True, False, True], "classification"),
        ([0, 1, 2, 1], "classification"),
        ([0.5, 1.25, 3.0], "regression"),
        (list(range(100)), "regression"),
    ],
)
def test_task_is_inferred_from_the_target(values: list, task: str) -> None:
    assert infer_task(pd.Series(values)) == task


def test_task_can_be_forced() -> None:
    assert infer_task(pd.Series([0, 1, 0]), "regression") == "regression"


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_every_estimator_builds_seeded(name: str, task: str) -> None:
    estimator = build_estimator(name, task, {}, seed=7)
    assert estimator.get_params().get("random_state", 7) == 7


def test_unknown_model_is_named() -> None:
    with pytest.raises(PipelineError, match=r"train\.model 'xgboost' is not one of"):
        build_estimator("xgboost", "classification", {}, seed=0)


def test_misspelt_hyperparameter_suggests_the_right_one() -> None:
    with pytest.raises(PipelineError, match="did you mean 'n_estimators'"):
        build_estimator("random_forest", "classification", {"n_estimator": 10}, seed=0)
    with pytest.raises(PipelineError, match=r"'c' is not a parameter of LogisticRegression \(did you mean 'C'\?\)"):
        build_estimator("linear", "classification", {"c": 0.5}, seed=0)  # scikit-learn spells it upper case


def test_unknown_task_is_named() -> None:
    with pytest.raises(PipelineError, match=r"train\.task 'clustering'"):
        infer_task(pd.Series([1, 2]), "clustering")


def test_the_profile_and_the_split_follow_the_task_train_fits() -> None:
    floats = pd.DataFrame({"x": range(40), "y": [0.5, 1.5, 2.5, 3.5, 4.5] * 8})
    target = profile(floats, "y")["target"]
    assert target["task"] == "regression" and "classes" not in target  # as train infers it
    notes = floats.assign(note=["late again", "fine"] * 20)
    kinds = {f["name"]: f["kind"] for f in profile(notes, "y", text=("note",))["features"]}
    assert kinds == {"x": "number", "note": "text"}  # data.text: a text, as train's schema says, not a category
    rare = pd.DataFrame({"x": range(40), "y": [0, 1, 2, 3] * 9 + [0, 1, 2, 9]})
    with pytest.raises(DataError, match="class 9 has a single row"):
        split(rare, "y", 0.25, 0)  # auto: a few integers are classes, and 9 cannot be stratified
    train, test = split(rare, "y", 0.25, 0, task="regression")
    assert len(train) + len(test) == 40

"""Train's portable model: each dataset and model option checked against its ONNX copy, or a clean fallback.

breast_cancer, wine and diabetes are checked by tests/test_pipeline.py, digits and images by tests/test_images.py,
docstrings by tests/test_text.py: they train those projects already.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from conftest import BIN, Project
from datagen import churn_frame
from onnx_checks import checked, fell_back

pytestmark = pytest.mark.xdist_group("onnx")  # one worker: its module fixture trains the csv project once

CUSTOM = """
import pandas as pd

OWN_FEATURES = {"charge_per_month": lambda rows: rows["monthly_charges"] / (rows["tenure_months"] + 1)}
"""


def customers_with_dates(rows: int = 600) -> pd.DataFrame:
    """The churn table with a sign-up date and time (some missing): numbers, categories and dates, all with gaps."""
    frame = churn_frame(rows, seed=3, missing=0.1)
    rng = np.random.default_rng(3)
    signup = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000 * 24, rows), unit="h")
    frame.insert(0, "signup", pd.Series(signup.strftime("%Y-%m-%dT%H:00:00")).where(rng.random(rows) > 0.1))
    return frame


def train(project: Project) -> str:
    """Run the train stage alone (its inputs are prepared); return what it printed."""
    return project.run(str(BIN / "python"), "-m", f"{project.package}.train").stdout


@pytest.fixture(scope="module")
def customers(bake_shared: Callable[..., Project]) -> Project:
    """A csv project with numbers, categories and dates, all with missing values, trained once."""
    project = bake_shared(project_name="Onnx Customers", dataset="csv", use_django="no")
    customers_with_dates().to_csv(project.path / "data" / "raw" / "data.csv", index=False)
    output = project.dvc("repro").stdout
    kinds = {feature["kind"] for feature in project.json("models/model.json")["features"]}
    assert kinds == {"number", "category", "date"}
    checked(project, output)  # the default forest
    return project


@pytest.mark.parametrize("model", ["random_forest", "gradient_boosting", "linear", "svm"])
def test_every_converting_model_option_is_checked_on_dates_categories_and_gaps(customers: Project, model: str) -> None:
    customers.set_params("train", model=model)
    onnx = checked(customers, train(customers))
    date = next(entry for entry in onnx["inputs"] if entry["kind"] == "date")
    assert date == {"name": "signup", "features": ["signup"], "kind": "date"}  # its parts enter the graph


def test_histogram_boosting_passes_or_falls_back_with_its_reason(customers: Project) -> None:
    customers.set_params("train", model="hist_gradient_boosting")
    output = train(customers)
    if customers.json("models/model.json")["onnx"]["status"] == "passed":
        checked(customers, output)
    else:
        assert fell_back(customers, output).startswith("skl2onnx cannot convert it: ")


def test_own_features_fall_back_to_the_pickle_and_a_stale_copy_goes(customers: Project) -> None:
    custom = customers.path / "src" / customers.package / "table" / "features" / "custom.py"
    original = custom.read_text()
    customers.set_params("train", model="random_forest")
    checked(customers, train(customers))  # a model.onnx to go stale
    try:
        custom.write_text(CUSTOM)
        reason = fell_back(customers, train(customers))
        assert reason == "your own features (table/features/custom.py) are Python functions that ONNX cannot express"
    finally:
        custom.write_text(original)

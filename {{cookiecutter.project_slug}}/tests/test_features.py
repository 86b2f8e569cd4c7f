"""The feature encoders, the model pipeline and progress reporting for large data."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.date_parts import date_part_values
from {{ cookiecutter.package_name }}.data.schema import feature_schema
from {{ cookiecutter.package_name }}.progress import progress
from {{ cookiecutter.package_name }}.table.features import custom
from {{ cookiecutter.package_name }}.table.features.native import encode_matrix, fitting_rows, observed_categories
from {{ cookiecutter.package_name }}.table.features.preprocessor import build_preprocessor
from {{ cookiecutter.package_name }}.table.modeling.export import export_onnx
from {{ cookiecutter.package_name }}.table.modeling.pipeline import build_pipeline

FRAME = pd.DataFrame(
    {
        "amount": np.linspace(0, 1, 40, dtype="float32"),
        "plan": pd.Series(["basic", "pro", None, "basic"] * 10, dtype="category"),
    }
)
LABELS = pd.Series(["no", "yes"] * 20)


def test_a_feature_of_your_own_sees_dates_as_training_did_when_the_api_sends_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def weekend(rows: pd.DataFrame) -> pd.Series:
        return rows["ordered"].dt.day_of_week >= 5

    monkeypatch.setitem(custom.OWN_FEATURES, "weekend", weekend)
    ordered = pd.Series(pd.date_range("2024-03-01", periods=40, freq="D"))  # prepare's naive UTC datetimes
    frame = FRAME.assign(ordered=ordered)
    train = {"model": "random_forest", "seed": 0, "hyperparams": {"random_forest": {"n_estimators": 5}}}
    pipeline = build_pipeline(train, "classification", feature_schema(frame)).fit(frame, LABELS)
    # as the API's rows reach the pickle: ISO 8601 text, with or without a zone (a Friday in UTC, then a Saturday)
    sent = frame.head(2).astype({"ordered": object}).assign(ordered=["2024-03-02T00:30+01:00", "2024-03-02T00:30"])
    names = list(pipeline.named_steps["features"].get_feature_names_out())
    column = pipeline.named_steps["features"].transform(sent)[:, names.index("own__weekend")]
    assert column.tolist() == [0.0, 1.0]
    assert pipeline.predict(sent).shape == (2,)


def test_a_dates_parts_with_numpy_alone_are_pandas_own_in_training_and_serving() -> None:
    # the serving image has no pandas: the parts are computed with numpy, and must be pandas' in UTC
    parts = ["year", "month", "day_of_year", "day_of_week", "hour"]
    moments = pd.Series(pd.to_datetime(np.random.default_rng(0).integers(-2e9, 4e9, 2000), unit="s"))
    moments[::9] = pd.NaT
    texts = [*moments.dt.strftime("%Y-%m-%dT%H:%M:%S").where(moments.notna(), None)]
    zoned = ["2024-02-29 23:30:05.5-02:30", "2024-12-31T23:30Z", "2024-03-15T09:30:00.123456789", "2024-03-15"]
    for values in (moments, texts, zoned):  # a training column, and what a client sends
        utc = pd.Series(pd.to_datetime(pd.Series(list(values), dtype=object), format="ISO8601", utc=True))
        columns = [getattr(utc.dt, part).to_numpy(dtype=np.float32, na_value=np.nan) for part in parts]
        expected = np.column_stack(columns)
        assert np.array_equal(date_part_values(values, parts), expected, equal_nan=True)


def test_the_default_encoder_outputs_float32() -> None:
    encoded = build_preprocessor(feature_schema(FRAME)).fit_transform(FRAME)
    assert encoded.dtype == np.float32 and encoded.shape == (40, 1 + 2)  # amount + one-hot basic/pro


def test_the_onnx_input_of_all_numbers_gives_way_to_a_feature_of_its_name() -> None:
    frame = FRAME.rename(columns={"plan": "numbers"})  # a category called "numbers"
    schema = feature_schema(frame)
    train = {"model": "random_forest", "seed": 0, "hyperparams": {"random_forest": {"n_estimators": 5}}}
    pipeline = build_pipeline(train, "classification", schema).fit(frame, LABELS)
    _, report = export_onnx(pipeline, schema, frame)
    assert report["status"] == "passed", report["reason"]
    assert [(entry["name"], entry["features"]) for entry in report["inputs"]] == [
        ("numbers_", ["amount"]),
        ("numbers", ["numbers"]),
    ]


def test_histogram_boosting_takes_categories_natively_and_unseen_ones_as_missing() -> None:
    train = {"model": "hist_gradient_boosting", "seed": 0, "hyperparams": {"hist_gradient_boosting": {"max_iter": 5}}}
    pipeline = build_pipeline(train, "classification", feature_schema(FRAME)).fit(FRAME, LABELS)
    assert list(pipeline[-1].categorical_features) == [False, True]
    unseen = pd.DataFrame({"amount": [0.5], "plan": pd.Series(["enterprise"], dtype="category")})
    assert pipeline.predict(unseen)[0] in {"no", "yes"}


def test_a_category_with_more_levels_than_max_bins_is_split_on_as_a_number() -> None:
    three_plans = FRAME.assign(plan=pd.Series(["basic", "pro", "team", "basic"] * 10, dtype="category"))
    hyperparams = {"hist_gradient_boosting": {"max_iter": 5, "max_bins": 2}}
    train = {"model": "hist_gradient_boosting", "seed": 0, "hyperparams": hyperparams}
    pipeline = build_pipeline(train, "classification", feature_schema(three_plans)).fit(three_plans, LABELS)
    assert pipeline[-1].categorical_features is None  # 3 levels > max_bins: a number


def test_the_native_encoder_fitted_on_a_few_rows_encodes_like_one_fitted_on_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = FRAME.assign(
        code=pd.Series([7, 3, None, 7] * 10, dtype="category"),  # integer categories, the first row not missing
        active=[True, False] * 20,
    )
    schema = feature_schema(table)
    given = build_preprocessor(schema, native=True, categories=observed_categories(table, schema))
    given.fit(fitting_rows(table, schema))
    monkeypatch.setattr("{{ cookiecutter.package_name }}.progress.CHUNK_ROWS", 3)
    learned = build_preprocessor(schema, native=True).fit(table)
    assert np.array_equal(encode_matrix(given, table), learned.transform(table), equal_nan=True)


def test_progress_in_a_log_prints_rows_rate_and_time_left(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROGRESS_SECONDS", "0")  # a line per update instead of one per 30 s
    with progress(300, "predict") as bar:
        for _ in range(3):
            bar.update(100)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0].startswith("predict: 100/300 rows (33%), ") and lines[0].endswith(" left")
    assert "rows/s" in lines[0] and "\r" not in err


def test_a_quick_step_prints_no_progress(capsys: pytest.CaptureFixture[str]) -> None:
    with progress(300, "predict") as bar:
        bar.update(300)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("model", ["linear", "random_forest", "hist_gradient_boosting"])
def test_a_feature_added_in_custom_py_reaches_the_model(model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def amount_squared(rows: pd.DataFrame) -> pd.Series:
        return rows["amount"] ** 2

    monkeypatch.setitem(custom.OWN_FEATURES, "amount_squared", amount_squared)
    train = {"model": model, "seed": 0, "hyperparams": {}}
    pipeline = build_pipeline(train, "classification", feature_schema(FRAME)).fit(FRAME, LABELS)
    names = list(pipeline.named_steps["features"].get_feature_names_out())
    assert "own__amount_squared" in names and pipeline[-1].n_features_in_ == len(names)
    column = pipeline.named_steps["features"].transform(FRAME)[:, names.index("own__amount_squared")]
    if model == "linear":
        assert np.isclose(column.std(), 1, atol=0.01)  # imputed and scaled like any number
    else:
        assert np.allclose(column, FRAME["amount"] ** 2)  # trees take it as it is: scaling moves no split
    assert pipeline.predict(FRAME.head(3)).shape == (3,)  # requests carry the raw features only

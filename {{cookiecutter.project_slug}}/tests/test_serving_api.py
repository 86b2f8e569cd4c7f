"""The prediction API through Django's test client: the happy path and every kind of bad request, in each runtime."""

import hashlib
import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import onnxruntime
import pandas as pd
import pytest
from django.core import checks
from django.test import Client
from pydantic import ValidationError
from pytest_django.fixtures import Settings

from {{ cookiecutter.package_name }}.data.schema import Feature
from {{ cookiecutter.package_name }}.serving.conf import DEFAULTS
from {{ cookiecutter.package_name }}.serving.model_store import store
from {{ cookiecutter.package_name }}.serving.models import ModelVersion, PredictionLog
from {{ cookiecutter.package_name }}.serving.schemas import field_errors, request_model
from {{ cookiecutter.package_name }}.table.pages import curl_example

pytestmark = pytest.mark.django_db


@pytest.fixture
def serving_project(table_trained: Path) -> Path:
    """These tests send table rows: a table model, in an image project too (tests/test_serving_images.py: images)."""
    return table_trained


@pytest.fixture(params=["onnx", "sklearn"])
def runtime(request: pytest.FixtureRequest) -> str:
    """Every test here runs against both runtimes: models/model.onnx through onnxruntime, and the pickle."""
    return request.param


@pytest.fixture
def manifest(model_copy: Path) -> dict[str, Any]:
    return json.loads(model_copy.with_suffix(".json").read_text())


@pytest.fixture
def rows(serving_project: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Test-set rows as a client would send them (missing values as null)."""
    frame = pd.read_parquet(serving_project / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    return json.loads(frame.to_json(orient="records"))


def post(client: Client, body: Any, content_type: str = "application/json") -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/api/predict", data=data, content_type=content_type)


def bad_fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_a_date_is_iso_8601_and_real_or_named_in_words() -> None:
    date = Feature(name="ordered", dtype="datetime64[ns]", kind="date", nullable=False, categories=None)
    model = request_model([date], max_rows=10, max_text_chars=100)
    assert model.model_json_schema()["$defs"]["Instance"]["properties"]["ordered"]["pattern"].startswith("^")
    for value in ("2024-03-01", "2024-03-01T09:30", "2024-03-01 09:30:15.5Z", "2024-03-01T09:30+01:00"):
        model.model_validate({"instances": [{"ordered": value}]})
    for value, message in [
        ("01.03.2024", "Value error, expected an ISO 8601 date or date and time, such as 2024-03-01 or "),
        ("2024-02-30", "Value error, not a real date: day is out of range for month"),
    ]:
        with pytest.raises(ValidationError) as refused:
            model.model_validate({"instances": [{"ordered": value}]})
        assert [(error["field"], error["message"][: len(message)]) for error in field_errors(refused.value)] == [
            ("instances[0].ordered", message)
        ]


def sent_by(curl: str) -> Any:
    """The JSON body a model card's curl example sends, read as a shell reads the command."""
    command = curl.removeprefix("```bash\n").removesuffix("```\n").replace("\\\n", " ")
    arguments = shlex.split(command)
    return json.loads(arguments[arguments.index("-d") + 1])


def test_the_model_cards_curl_example_is_answered(client: Client, serving_project: Path, manifest: dict) -> None:
    profile = json.loads((serving_project / "reports" / "data_profile.json").read_text())
    response = post(client, sent_by(curl_example(manifest, profile, None)))
    assert response.status_code == 200, response.json()
    city = Feature(name="city", dtype="object", kind="category", nullable=False, categories=["O'Hare Süd"])
    most_frequent = {"features": [{"name": "city", "top": {"O'Hare Süd": 3}}]}
    quoted = sent_by(curl_example({"features": [city]}, most_frequent, None))
    assert quoted == {"instances": [{"city": "O'Hare Süd"}]}  # a quote in a value survives the shell


def test_predict_returns_one_answer_per_row_and_the_model_identity(client: Client, rows: list, manifest: dict) -> None:
    response = post(client, {"instances": rows[:5]})
    assert response.status_code == 200
    body = response.json()
    assert len(body["predictions"]) == 5
    assert body["model"] == {"version": manifest["sha256"][:12], "sha256": manifest["sha256"]}
    if manifest["task"] == "classification":
        assert set(body["predictions"]) <= set(manifest["classes"])
        assert all(abs(sum(p) - 1) < 1e-4 and len(p) == len(manifest["classes"]) for p in body["probabilities"])
    else:
        assert "probabilities" not in body


def test_unknown_and_missing_fields_are_named(client: Client, rows: list, manifest: dict) -> None:
    first = next(f["name"] for f in manifest["features"] if not f["nullable"])
    row = {key: value for key, value in rows[0].items() if key != first} | {"not_a_feature": 1}
    response = post(client, {"instances": [row]})
    assert response.status_code == 422
    assert set(bad_fields(response)) == {f"instances[0].{first}", "instances[0].not_a_feature"}


def test_wrong_types_are_named(client: Client, rows: list, manifest: dict) -> None:
    feature = manifest["features"][0]
    wrong = 12.5 if feature["kind"] in ("category", "text") else "12.5"
    response = post(client, {"instances": [rows[0] | {feature["name"]: wrong}]})
    assert response.status_code == 422
    assert bad_fields(response) == [f"instances[0].{feature['name']}"]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_refused(client: Client, rows: list, manifest: dict, token: str) -> None:
    if not numbers(manifest):
        pytest.skip("this data set has no numeric feature")
    number = numbers(manifest)[0]["name"]
    body = json.dumps({"instances": [rows[0] | {number: 0.5}]}).replace("0.5", token, 1)
    response = post(client, body)
    assert 400 <= response.status_code < 500
    assert response.json()["errors"]


def test_null_only_where_training_had_missing_values(client: Client, rows: list, manifest: dict) -> None:
    for feature in manifest["features"]:
        response = post(client, {"instances": [rows[0] | {feature["name"]: None}]})
        expected = 200 if feature["nullable"] else 422
        assert response.status_code == expected, feature["name"]


def test_a_nullable_feature_may_be_left_out(client: Client, rows: list, manifest: dict) -> None:
    nullable = [f["name"] for f in manifest["features"] if f["nullable"]]
    if not nullable:
        pytest.skip("no feature of this data set had missing values in training")
    row = {key: value for key, value in rows[0].items() if key not in nullable}
    left_out = post(client, {"instances": [row]})
    assert left_out.status_code == 200
    assert left_out.json() == post(client, {"instances": [row | dict.fromkeys(nullable)]}).json()  # as null


def numbers(manifest: dict) -> list[dict]:
    return [f for f in manifest["features"] if f["kind"] == "number"]


@pytest.mark.parametrize("value", [1e300, -1e300, 3.5e38, -3.5e38, 1e38, -1e38])
def test_huge_numbers_are_a_named_4xx_never_a_500(client: Client, rows: list, manifest: dict, value: float) -> None:
    for feature in numbers(manifest):
        response = post(client, {"instances": [rows[0] | {feature["name"]: value}]})
        assert response.status_code in (200, 422), (feature["name"], value, response.content)
        if response.status_code == 422:
            assert bad_fields(response) == [f"instances[0].{feature['name']}"]


def test_numbers_at_their_bounds_are_predicted(client: Client, rows: list, manifest: dict) -> None:
    if not numbers(manifest):
        pytest.skip("this data set has no numeric feature")
    assert all(f["minimum"] < 0 < f["maximum"] for f in numbers(manifest))
    for feature in numbers(manifest):
        for bound in (feature["minimum"], feature["maximum"]):
            response = post(client, {"instances": [rows[0] | {feature["name"]: bound}]})
            assert response.status_code == 200, (feature["name"], bound, response.content)
    at_once = [rows[0] | {f["name"]: f[bound] for f in numbers(manifest)} for bound in ("minimum", "maximum")]
    answer = post(client, {"instances": at_once})
    assert answer.status_code == 200
    values = answer.json()["probabilities"] if manifest["task"] == "classification" else answer.json()["predictions"]
    assert np.isfinite(np.asarray(values, dtype=float)).all(), answer.content  # the bounds hold in float32 too


def test_a_category_never_seen_in_training_is_accepted(client: Client, rows: list, manifest: dict) -> None:
    categories = [f["name"] for f in manifest["features"] if f["kind"] == "category"]
    if not categories:
        pytest.skip("this data set has no categorical feature")
    response = post(client, {"instances": [rows[0] | {categories[0]: "never-seen-before"}]})
    assert response.status_code == 200
    answer = response.json()
    assert len(answer["predictions"]) == 1 and answer["predictions"][0] in manifest["classes"]
    assert sum(answer["probabilities"][0]) == pytest.approx(1.0)  # the category is ignored, the rest predicts


def texts(manifest: dict) -> list[str]:
    return [f["name"] for f in manifest["features"] if f["kind"] == "text"]


def test_a_text_over_the_length_limit_is_named(client: Client, rows: list, manifest: dict, settings: Settings) -> None:
    if not texts(manifest):
        pytest.skip("this data set has no text feature")
    settings.SERVING_MAX_TEXT_CHARS = 20
    from {{ cookiecutter.package_name }}.serving.model_store import store

    store.reset()
    name = texts(manifest)[0]
    assert post(client, {"instances": [rows[0] | {name: "a" * 20}]}).status_code == 200
    response = post(client, {"instances": [rows[0] | {name: "short"}, rows[0] | {name: "a" * 21}]})
    assert response.status_code == 422 and bad_fields(response) == [f"instances[1].{name}"]
    assert "at most 20 characters" in response.json()["errors"][0]["message"]


def test_a_text_is_a_string_and_may_be_empty(client: Client, rows: list, manifest: dict) -> None:
    if not texts(manifest):
        pytest.skip("this data set has no text feature")
    name = texts(manifest)[0]
    for wrong in (12, ["a list"], None):
        response = post(client, {"instances": [rows[0] | {name: wrong}]})
        assert response.status_code == 422 and bad_fields(response) == [f"instances[0].{name}"], wrong
    answer = post(client, {"instances": [rows[0] | {name: ""}]})
    assert answer.status_code == 200 and answer.json()["predictions"][0] in manifest["classes"]


def test_empty_and_too_many_instances_are_refused(
    client: Client, rows: list, settings: Settings, model_copy: Path
) -> None:
    assert post(client, {"instances": []}).status_code == 422
    assert bad_fields(post(client, {"instances": []})) == ["instances"]
    settings.SERVING_MAX_ROWS = 3
    from {{ cookiecutter.package_name }}.serving.model_store import store

    store.reset()
    response = post(client, {"instances": (rows * 4)[:4]})
    assert response.status_code == 422 and bad_fields(response) == ["instances"]


def test_bodies_that_are_not_a_json_object_of_instances(client: Client, rows: list, settings: Settings) -> None:
    assert post(client, "{not json").status_code == 400
    assert post(client, "[]").status_code == 422
    assert post(client, {"rows": rows[:1]}).status_code == 422
    response = post(client, {"instances": rows[:1]}, content_type="text/plain")
    assert response.status_code == 415 and "application/json" in response.json()["detail"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = post(client, {"instances": rows[:3]})
    assert response.status_code == 413 and response.json()["detail"].startswith("request body too large")


def test_a_tampered_model_is_never_loaded(
    client: Client, model_copy: Path, runtime: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = model_copy.with_suffix(".onnx" if runtime == "onnx" else ".joblib")
    served.write_bytes(served.read_bytes() + b"tampered")
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("a model was unpickled"))
    monkeypatch.setattr(onnxruntime, "InferenceSession", lambda *a, **k: pytest.fail("a tampered model was loaded"))
    health = client.get("/api/health")
    assert health.status_code == 503
    assert "refusing to load it" in health.json()["reason"]
    assert post(client, {"instances": [{}]}).status_code == 503
    assert client.get("/api/model").status_code == 503


def test_a_missing_model_makes_health_say_why(client: Client, model_copy: Path, runtime: str) -> None:
    model_copy.with_suffix(".onnx" if runtime == "onnx" else ".joblib").unlink()
    health = client.get("/api/health")
    assert health.status_code == 503 and "no model file" in health.json()["reason"]


def test_a_host_site_sets_only_the_model_path(client: Client, rows: list, settings: Settings) -> None:
    """In another Django site every SERVING_ setting has a default but the model path, whose absence is named."""
    for name in DEFAULTS:
        delattr(settings, name)
    assert post(client, {"instances": rows[:2]}).status_code == 200
    del settings.SERVING_MODEL_PATH
    store.reset()
    health = client.get("/api/health")
    assert health.status_code == 503 and "SERVING_MODEL_PATH is not set" in health.json()["reason"]
    assert "serving.W001" in [message.id for message in checks.run_checks()]


def test_model_and_health_describe_the_served_model(
    client: Client, manifest: dict, model_copy: Path, runtime: str
) -> None:
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json()["model"]["sha256"] == manifest["sha256"]
    described = client.get("/api/model").json()
    assert described["metrics"] == manifest["metrics"] and described["version"] == manifest["sha256"][:12]
    served = model_copy.with_suffix(".onnx" if runtime == "onnx" else ".joblib")  # the runtime and its file
    assert (described["runtime"], described["served_file"]) == (runtime, served.name)
    assert client.get("/api/health").json()["runtime"] == runtime  # the ops view: which runtime answers
    assert described["served_sha256"] == hashlib.sha256(served.read_bytes()).hexdigest()
    assert ModelVersion.objects.filter(sha256=manifest["sha256"]).exists()  # registered at first load


def test_model_names_the_release_and_stage_from_git_tags(client: Client, model_copy: Path) -> None:
    root = model_copy.parent.parent
    identity = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    for command in (["init", "-q", "-b", "main"], ["add", "models"], [*identity, "commit", "-qm", "Model"],
                    [*identity, "tag", "-a", "model@v0.0.1", "-m", "Register"],  # GTO's tags are annotated
                    [*identity, "tag", "-a", "model#prod#1", "-m", "Promote"]):  # fmt: skip
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    described = client.get("/api/model").json()
    assert (described["version"], described["stage"], described["stages"]) == ("model@v0.0.1", "prod", ["prod"])
    assert post(client, {"instances": []}).status_code == 422  # the store loaded the model
    assert client.get("/api/health").json()["model"]["version"] == "model@v0.0.1"


def test_model_runs_no_git_per_request_and_sees_a_promotion(
    client: Client, model_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = model_copy.parent.parent
    identity = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    for command in (["init", "-q", "-b", "main"], ["add", "models"], [*identity, "commit", "-qm", "Model"],
                    [*identity, "tag", "-a", "model@v0.0.1", "-m", "Register"]):  # fmt: skip
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    assert client.get("/api/model").json()["stage"] is None  # the first request reads the history
    calls: list[Any] = []
    run, popen = subprocess.run, subprocess.Popen
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args) or run(*args, **kwargs))
    monkeypatch.setattr(subprocess, "Popen", lambda *args, **kwargs: calls.append(args) or popen(*args, **kwargs))
    for _ in range(5):
        assert client.get("/api/model").json()["version"] == "model@v0.0.1"
    assert calls == []
    monkeypatch.undo()
    subprocess.run(["git", *identity, "tag", "-a", "model#prod#1", "-m", "Promote"], cwd=root, check=True)
    assert client.get("/api/model").json()["stage"] == "prod"  # a new tag: the history is read again


def test_outside_git_the_environment_names_the_release(
    client: Client, model_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a Docker image: no git history; `make docker` sets the version, the deployment its stage
    monkeypatch.setenv("SERVING_MODEL_VERSION", "model@v0.0.7")
    monkeypatch.setenv("SERVING_MODEL_STAGE", "prod")
    described = client.get("/api/model").json()
    assert (described["version"], described["stage"], described["stages"]) == ("model@v0.0.7", "prod", ["prod"])
    assert client.get("/api/health").json()["model"]["version"] == "model@v0.0.7"


def test_the_interactive_docs_are_served(client: Client, model_copy: Path) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "/api/openapi.json" in response.content.decode()  # the page loads this API's own schema


def test_openapi_shows_the_real_feature_fields(client: Client, manifest: dict) -> None:
    schema = client.get("/api/openapi.json").json()
    fields = schema["components"]["schemas"]["Instance"]["properties"]
    assert list(fields) == [f["name"] for f in manifest["features"]]
    body = schema["paths"]["/api/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PredictRequest"}
    for feature in (f for f in manifest["features"] if f["kind"] == "number"):
        field = fields[feature["name"]]
        number = next(s for s in field.get("anyOf", [field]) if s.get("type") == "number")
        assert (number["minimum"], number["maximum"]) == (feature["minimum"], feature["maximum"])
    for feature in (f for f in manifest["features"] if f["kind"] == "text"):  # the length limit, stated
        assert (fields[feature["name"]]["type"], fields[feature["name"]]["maxLength"]) == ("string", 10_000)
    required = schema["components"]["schemas"]["Instance"].get("required", [])
    assert required == [f["name"] for f in manifest["features"] if not f["nullable"]]


def test_openapi_lists_every_status_each_endpoint_answers(client: Client, model_copy: Path) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    statuses = {path: set(operations[method]["responses"]) for path, operations in paths.items()
                for method in operations}  # fmt: skip
    assert statuses["/api/predict"] == {"200", "400", "413", "415", "422", "500", "503"}
    assert statuses["/api/model"] == statuses["/api/health"] == {"200", "500", "503"}
    # its own endpoints and the shared ones only: no recommender's or tagger's in a table project
    assert set(paths) == {"/api/model", "/api/health", "/api/feedback", "/api/predict", "/api/predict/image"}


def test_the_prediction_log_is_off_by_default_and_bounded_when_on(
    client: Client, rows: list, settings: Settings
) -> None:
    post(client, {"instances": rows[:2]})
    assert PredictionLog.objects.count() == 0
    settings.SERVING_PREDICTION_LOG = True
    settings.SERVING_PREDICTION_LOG_MAX_ROWS = 3
    for _ in range(5):
        assert post(client, {"instances": rows[:2]}).status_code == 200
    assert PredictionLog.objects.count() == 3  # one entry per predicted row, the newest kept
    newest = PredictionLog.objects.first()
    assert (newest.source, newest.inputs, newest.label) == ("api", rows[1], None)


def test_the_admin_names_the_model_version_that_answered_each_logged_request(
    admin_client: Client, client: Client, rows: list, settings: Settings
) -> None:
    settings.SERVING_PREDICTION_LOG = True
    answer = post(client, {"instances": rows[:2]}).json()["model"]  # serving a model registers it
    ModelVersion.objects.filter(sha256=answer["sha256"]).update(version="model@v0.0.9")  # as once tagged
    listing = admin_client.get("/admin/serving/predictionlog/").text
    assert "model version" in listing.lower() and "model@v0.0.9" in listing
    entry = PredictionLog.objects.first()  # one entry per row
    assert "model@v0.0.9" in admin_client.get(f"/admin/serving/predictionlog/{entry.pk}/change/").text


def test_admin_lists_model_versions(admin_client: Client, client: Client, model_copy: Path) -> None:
    served = client.get("/api/health").json()["model"]  # serving a model registers it
    versions = admin_client.get("/admin/serving/modelversion/")
    assert versions.status_code == 200
    page = versions.content.decode()
    assert served["sha256"] in page and served["version"] in page
    assert admin_client.get("/admin/serving/predictionlog/").status_code == 200
    for records in ("modelversion", "predictionlog"):  # the server writes them: no "Add" by hand
        assert admin_client.get(f"/admin/serving/{records}/add/").status_code == 403
        assert f'href="/admin/serving/{records}/add/"' not in admin_client.get(f"/admin/serving/{records}/").text
    assert 'href="/api/docs"' in page  # "View site": the API's pages, not a 404

"""The autolabel app: a record is labelled by the served model when saved, and relabelled from the admin."""

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings

from {{ cookiecutter.package_name }} import prepare, train
from {{ cookiecutter.package_name }}.autolabel.models import Record
from {{ cookiecutter.package_name }}.serving.model_store import store
from {{ cookiecutter.package_name }}.serving.models import PredictionLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Settings, tmp_path: Path) -> None:
    """Uploaded images go to a scratch folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def manifest(model_copy: Path) -> dict[str, Any]:
    return json.loads(model_copy.with_suffix(".json").read_text())


@pytest.fixture
def row(trained: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """A test-set row as a client sends it to the API (missing values as null)."""
    frame = pd.read_parquet(trained / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    return json.loads(frame.head(1).to_json(orient="records"))[0]


def image_feature(manifest: dict[str, Any]) -> dict[str, Any] | None:
    return next((f for f in manifest["features"] if f["kind"] == "image"), None)


def png(row: dict[str, Any], feature: dict[str, Any]) -> SimpleUploadedFile:
    """A prepared image row (pixels in [0, 1]) back as a PNG file of the model's size and colour."""
    from PIL import Image

    width, height = feature["size"]
    shape = (height, width) if feature["color"] == "gray" else (height, width, 3)
    pixels = np.round(np.array(list(row.values()), dtype=float).reshape(shape) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return SimpleUploadedFile("record.png", buffer.getvalue(), content_type="image/png")


def record_inputs(row: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The row as a record's fields: an image file, or `text` for a text model's one text feature and `row`."""
    if feature := image_feature(manifest):
        return {"image": png(row, feature)}
    texts = [f["name"] for f in manifest["features"] if f["kind"] == "text"]
    if len(texts) == 1:
        return {"text": row[texts[0]], "row": {k: v for k, v in row.items() if k != texts[0]}}
    return {"row": row}


def api_answer(client: Client, row: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """What the API answers for the same inputs."""
    if feature := image_feature(manifest):
        return client.post("/api/predict/image", {"image": png(row, feature)}).json()
    return client.post("/api/predict", {"instances": [row]}, content_type="application/json").json()


def served_version(client: Client) -> str:
    return client.get("/api/health").json()["model"]["version"]


def test_a_record_is_labelled_when_saved_as_the_api_predicts(client: Client, row: dict, manifest: dict) -> None:
    record = Record.objects.create(**record_inputs(row, manifest))
    record.refresh_from_db()
    answer = api_answer(client, row, manifest)
    assert record.label_error == "" and record.labelled_at is not None
    assert record.label == str(answer["predictions"][0])
    assert record.model_version == answer["model"]["version"] == manifest["sha256"][:12]
    if manifest["task"] == "classification":
        assert record.label in {str(c) for c in manifest["classes"]}
        assert record.confidence == pytest.approx(max(answer["probabilities"][0]))
    else:
        assert record.confidence is None


def test_with_the_log_on_a_labelling_is_logged_as_an_api_call_is(
    client: Client, row: dict, manifest: dict, settings: Settings
) -> None:
    settings.SERVING_PREDICTION_LOG = True
    Record.objects.create(**record_inputs(row, manifest))
    api_answer(client, row, manifest)
    by_record, by_api = PredictionLog.objects.order_by("id")
    assert (by_record.source, by_api.source) == ("autolabel", "image" if image_feature(manifest) else "api")
    assert by_record.prediction == by_api.prediction and by_record.model_sha256 == manifest["sha256"]
    if not image_feature(manifest):
        assert {**by_record.inputs} == by_api.inputs  # the monitor compares them alike
    else:
        assert {key: by_record.inputs[key] for key in ("brightness", "contrast")} == {
            key: by_api.inputs[key] for key in ("brightness", "contrast")
        }


def test_a_record_added_in_the_admin_is_labelled(admin_client: Client, row: dict, manifest: dict) -> None:
    fields = record_inputs(row, manifest)
    form = {"text": ""} | fields | {"row": json.dumps(fields.get("row", {}))}  # the admin's JSON field takes text
    response = admin_client.post("/admin/autolabel/record/add/", form)
    assert response.status_code == 302, response.content.decode()
    record = Record.objects.get()
    assert record.label != "" and record.label_error == "" and record.model_version == manifest["sha256"][:12]


def test_a_record_the_model_cannot_take_is_saved_unlabelled_with_the_reason(
    manifest: dict, row: dict, settings: Settings
) -> None:
    record = Record.objects.create(row={"not_a_feature": 1})
    record.refresh_from_db()
    assert record.pk and record.label == "" and record.model_version == "" and record.labelled_at is None
    if feature := image_feature(manifest):
        assert record.label_error == "image: no file: this model labels images"
        broken = Record.objects.create(image=SimpleUploadedFile("broken.png", b"not an image"))
        assert broken.label == "" and "broken.png: not an image" in broken.label_error
        settings.SERVING_MAX_IMAGE_PIXELS = 10  # the API's limit holds for records too
        huge = Record.objects.create(image=png(row, feature))
        assert huge.label == "" and "over the limit of 10" in huge.label_error
        return
    required = next(f["name"] for f in manifest["features"] if not f["nullable"])
    assert f"{required}: Field required" in record.label_error
    assert "not_a_feature: Extra inputs are not permitted" in record.label_error
    assert Record.objects.create(row=[1, 2]).label_error.startswith("row must be a JSON object")


def test_without_a_model_records_are_still_saved(row: dict, manifest: dict, settings: Settings, tmp_path: Path) -> None:
    settings.SERVING_MODEL_PATH = tmp_path / "absent" / "model.joblib"
    store.reset()
    record = Record.objects.create(**record_inputs(row, manifest))
    assert Record.objects.get(pk=record.pk).label == ""
    assert record.label_error.startswith("model unavailable:")


def retrain(folder: Path) -> Path:
    """Train another model in `folder` (another split of the data), return its model file."""
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params["prepare"]["seed"] += 1
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    prepare.main()
    train.main()
    return folder / "models" / "model.joblib"


def test_the_admin_action_relabels_the_selected_records_with_the_model_served_now(
    admin_client: Client, client: Client, row: dict, manifest: dict, trained_workdir: Path, settings: Settings
) -> None:
    selected = [Record.objects.create(**record_inputs(row, manifest)) for _ in range(2)]
    other = Record.objects.create(**record_inputs(row, manifest))
    old = served_version(client)
    settings.SERVING_MODEL_PATH = retrain(trained_workdir)
    store.reset()
    new = served_version(client)
    assert new != old

    action = {"action": "relabel", "_selected_action": [record.pk for record in selected]}
    page = admin_client.post("/admin/autolabel/record/", action, follow=True)
    assert page.status_code == 200 and "Relabelled 2 records." in page.content.decode()
    assert [Record.objects.get(pk=record.pk).model_version for record in selected] == [new, new]
    assert Record.objects.get(pk=other.pk).model_version == old  # not selected: untouched
    listing = admin_client.get("/admin/autolabel/record/").content.decode()
    assert new in listing and old in listing and "Relabel with the current model" in listing


def test_the_admin_action_changes_nothing_without_a_model(
    admin_client: Client, row: dict, manifest: dict, settings: Settings, tmp_path: Path
) -> None:
    record = Record.objects.create(**record_inputs(row, manifest))
    settings.SERVING_MODEL_PATH = tmp_path / "absent" / "model.joblib"
    store.reset()
    action = {"action": "relabel", "_selected_action": [record.pk]}
    page = admin_client.post("/admin/autolabel/record/", action, follow=True)
    assert "Nothing relabelled: model unavailable:" in page.content.decode()
    assert Record.objects.get(pk=record.pk).model_version == record.model_version != ""

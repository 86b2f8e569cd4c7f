"""Images through the API and predict_file: a small digits model trained here, whatever this project's data."""

import io
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import table_params
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from PIL import Image
from pytest_django.fixtures import Settings
from sklearn.datasets import load_digits

from {{ cookiecutter.package_name }}.serving.model_store import store
from {{ cookiecutter.package_name }}.serving.models import PredictionLog

pytestmark = pytest.mark.django_db
IMAGES_PER_DIGIT = 40


def png(pixels: np.ndarray, side: int = 8) -> bytes:
    """An 8x8 digit (values 0-16) as a PNG of `side` x `side` pixels."""
    image = Image.fromarray(np.round(pixels * 255 / 16).astype(np.uint8)).resize((side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def image_project(tmp_path_factory: pytest.TempPathFactory, stages: Callable[[Path], Path]) -> Path:
    """A folder where the pipeline trained an 8x8 gray svm on digits PNGs: data/raw/digits/<digit>/."""
    folder = tmp_path_factory.mktemp("images")
    digits = load_digits()
    for digit in range(10):
        (folder / "data" / "raw" / "digits" / str(digit)).mkdir(parents=True)
        for index in np.flatnonzero(digits.target == digit)[:IMAGES_PER_DIGIT]:
            (folder / "data" / "raw" / "digits" / str(digit) / f"{index}.png").write_bytes(png(digits.images[index]))
    params = table_params()
    params["data"] = {"images": "data/raw/digits", "target": "label"}
    params["prepare"] |= {"image_size": [8, 8], "color": "gray"}
    params["train"] |= {"model": "svm", "task": "auto"}
    params["train"]["search"]["method"] = "none"
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    return stages(folder)


@pytest.fixture
def served(image_project: Path, settings: Settings) -> Iterator[dict[str, Any]]:
    """The digits model served by the store; its manifest."""
    settings.SERVING_MODEL_PATH = image_project / "models" / "model.joblib"
    store.reset()
    yield json.loads((image_project / "models" / "model.json").read_text())
    store.reset()


@pytest.fixture(scope="module")
def digits() -> Any:
    return load_digits()


def upload(client: Client, files: list[tuple[str, bytes]], field: str = "image") -> Any:
    """POST the files as multipart/form-data, all in `field`, as a browser form or `curl -F` sends them."""
    data = {field: [io.BytesIO(content) for _, content in files]}
    for handle, (name, _) in zip(data[field], files, strict=True):
        handle.name = name
    return client.post("/api/predict/image", data=data)


def test_images_are_predicted_in_upload_order(client: Client, served: dict, digits: Any) -> None:
    three, seven = (int(np.flatnonzero(digits.target == d)[-1]) for d in (3, 7))  # not among the trained ones
    response = upload(client, [("three.png", png(digits.images[three], 64)), ("seven.png", png(digits.images[seven]))])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["files"] == ["three.png", "seven.png"]
    assert body["predictions"] == ["3", "7"]  # a 64x64 upload is resized to the 8x8 the model learned
    assert all(abs(sum(p) - 1) < 1e-4 and len(p) == 10 for p in body["probabilities"])
    assert body["model"]["sha256"] == served["sha256"]
    assert served["features"] == [
        {"name": "image", "dtype": "float32", "kind": "image", "nullable": False, "categories": None,
         "size": [8, 8], "color": "gray", "pixels": 64}
    ]  # fmt: skip


def test_each_bad_file_is_named_with_its_problem(client: Client, served: dict, digits: Any) -> None:
    good = png(digits.images[0])
    response = upload(client, [("notes.png", b"just text"), ("ok.png", good), ("cut.png", good[: len(good) // 2])])
    assert response.status_code == 422
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert list(errors) == ["image[0]", "image[2]"]
    assert errors["image[0]"].startswith("notes.png: not an image")
    assert errors["image[2]"].startswith("cut.png: damaged or truncated image")


def test_too_many_pixels_is_refused_before_decoding(client: Client, served: dict, settings: Settings) -> None:
    settings.SERVING_MAX_IMAGE_PIXELS = 100
    buffer = io.BytesIO()
    Image.new("L", (20, 10)).save(buffer, format="PNG")
    response = upload(client, [("big.png", buffer.getvalue())])
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "big.png: 20x10 pixels is over the limit of 100"


def test_requests_without_images_get_the_status_that_says_why(
    client: Client, served: dict, settings: Settings, digits: Any
) -> None:
    good = png(digits.images[0])
    missing = upload(client, [("a.png", good)], field="file")
    assert missing.status_code == 400
    assert missing.json()["detail"] == "no file in the field 'image' (files came in: file)"
    json_body = client.post("/api/predict/image", data="{}", content_type="application/json")
    assert json_body.status_code == 415
    # SERVING_MAX_ROWS files, not Django's default of 100 (config/settings.py raises it)
    assert upload(client, [(f"{i}.png", good) for i in range(101)]).status_code == 200
    settings.SERVING_MAX_ROWS = 1
    assert upload(client, [("a.png", good), ("b.png", good)]).status_code == 413
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    as_text = client.post("/api/predict/image", {"image": "iVBORw0KGgo" * 20})  # base64 in a text field
    assert as_text.status_code == 413
    assert as_text.json()["detail"] == "form fields over 100 bytes: send images as files in the field 'image'"
    settings.SERVING_MAX_UPLOAD_BYTES = 100
    too_big = upload(client, [("a.png", good * 10)])
    assert too_big.status_code == 413
    assert "over 100 bytes" in too_big.json()["detail"]


def test_the_json_endpoint_sends_image_clients_to_the_upload(client: Client, served: dict, digits: Any) -> None:
    response = client.post("/api/predict", data={"instances": [{}]}, content_type="application/json")
    assert response.status_code == 422
    assert "/api/predict/image" in response.json()["detail"]
    handle = io.BytesIO(png(digits.images[0]))
    handle.name = "a.png"
    files = client.post("/api/predict", {"image": handle})  # multipart/form-data
    assert files.status_code == 422 and "/api/predict/image" in files.json()["detail"]  # not "send JSON"


def test_openapi_documents_the_upload(client: Client, served: dict) -> None:
    operation = client.get("/api/openapi.json").json()["paths"]["/api/predict/image"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["image"]["items"] == {"type": "string", "format": "binary"}
    assert {"200", "400", "413", "415", "422", "503"} <= set(operation["responses"])


def test_predict_file_scores_a_folder_of_images(served: dict, image_project: Path, tmp_path: Path) -> None:
    output = tmp_path / "scored.csv"
    folder = image_project / "data" / "raw" / "digits" / "4"
    call_command("predict_file", str(folder), str(output))
    lines = output.read_text().splitlines()
    assert lines[0].split(",")[:3] == ["file", "prediction", "probability_0"]
    assert len(lines) == IMAGES_PER_DIGIT + 1
    assert sum(line.split(",")[1] == "4" for line in lines[1:]) >= IMAGES_PER_DIGIT * 0.9
    (folder.parent / "notes.txt").write_text("not an image")
    try:
        with pytest.raises(CommandError, match=r"notes\.txt: not an image"):
            call_command("predict_file", str(folder.parent), str(tmp_path / "none.csv"))
    finally:
        (folder.parent / "notes.txt").unlink()
    assert not (tmp_path / "none.csv").exists()


def monitor_status(folder: Path) -> tuple[int, dict[str, Any]]:
    """`manage.py monitor` over the logged uploads; its exit code and report."""
    with pytest.raises(SystemExit) as exited:
        call_command("monitor", stdout=io.StringIO(), stderr=io.StringIO())
    return int(exited.value.code or 0), json.loads((folder / "reports" / "monitoring.json").read_text())


def test_the_monitor_watches_uploads_by_brightness_and_contrast(
    client: Client, image_project: Path, digits: Any, settings: Settings, tmp_path: Path
) -> None:
    shutil.copytree(image_project, tmp_path / "project", ignore=shutil.ignore_patterns("data"))
    settings.SERVING_MODEL_PATH = tmp_path / "project" / "models" / "model.joblib"
    settings.SERVING_PREDICTION_LOG = True
    store.reset()
    images = digits.images[: 10 * IMAGES_PER_DIGIT]
    for start in range(0, len(images), 100):
        files = [(f"{start + i}.png", png(image)) for i, image in enumerate(images[start : start + 100])]
        assert upload(client, files).status_code == 200
    code, report = monitor_status(tmp_path / "project")
    assert (code, report["status"]) == (0, "ok"), report["message"]
    assert [check["name"] for check in report["checks"]] == ["image (brightness)", "image (contrast)"]

    PredictionLog.objects.all().delete()
    for start in range(0, len(images), 100):  # the same digits, faded: a camera or a scan gone pale
        files = [(f"{start + i}.png", png(image / 3)) for i, image in enumerate(images[start : start + 100])]
        assert upload(client, files).status_code == 200
    code, report = monitor_status(tmp_path / "project")
    drifted = {check["name"] for check in report["checks"] if check["drifted"]}
    assert (code, drifted) == (1, {"image (brightness)", "image (contrast)"}), report["message"]

"""A served entity tagger: POST /api/entities, the example app tagging records on save, predict_file, the monitor."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

from {{ cookiecutter.package_name }}.autolabel.models import Record
from {{ cookiecutter.package_name }}.entities.artifact import load_tagger
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.serving.management.commands.monitor import monitor
from {{ cookiecutter.package_name }}.serving.model_store import store

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(tagger_trained: Path, tmp_path: Path, settings: Settings) -> Iterator[Path]:
    """A private copy of the trained tagger, served by the store."""
    shutil.copytree(tagger_trained / "models", tmp_path / "models")
    settings.SERVING_MODEL_PATH = tmp_path / "models" / "model.joblib"
    settings.MEDIA_ROOT = tmp_path / "media"
    store.reset()
    yield settings.SERVING_MODEL_PATH
    store.reset()


@pytest.fixture
def sentence(tagger_trained: Path) -> str:
    """A held-out text in which the tagger finds at least one entity."""
    examples = json.loads((tagger_trained / "reports" / "entity_examples.json").read_text())
    return next(example["text"] for example in examples if example["found"])


def tag(client: Client, body: Any) -> Any:
    return client.post("/api/entities", json.dumps(body), content_type="application/json")


def test_each_text_gets_its_entities_in_order(client: Client, served: Path, sentence: str) -> None:
    answer = tag(client, {"texts": [sentence, "", "Zoë Müller flew from Zürich."]})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    found, empty, non_ascii = body["entities"]
    assert found == load_tagger(served).tagger.entities(sentence) and found
    for entity in found + non_ascii:
        assert set(entity) == {"start", "end", "label", "text", "confidence"}
    assert all(sentence[e["start"] : e["end"]] == e["text"] for e in found)
    assert empty == []
    assert body["model"]["sha256"] == json.loads(served.with_suffix(".json").read_text())["sha256"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"texts": ["fine", "x" * 10_001]}, "texts[1]", "10,001 characters: at most 10,000"),
        ({"texts": ["a"] * 1001}, "texts", "1,001 texts: send at most 1,000"),
        ({"texts": []}, "texts", "at least 1"),
        ({"texts": ["fine", 42]}, "texts[1]", "string"),
        ({"text": "one"}, "texts", "required"),
        ({"texts": ["a"], "k": 2}, "k", "Extra inputs"),
    ],
    ids=["over-long", "too-many", "none", "not-a-string", "misnamed", "unknown-field"],
)
def test_bad_bodies_are_refused_naming_the_field(
    client: Client, served: Path, body: Any, field: str, message: str
) -> None:
    answer = tag(client, body)
    assert answer.status_code == 422, answer.content
    errors = answer.json()["errors"]
    assert errors[0]["field"] == field and message in errors[0]["message"], errors


def test_the_limits_follow_the_settings(client: Client, served: Path, settings: Settings) -> None:
    settings.SERVING_MAX_TEXT_CHARS = 5
    assert "12 characters: at most 5" in tag(client, {"texts": ["Paris is far"]}).json()["errors"][0]["message"]
    assert tag(client, {"texts": ["Paris"]}).status_code == 200


def test_not_json_is_a_400_and_a_tagger_has_no_predict_endpoint(client: Client, served: Path) -> None:
    assert client.post("/api/entities", "{not json", content_type="application/json").status_code == 400
    paths = set(client.get("/api/openapi.json").json()["paths"])  # its own endpoints and the shared ones only
    assert paths == {"/api/model", "/api/health", "/api/feedback", "/api/entities"}
    answer = client.post("/api/predict", json.dumps({"instances": [{}]}), content_type="application/json")
    assert answer.status_code == 404  # a table model's endpoint: not in this project


def test_the_model_health_and_openapi_describe_the_tagger(client: Client, served: Path) -> None:
    model = client.get("/api/model").json()
    assert model["runtime"] == "crfsuite" and model["served_file"] == "model.crfsuite"
    assert client.get("/api/health").json()["runtime"] == "crfsuite"
    schema = client.get("/api/openapi.json").json()
    assert "/api/entities" in schema["paths"]
    metrics = client.get("/metrics").content.decode()
    assert "model_texts_tagged_total" in metrics or "model_info" in metrics


def test_a_record_is_tagged_when_saved_and_shown_in_the_admin(
    admin_client: Client, served: Path, sentence: str
) -> None:
    record = Record.objects.create(text=sentence)
    record.refresh_from_db()
    found = load_tagger(served).tagger.entities(sentence)
    assert record.entities == found and record.label_error == ""
    assert record.label == ", ".join(sorted({e["label"] for e in found}))
    assert record.confidence == min(e["confidence"] for e in found)
    page = admin_client.get(f"/admin/autolabel/record/{record.pk}/change/").content.decode()
    assert "<mark>" in page and f"<sup>{found[0]['label']}</sup>" in page

    Record.objects.filter(pk=record.pk).update(entities=[], label="")  # as if saved before the tagger
    action = {"action": "relabel", "_selected_action": [record.pk]}
    assert "Relabelled 1 record." in admin_client.post("/admin/autolabel/record/", action, follow=True).content.decode()
    assert Record.objects.get(pk=record.pk).entities == found


def test_a_text_over_the_limit_is_saved_untagged_with_the_reason(served: Path, settings: Settings) -> None:
    settings.SERVING_MAX_TEXT_CHARS = 10
    record = Record.objects.create(text="Ada Lovelace lived in London.")
    assert record.pk and record.entities == [] and "over the 10 the tagger reads" in record.label_error


def test_predict_file_tags_a_column_of_texts(served: Path, tmp_path: Path, sentence: str) -> None:
    source, output = tmp_path / "articles.csv", tmp_path / "tagged.csv"
    pd.DataFrame({"id": [1, 2], "body": [sentence, None]}).to_csv(source, index=False)
    call_command("predict_file", str(source), str(output), "--text", "body")
    tagged = pd.read_csv(output)
    assert json.loads(tagged["entities"][0]) == load_tagger(served).tagger.entities(sentence)
    assert json.loads(tagged["entities"][1]) == []


def test_the_monitor_refuses_a_tagger_and_says_what_to_watch(served: Path, tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="model_entities_found_total"):
        monitor({}, tmp_path / "monitoring.json")

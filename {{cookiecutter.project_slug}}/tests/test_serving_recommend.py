"""A served recommender: GET /api/items/{item}/similar, POST /api/recommend, the template tag, predict_file."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.management import call_command
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import Settings

from {{ cookiecutter.package_name }}.recommend.artifact import load_recommender
from {{ cookiecutter.package_name }}.serving.model_store import store
from {{ cookiecutter.package_name }}.serving.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(recommender_trained: Path, tmp_path: Path, settings: Settings) -> Iterator[Path]:
    """A private copy of the trained recommender, served by the store."""
    shutil.copytree(recommender_trained / "models", tmp_path / "models")
    settings.SERVING_MODEL_PATH = tmp_path / "models" / "model.joblib"
    store.reset()
    yield settings.SERVING_MODEL_PATH
    store.reset()


@pytest.fixture
def known(served: Path) -> dict[str, Any]:
    """The most popular item, a training user and the manifest, as ids a client sends."""
    recommender = load_recommender(served).recommender
    manifest = json.loads(served.with_suffix(".json").read_text())
    item = recommender.items[int(recommender.popularity.argmax())].item()
    return {"item": item, "user": recommender.users[0].item(), "manifest": manifest}


def recommend(client: Client, body: Any) -> Any:
    return client.post("/api/recommend", json.dumps(body), content_type="application/json")


def test_similar_items_come_ranked_with_their_metadata(client: Client, known: dict[str, Any]) -> None:
    answer = client.get(f"/api/items/{known['item']}/similar?k=3")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["fallback"] is None and len(body["items"]) == 3
    assert known["item"] not in [entry["item"] for entry in body["items"]]
    scores = [entry["score"] for entry in body["items"]]
    assert scores == sorted(scores, reverse=True)
    for column in known["manifest"]["recommender"]["metadata"]:
        assert all(column in entry for entry in body["items"])
    assert body["model"]["sha256"] == known["manifest"]["sha256"]


def test_an_unknown_item_gets_the_popular_ones_and_bad_k_is_named(client: Client, known: dict[str, Any]) -> None:
    body = client.get("/api/items/no-such-item/similar?k=2").json()
    assert body["fallback"] == "popularity" and body["items"][0]["item"] == known["item"]
    for k in ("0", "101", "ten"):
        answer = client.get(f"/api/items/{known['item']}/similar?k={k}")
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "k"


def test_recommendations_for_a_user_or_a_visitor(client: Client, known: dict[str, Any]) -> None:
    recommender = load_recommender(Path(str(store.model_path()))).recommender
    by_user = recommend(client, {"user": known["user"], "k": 4}).json()
    assert by_user["fallback"] is None and len(by_user["items"]) == 4
    history = set(recommender.items[recommender.history(0)].tolist())
    assert not history & {entry["item"] for entry in by_user["items"]}  # nothing they already had
    by_items = recommend(client, {"items": [known["item"]], "k": 4}).json()
    assert by_items["fallback"] is None and known["item"] not in [entry["item"] for entry in by_items["items"]]
    assert recommend(client, {"user": "nobody at all"}).json()["fallback"] == "popularity"
    assert recommend(client, {"items": ["nothing", "known"]}).json()["fallback"] == "popularity"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"k": 3}, "body"), ({"user": 1, "items": [1]}, "body"), ({"user": 1.5}, "user"), ({"user": True}, "user"),
     ({"items": [1], "k": 1000}, "k"), ({"items": "1"}, "items")],
)  # fmt: skip
def test_a_bad_request_is_a_422_naming_the_field(client: Client, served: Path, body: Any, field: str) -> None:
    answer = recommend(client, body)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"].split(".")[0] == field


def test_model_health_openapi_and_predict_describe_a_recommender(client: Client, known: dict[str, Any]) -> None:
    model = client.get("/api/model").json()
    assert model["task"] == "recommend" and model["runtime"] == "arrays" and model["served_file"] == "model.npz"
    assert client.get("/api/health").json()["runtime"] == "arrays"
    paths = client.get("/api/openapi.json").json()["paths"]
    k = next(p for p in paths["/api/items/{item}/similar"]["get"]["parameters"] if p["name"] == "k")
    assert k["schema"]["maximum"] == 100 and "/api/recommend" in paths
    paths = set(client.get("/api/openapi.json").json()["paths"])  # its own endpoints and the shared ones only
    assert paths == {"/api/model", "/api/health", "/api/feedback", "/api/items/{item}/similar", "/api/recommend"}
    answer = client.post("/api/predict", json.dumps({"instances": [{}]}), content_type="application/json")
    assert answer.status_code == 404  # a table model's endpoint: not in this project
    assert ModelVersion.objects.filter(sha256=known["manifest"]["sha256"]).exists()  # the admin's registry


def test_tampered_arrays_are_never_served(client: Client, served: Path) -> None:
    npz = served.with_suffix(".npz")
    npz.write_bytes(npz.read_bytes()[:-1] + b"\1")
    store.reset()
    answer = client.get("/api/health")
    assert answer.status_code == 503 and "sha256" in answer.json()["reason"]
    assert client.get("/api/items/1/similar").status_code == 503


def test_answers_and_fallbacks_are_counted_for_prometheus(client: Client, known: dict[str, Any]) -> None:
    def counted() -> dict[str, float]:
        text = client.get("/metrics").content.decode()
        family = next(f for f in text_string_to_metric_families(text) if f.name == "model_items_recommended")
        return {s.labels["fallback"]: s.value for s in family.samples if s.name.endswith("_total")}

    before = counted()
    client.get(f"/api/items/{known['item']}/similar?k=3")
    client.get("/api/items/no-such-item/similar?k=2")
    after = counted()
    assert after.get("none", 0) - before.get("none", 0) == 3
    assert after.get("popularity", 0) - before.get("popularity", 0) == 2


def test_the_template_tag_renders_you_may_also_like_on_a_page(client: Client, known: dict[str, Any]) -> None:
    page = client.get(f"/items/{known['item']}/")
    assert page.status_code == 200
    html = page.content.decode()
    similar = client.get(f"/api/items/{known['item']}/similar?k=5").json()["items"]
    assert "You may also like" in html
    assert all(f'data-item="{entry["item"]}"' in html for entry in similar)  # the API's answer, in process
    unknown = client.get("/items/no-such-item/").content.decode()
    assert "Popular right now" in unknown and 'data-fallback="popularity"' in unknown


def test_predict_file_writes_the_top_k_of_every_user(served: Path, known: dict[str, Any], tmp_path: Path) -> None:
    column = known["manifest"]["recommender"]["columns"]["user"]
    users = tmp_path / "users.csv"
    pd.DataFrame({column: [known["user"], "newcomer"]}).to_csv(users, index=False)
    call_command("predict_file", str(users), str(tmp_path / "out.csv"), "--k", "3")
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out.groupby(column).size().tolist() == [3, 3]
    assert out[out[column] == "newcomer"]["fallback"].eq("popularity").all()
    assert out["rank"].tolist() == [1, 2, 3, 1, 2, 3]

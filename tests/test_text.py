"""Text features (data.text): the bundled docstrings demo and a CSV mixing text with the other kinds, end to end."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
from bs4 import BeautifulSoup

from conftest import BIN, Project
from datagen import churn_frame
from onnx_checks import checked

# Posts one body per line of stdin through Django's test client; prints each status and answer.
API_CLIENT = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()  # allows the test client's host, as pytest-django does
client = Client()
for line in sys.stdin:
    response = client.post("/api/predict", data=line, content_type="application/json")
    print(response.status_code, json.dumps(response.json()))
"""


def table_after(site: BeautifulSoup, heading: str) -> list[list[str]]:
    """The body rows of the first table after the heading whose text is `heading`."""
    title = site.find(lambda tag: tag.name in {"h2", "h3"} and tag.get_text(strip=True).rstrip("¶") == heading)
    assert title is not None, f"no section {heading!r}"
    return [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in title.find_next("table").find_all("tr")[1:]]


def post_all(project: Project, *bodies: object) -> list[tuple[int, dict]]:
    """Each body's (status, answer) from the project's API, in process through Django's test client."""
    stdin = "".join(json.dumps(body) + "\n" for body in bodies)
    result = project.run(str(BIN / "python"), "-c", API_CLIENT, stdin=stdin)
    return [(int(line.split(" ", 1)[0]), json.loads(line.split(" ", 1)[1])) for line in result.stdout.splitlines()]


def test_the_docstrings_demo_tags_topics_well_above_the_majority_baseline(bake: Callable[..., Project]) -> None:
    project = bake(dataset="docstrings", use_django="yes")
    checked(project, project.dvc("repro").stdout)  # train's ONNX copy (tests/test_onnx.py checks the other data sets)
    assert project.dvc("status").stdout.strip().endswith("up to date.")
    manifest = project.json("models/model.json")
    assert (manifest["task"], manifest["estimator"]) == ("classification", "LogisticRegression")
    assert [(f["name"], f["kind"]) for f in manifest["features"]] == [("text", "text")]
    topics = pd.read_csv(project.path / "data" / "raw" / "docstrings.csv")["topic"]
    majority = topics.value_counts(normalize=True).max()
    accuracy = project.json("metrics/metrics.json")["accuracy"]
    assert accuracy > majority + 0.3, (accuracy, majority)  # words tell the submodule apart

    project.run(str(BIN / "mkdocs"), "build", "--strict")
    card = BeautifulSoup((project.path / "site" / "index.html").read_text(), "html.parser").get_text()
    assert "0 numeric, 1 text (text) and 0 categorical features" in card
    assert "Input kind: text. Text columns: text." in card
    site = BeautifulSoup((project.path / "site" / "index.html").read_text(), "html.parser")
    terms = table_after(site, "Terms that weigh most for each class")
    assert [row[0] for row in terms] == sorted(topics.unique()) and "clustering" in dict(terms)["cluster"]
    wrong = table_after(site, "Misclassified test examples")
    assert 0 < len(wrong) <= 20 and all(true != predicted and len(text) <= 170 for text, true, predicted in wrong)

    articles = {"text": "Compute the mean squared error regression loss between predictions and targets."}
    answers = post_all(
        project,
        {"instances": [articles, {"text": "K-means clustering of samples into k clusters."}, {"text": ""}]},
        {"instances": [{"text": "x" * 10_001}]},
        {"instances": [{"text": 42}]},
    )
    (ok, body), (too_long, long_body), (not_text, not_text_body) = answers
    assert ok == 200 and body["predictions"][:2] == ["metrics", "cluster"]
    assert too_long == 422 and [e["field"] for e in long_body["errors"]] == ["instances[0].text"]
    assert "at most 10000 characters" in long_body["errors"][0]["message"]
    assert not_text == 422 and [e["field"] for e in not_text_body["errors"]] == ["instances[0].text"]


def support_tickets(rows: int, seed: int = 0) -> pd.DataFrame:
    """The churn table with a free-text `note` that hints at churning, and a date column."""
    rng = np.random.default_rng(seed)
    frame = churn_frame(rows, seed=seed, missing=0.0)
    unhappy = ["cancel my plan please", "too expensive, switching provider", "unhappy with the service"]
    happy = ["thanks for the quick fix", "great service as always", "upgrade my plan"]
    notes = [rng.choice(unhappy if churned == "yes" else happy) for churned in frame["churned"]]
    frame.insert(0, "note", [f"{note} (ticket {i})" for i, note in enumerate(notes)])
    frame.loc[rng.random(rows) < 0.05, "note"] = np.nan  # a missing note is an empty text
    frame.insert(1, "opened", pd.date_range("2023-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"))
    return frame


def test_a_csv_text_column_trains_with_numbers_categories_and_dates(bake: Callable[..., Project]) -> None:
    project = bake(dataset="csv", use_django="yes")
    support_tickets(400).to_csv(project.path / "data" / "raw" / "data.csv", index=False)
    failed = project.dvc("repro", check=False)
    assert "error: column 'note' is text with" in failed.stderr
    assert "list it in data.text to learn from its words, in data.drop to leave it out" in failed.stderr

    project.set_params("data", text=["note"])
    project.set_params("train", model="linear")
    project.dvc("repro")
    manifest = project.json("models/model.json")
    kinds = {f["name"]: f["kind"] for f in manifest["features"]}
    assert (kinds["note"], kinds["opened"], kinds["contract"], kinds["tenure_months"]) == (
        "text", "date", "category", "number"
    )  # fmt: skip
    assert project.json("metrics/metrics.json")["accuracy"] > 0.9  # the notes give the churners away
    profiled = {f["name"]: f["kind"] for f in project.json("reports/data_profile.json")["features"]}
    assert profiled == kinds  # the Data page says text, as the model card does

    batch = support_tickets(20, seed=1).drop(columns="churned")
    batch.loc[0, "note"] = np.nan  # an empty cell is an empty text
    batch.to_csv(project.path / "batch.csv", index=False)
    scored = project.run(str(BIN / "python"), "manage.py", "predict_file", "batch.csv", "scored.csv")
    assert "scored 20 rows" in scored.stdout
    assert set(pd.read_csv(project.path / "scored.csv")["prediction"]) <= {"yes", "no"}

"""Entity tagging end to end on the news bake: `dvc repro`, bad annotations, the PR report, the site, gunicorn.

The demo trains a CRF on the news sentences written for the template; the baked project's own
tests cover the rest (each export format, tampering, the admin). Here the user's commands run as
they would: dvc and make in the baked project, start.sh with two workers, HTTP calls through
urllib, and `manage.py shell` saving a record in the production database.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from test_monitoring import call, free_port, gunicorn, production_env, stop

from conftest import BIN, Project

pytestmark = pytest.mark.xdist_group("entities")  # one worker bakes and trains the newsroom once

OUTPUTS = ("dvc.lock", "models/model.crfsuite", "models/model.json", "metrics/metrics.json")
ARTICLE = "Marta Kowalska, the new head of the Royal Society, spoke in Manchester before the Berlin Marathon."


@pytest.fixture(scope="module")
def newsroom(bake_shared: Callable[..., Project]) -> Project:
    """The news demo, trained and committed."""
    project = bake_shared(project_name="Newsroom", dataset="news")
    project.dvc("repro")
    project.commit_all("First model")
    return project


@pytest.fixture(scope="module")
def served(newsroom: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The newsroom's tagger behind start.sh (gunicorn, 2 workers); its base URL and environment."""
    scratch = tmp_path_factory.mktemp("newsroom-served")
    port = free_port()
    env = production_env(newsroom, scratch, port)
    server = gunicorn(newsroom, env, scratch / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", env
    finally:
        stop(server)


def digests(project: Project) -> dict[str, str]:
    return {name: hashlib.sha256((project.path / name).read_bytes()).hexdigest() for name in OUTPUTS}


def refused(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of a request the server refuses."""
    with pytest.raises(urllib.error.HTTPError) as error:
        call(url, body)
    return error.value.code, json.loads(error.value.read())


def test_the_demo_beats_the_baseline_and_a_rerun_does_nothing(newsroom: Project) -> None:
    metrics, manifest = newsroom.json("metrics/metrics.json"), newsroom.json("models/model.json")
    assert manifest["task"] == "entities" and manifest["tagger"]["labels"] == ["EVENT", "LOC", "ORG", "PER"]
    assert metrics["f1"] > 0.7 > 0.2 > metrics["baseline_f1"]  # the CRF generalises; a word lookup does not
    for label in manifest["tagger"]["labels"]:
        assert metrics[f"f1_{label}"] > metrics[f"baseline_f1_{label}"]
    assert set(manifest["files"]) == {"model.joblib", "model.crfsuite"}
    assert not (newsroom.path / ".github" / "workflows" / "monitor.yml").exists()  # no features to watch
    assert not (newsroom.path / "models" / "model.onnx").exists()  # crfsuite's own file, not a graph
    assert "didn't change, skipping" in newsroom.dvc("repro").stdout
    tracked = newsroom.run("git", "ls-files", "models", "data/raw", "reports").stdout.split()
    assert {"models/model.crfsuite", "data/raw/news.jsonl", "data/raw/news.LICENSE",
            "reports/entity_examples.json"} <= set(tracked)  # fmt: skip


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"text": "Ada Lovelace met Babbage.", "label": [[0, 12, "PER"], [4, 24, "PER"]]}, "overlap"),
        ({"text": "Ada Lovelace", "label": [[4, 10, "PER"]]}, "'Lovela' does not fall on token edges"),
    ],
    ids=["overlapping", "inside-a-word"],
)
def test_bad_annotations_stop_dvc_repro_and_keep_the_model(
    newsroom: Project, tmp_path: Path, line: dict[str, Any], message: str
) -> None:
    copy = newsroom.copy(tmp_path / "bad")
    data = copy.path / "data" / "raw" / "news.jsonl"
    lines = data.read_text().count("\n")
    data.write_text(data.read_text() + json.dumps(line) + "\n")
    before = digests(copy)
    result = copy.dvc("repro", check=False)
    assert result.returncode != 0
    error = next(row for row in result.stderr.splitlines() if row.startswith("error: "))
    assert f"data/raw/news.jsonl line {lines + 1}" in error and message in error, result.stderr
    assert digests(copy) == before


def test_the_pull_request_report_compares_with_the_baseline(newsroom: Project, tmp_path: Path) -> None:
    branch = newsroom.copy(tmp_path / "branch")
    params = branch.path / "params.yaml"
    params.write_text(params.read_text().replace("c1: 0.1 ", "c1: 0.3 ", 1))
    branch.run("make", "pr-report", "BASE=HEAD", f"BIN={BIN}")
    report = (branch.path / "report.md").read_text()
    assert "Stages that ran: `train`, `evaluate`." in report
    assert "### Against the most-frequent-tag baseline (this branch)" in report and "| F1 PER |" in report
    assert "`train.hyperparams.crf.c1` | 0.1 | 0.3 |" in report


def test_the_site_scores_each_label_and_draws_held_out_texts(newsroom: Project, tmp_path: Path) -> None:
    site = newsroom.copy(tmp_path / "site")
    site.run("make", "docs")
    page = BeautifulSoup((site.path / "site" / "entities" / "index.html").read_text(), "html.parser")
    assert "baseline F1" in page.get_text(" ") and page.select("mark.entity-hit")
    nav = [link.get_text(strip=True) for link in page.select("nav.md-nav--primary a")]
    assert "Entities" in nav and "Monitoring" not in nav  # free text: no features to watch for drift
    card = (site.path / "site" / "index.html").read_text()
    assert "/api/entities" in card and "model.crfsuite" in card


def test_gunicorn_tags_texts_and_names_what_it_refuses(served: tuple[str, dict[str, str]]) -> None:
    url, _ = served
    answer = call(f"{url}/api/entities", {"texts": [ARTICLE, "", "Zoë Müller flew from Zürich to Kraków."]})
    article, empty, non_ascii = answer["entities"]
    assert {(e["text"], e["label"]) for e in article} >= {("Manchester", "LOC"), ("Berlin Marathon", "EVENT")}
    assert all(ARTICLE[e["start"] : e["end"]] == e["text"] and 0 < e["confidence"] <= 1 for e in article)
    assert empty == [] and all(e["text"] in "Zoë Müller flew from Zürich to Kraków." for e in non_ascii)
    status, body = refused(f"{url}/api/entities", {"texts": ["fine", "word " * 2001]})
    assert status == 422 and body["errors"][0]["field"] == "texts[1]" and "10,005 characters" in body["errors"][0][
        "message"]  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as error:  # a table model's endpoint: not in a tagger's project
        call(f"{url}/api/predict", {"instances": [{"text": ARTICLE}]})
    assert error.value.code == 404
    assert call(f"{url}/api/model")["runtime"] == "crfsuite"
    metrics = call(f"{url}/metrics")
    assert 'model_texts_tagged_total{source="api"} 3.0' in metrics
    assert 'model_entities_found_total{label="LOC"}' in metrics
    paths = set(call(f"{url}/api/openapi.json")["paths"])  # its own endpoint beside the shared ones, only
    assert paths == {"/api/model", "/api/health", "/api/feedback", "/api/entities"}


def test_the_example_app_tags_a_record_when_it_is_saved(newsroom: Project, served: tuple[str, dict[str, str]]) -> None:
    _, env = served  # start.sh migrated the production database
    script = (
        "import json; from newsroom.autolabel.models import Record; "
        f"record = Record.objects.create(text={ARTICLE!r}); "
        "print(json.dumps([record.label, record.entities, record.label_error]))"
    )
    result = newsroom.run("bin/python", "manage.py", "shell", "-c", script, env=env)
    label, entities, error = json.loads(result.stdout.strip().splitlines()[-1])
    assert error == "" and "LOC" in label.split(", ")
    assert ("Manchester", "LOC") in {(e["text"], e["label"]) for e in entities}

"""Recommendations end to end on the supermarket bake: `dvc repro`, the PR report, the site, gunicorn serving.

The demo trains item_knn on Weka's supermarket baskets; the baked project's own tests cover the
rest (bad data, tampering, the template tag). Here the user's commands run as they would: make
targets in the baked project, start.sh with two workers, HTTP calls through urllib.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from test_monitoring import call, free_port, gunicorn, production_env, stop

from conftest import BIN, Project

pytestmark = pytest.mark.xdist_group("recommend")  # one worker bakes and trains the shop once


@pytest.fixture(scope="module")
def shop(bake_shared: Callable[..., Project]) -> Project:
    """The supermarket demo, trained and committed."""
    project = bake_shared(project_name="Shop", dataset="supermarket")
    project.dvc("repro")
    project.commit_all("First model")
    return project


@pytest.fixture(scope="module")
def served(shop: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shop's model behind start.sh (gunicorn, 2 workers); its base URL."""
    scratch = tmp_path_factory.mktemp("shop-served")
    port = free_port()
    server = gunicorn(shop, production_env(shop, scratch, port), scratch / "server.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


def refused(url: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of a request the server refuses."""
    with pytest.raises(urllib.error.HTTPError) as error:
        call(url, body)
    return error.value.code, json.loads(error.value.read())


def test_the_demo_beats_the_popularity_baseline_and_a_rerun_does_nothing(shop: Project) -> None:
    metrics, manifest = shop.json("metrics/metrics.json"), shop.json("models/model.json")
    assert manifest["task"] == "recommend" and manifest["recommender"]["model"] == "item_knn"
    assert metrics["ndcg_at_10"] > metrics["popularity_ndcg_at_10"]
    assert set(manifest["files"]) == {"model.joblib", "model.npz"}
    assert not (shop.path / "models" / "model.onnx").exists()  # a recommender serves arrays, not a graph
    assert "didn't change, skipping" in shop.dvc("repro").stdout
    tracked = shop.run("git", "ls-files", "models", "data/raw").stdout.split()
    assert {"models/model.npz", "data/raw/supermarket.csv", "data/raw/supermarket.LICENSE"} <= set(tracked)


def test_dvc_exp_switches_the_recommender_by_one_setting(shop: Project, tmp_path: Path) -> None:
    trial = shop.copy(tmp_path / "trial")
    ran = trial.dvc("exp", "run", "-S", "train.model=popularity").stdout
    assert trial.ran_stages(ran) == ["train", "evaluate"], ran
    metrics = trial.json("metrics/metrics.json")
    assert metrics["ndcg_at_10"] == metrics["popularity_ndcg_at_10"]  # the baseline against itself
    shown = json.loads(trial.dvc("exp", "show", "--json").stdout)
    assert "popularity" in json.dumps(shown)


def test_the_pull_request_report_shows_the_lift_over_popularity(shop: Project, tmp_path: Path) -> None:
    branch = shop.copy(tmp_path / "branch")
    params = branch.path / "params.yaml"
    params.write_text(params.read_text().replace("neighbors: 50        #", "neighbors: 20        #", 1))
    branch.run("make", "pr-report", "BASE=HEAD", f"BIN={BIN}")
    report = (branch.path / "report.md").read_text()
    assert "Stages that ran: `train`, `evaluate`." in report
    assert "### Against the popularity baseline (this branch)" in report and "| ndcg@10 |" in report
    assert "`train.hyperparams.item_knn.neighbors` | 50 | 20 |" in report


def test_the_site_ranks_against_the_baseline_and_names_the_neighbours(shop: Project, tmp_path: Path) -> None:
    site = shop.copy(tmp_path / "site")
    site.run("make", "docs")
    page = BeautifulSoup((site.path / "site" / "recommendations" / "index.html").read_text(), "html.parser")
    text = page.get_text(" ")
    assert "popularity baseline" in text and "bread and cake" in text  # Weka's names, from data.items
    nav = [link.get_text(strip=True) for link in page.select("nav.md-nav--primary a")]
    assert "Recommendations" in nav and "Monitoring" not in nav  # no features to watch for drift
    card = (site.path / "site" / "index.html").read_text()
    assert "Against the popularity baseline" in card and "/api/items/" in card


def test_gunicorn_answers_similar_items_and_recommendations(served: str, shop: Project) -> None:
    bread = 13  # "bread and cake", the most bought department
    similar = call(f"{served}/api/items/{bread}/similar?k=3")
    assert similar["fallback"] is None and len(similar["items"]) == 3
    assert all(set(entry) == {"item", "score", "name"} for entry in similar["items"])
    unknown = call(f"{served}/api/items/{urllib.parse.quote('no such aisle')}/similar?k=2")
    assert unknown["fallback"] == "popularity" and unknown["items"][0]["item"] == bread
    for k in (0, 101):
        status, body = refused(f"{served}/api/items/{bread}/similar?k={k}")
        assert status == 422 and body["errors"][0]["field"] == "k"
    basket = call(f"{served}/api/recommend", {"items": [bread, 61], "k": 5})
    assert basket["fallback"] is None and {bread, 61}.isdisjoint(entry["item"] for entry in basket["items"])
    assert call(f"{served}/api/recommend", {"user": 1, "k": 5})["fallback"] is None
    assert call(f"{served}/api/recommend", {"user": 10**9})["fallback"] == "popularity"
    status, body = refused(f"{served}/api/recommend", {"user": 1, "k": 1000})
    assert status == 422 and body["errors"][0]["field"] == "k"
    assert call(f"{served}/api/model")["runtime"] == "arrays"
    metrics = call(f"{served}/metrics")
    assert 'model_items_recommended_total{fallback="popularity"}' in metrics
    assert 'model_requests_total{endpoint="similar",status="422"} 2.0' in metrics

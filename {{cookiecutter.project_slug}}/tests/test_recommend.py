"""The recommender (train.task: recommend): interactions in, ranked items out, through the same stages and site."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import working_copy

from {{ cookiecutter.package_name }} import prepare, train
from {{ cookiecutter.package_name }}.errors import DataError, ModelIntegrityError, PipelineError
from {{ cookiecutter.package_name }}.recommend.artifact import load_recommender
from {{ cookiecutter.package_name }}.recommend.interactions import hold_out
from {{ cookiecutter.package_name }}.registry.artifacts import sha256_file
from {{ cookiecutter.package_name }}.report.pages import build_site

METRICS = ("precision", "recall", "map", "ndcg", "coverage")


@pytest.fixture
def copy(recommender_trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the trained recommender's folder, made the working directory."""
    return working_copy(recommender_trained, tmp_path / "copy", monkeypatch)


def edit(folder: Path, section: str, **values: object) -> None:
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params[section] = {**(params.get(section) or {}), **values}
    (folder / "params.yaml").write_text(yaml.safe_dump(params))


def test_the_model_beats_the_popularity_baseline_and_says_by_how_much(recommender_trained: Path) -> None:
    metrics = json.loads((recommender_trained / "metrics" / "metrics.json").read_text())
    manifest = json.loads((recommender_trained / "models" / "model.json").read_text())
    k = manifest["recommender"]["k"]
    for name in METRICS:
        assert 0 <= metrics[f"{name}_at_{k}"] <= 1 and 0 <= metrics[f"popularity_{name}_at_{k}"] <= 1
    assert metrics[f"ndcg_at_{k}"] > metrics[f"popularity_ndcg_at_{k}"]
    assert metrics["users_evaluated"] > 0
    assert manifest["metrics"] == metrics  # train scored the same arrays evaluate read back
    assert manifest["task"] == "recommend" and manifest["features"] == []
    npz = recommender_trained / "models" / "model.npz"
    assert manifest["files"]["model.npz"] == sha256_file(npz)


def test_the_same_interactions_give_the_same_files(copy: Path) -> None:
    before = {name: sha256_file(copy / "models" / name) for name in ("model.npz", "model.joblib")}
    train.main()
    assert {name: sha256_file(copy / "models" / name) for name in before} == before


def test_arrays_that_do_not_match_the_manifest_are_refused(copy: Path) -> None:
    npz = copy / "models" / "model.npz"
    npz.write_bytes(npz.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_recommender(copy / "models" / "model.joblib")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=f.columns[1]), "names columns that do not exist"),
        (lambda f: f.iloc[:0], "has no interactions"),
        (lambda f: f.assign(**{f.columns[0]: [None, *f.iloc[1:, 0]]}), "have no user id"),
        (lambda f: f.assign(stars=["five", *[3] * (len(f) - 1)]), "must hold numbers"),
    ],
    ids=["missing-column", "empty", "no-user-id", "rating-not-numeric"],
)
def test_bad_interactions_are_refused_by_name_and_the_old_outputs_kept(copy: Path, change, message: str) -> None:
    params = yaml.safe_load((copy / "params.yaml").read_text())
    path = copy / params["data"]["path"]
    frame = change(pd.read_csv(path))
    frame.to_csv(path, index=False)
    if "stars" in frame:
        edit(copy, "data", interactions={**params["data"]["interactions"], "rating": "stars"})
    prepared = {p.name: p.read_bytes() for p in (copy / "data" / "prepared").iterdir()}
    with pytest.raises(DataError, match=message):
        prepare.main()
    assert {p.name: p.read_bytes() for p in (copy / "data" / "prepared").iterdir()} == prepared


def test_the_latest_interactions_of_each_user_are_held_out() -> None:
    frame = pd.DataFrame({"user": ["a"] * 5 + ["b"] * 2, "item": [1, 2, 3, 4, 5, 1, 2],
                          "time": pd.to_datetime(["2026-01-05", "2026-01-01", "2026-01-04", "2026-01-02", "2026-01-03",
                                                  "2026-01-01", "2026-01-02"])})  # fmt: skip
    train_rows, held = hold_out(frame, share=0.4, min_history=5, seed=0)
    assert held["item"].tolist() == [1, 3]  # a's two latest; b has too little history to hold any out
    assert sorted(train_rows["item"].tolist()) == [1, 2, 2, 4, 5]


def test_an_unknown_item_or_user_gets_the_popular_items_and_says_so(recommender_trained: Path) -> None:
    recommender = load_recommender(recommender_trained / "models" / "model.joblib").recommender
    (items, _), fallback = recommender.similar_to("no such item", 3)
    popular, _ = recommender.popular(3)
    assert fallback == "popularity" and items.tolist() == popular.tolist()
    assert recommender.for_visitor(3, user="nobody")[1] == "popularity"
    known = recommender.items[0].item()
    (similar, scores), fallback = recommender.similar_to(known, 3)
    assert fallback is None and 0 not in similar.tolist() and list(scores) == sorted(scores, reverse=True)
    user = recommender.users[0].item()
    (ranked, _), fallback = recommender.for_visitor(3, user=user)
    assert fallback is None and len(ranked) == 3
    assert not set(ranked.tolist()) & set(recommender.history(0).tolist())  # never what they already had


@pytest.mark.parametrize("model", ["popularity", "als"])
def test_each_model_trains_through_the_same_stage(copy: Path, model: str) -> None:
    edit(copy, "train", model=model)
    train.main()
    manifest = json.loads((copy / "models" / "model.json").read_text())
    assert manifest["recommender"]["model"] == model
    k = manifest["recommender"]["k"]
    if model == "popularity":  # the baseline is itself
        assert manifest["metrics"][f"ndcg_at_{k}"] == manifest["metrics"][f"popularity_ndcg_at_{k}"]
    assert load_recommender(copy / "models" / "model.joblib").recommender.items.size


def test_an_unknown_hyperparameter_is_refused_by_name(copy: Path) -> None:
    edit(copy, "train", hyperparams={"item_knn": {"neighbours": 10}})
    with pytest.raises(PipelineError, match=r"train.hyperparams.item_knn: 'neighbours'.*neighbors"):
        train.main()


def test_the_site_shows_the_lift_over_the_baseline_and_sample_neighbours(copy: Path) -> None:
    pages = build_site(copy)
    card, page = str(pages["index.md"]), str(pages["recommendations.md"])
    assert "Against the popularity baseline" in card and "lift" in card
    manifest = json.loads((copy / "models" / "model.json").read_text())
    recommender = load_recommender(copy / "models" / "model.joblib").recommender
    top = int(np.argmax(recommender.popularity))
    name = recommender.metadata[top][0] if recommender.metadata is not None else str(recommender.items[top])
    assert name in page and f"ndcg@{manifest['recommender']['k']}" in page
    assert "interactions" in str(pages["data.md"])

"""The report's page builders, without MkDocs: missing outputs, a fresh run, the Graphviz-free layout."""

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.registry.versions import changed_params, read_history
from {{ cookiecutter.package_name }}.report import pipeline
from {{ cookiecutter.package_name }}.report.fallback_svg import layout_svg
from {{ cookiecutter.package_name }}.report.pages import build_site


def test_before_any_run_every_page_says_what_to_do(workdir: Path) -> None:
    pages = build_site(workdir)
    assert "dvc repro" in pages["index.md"]
    assert "dvc repro" in pages["metrics.md"]
    assert "not a git repository" in pages["history.md"]
    assert read_history(workdir).state == "no-git"


def test_after_a_run_the_pages_show_the_model_and_its_plots(trained_workdir: Path) -> None:
    pages = build_site(trained_workdir)
    assert "## Current version" in pages["index.md"]
    assert "assets/plots/feature_importance.svg" in pages
    assert all(content.lstrip().startswith("<?xml") for name, content in pages.items() if name.endswith(".svg"))
    assert "uncommitted" in pages["index.md"]


def test_the_fallback_layout_draws_every_node_with_its_link() -> None:
    stages = [
        pipeline.Stage("prepare", "python -m x.prepare", ["data/raw.csv"], ["data/train.parquet"], {"a": 1}, {}, True),
        pipeline.Stage("train", "python -m x.train", ["data/train.parquet"], ["models/model.joblib"], {}, {}, True),
    ]
    svg = layout_svg(pipeline.build_graph(stages))
    for label in ("prepare", "train", "data/raw.csv", "models/model.joblib", "params.yaml"):
        assert f">{label}</text>" in svg
    assert 'xlink:href="#stage-train"' in svg


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ({"train": {"seed": 1}}, {"train": {"seed": 2}}, {"train.seed": (1, 2)}),
        ({"train": {"a": 1}}, {"train": {"a": 1, "b": 2}}, {"train.b": (None, 2)}),
        ({"train": {"a": 1}}, {"train": {"a": 1}}, {}),
    ],
)
def test_changed_params_are_dotted_keys(before: dict, after: dict, changed: dict) -> None:
    assert changed_params({"params": before}, {"params": after}) == changed

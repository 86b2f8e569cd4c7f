"""The report's page builders, without MkDocs: missing outputs, a fresh run, the Graphviz-free layout."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from {{ cookiecutter.package_name }}.registry.versions import changed_params, read_history
from {{ cookiecutter.package_name }}.report import pipeline
from {{ cookiecutter.package_name }}.report.fallback_svg import layout_svg
from {{ cookiecutter.package_name }}.report.pages import build_site
from {{ cookiecutter.package_name }}.table.gallery import thumbnail


def test_before_any_run_every_page_says_what_to_do(workdir: Path) -> None:
    pages = build_site(workdir)
    assert "dvc repro" in pages["index.md"]
    assert "dvc repro" in pages["metrics.md"]
    assert "not a git repository" in pages["history.md"]
    assert read_history(workdir).state == "no-git"
{%- if cookiecutter.use_django == "yes" %}
    assert "make monitor" in pages["monitoring.md"]  # the served model's page (tests/test_report_monitoring.py)
{%- else %}
    assert "monitoring.md" not in pages  # nothing served, nothing to monitor
{%- endif %}


def test_after_a_run_the_pages_show_the_model_and_its_plots(trained_workdir: Path) -> None:
    pages = build_site(trained_workdir)
    images = "gallery.md" in pages  # an image model: a gallery instead of per-pixel importances
    assert "## Current version" in pages["index.md"]
    assert ("assets/plots/feature_importance.svg" in pages) is not images
    assert all(content.lstrip().startswith("<?xml") for name, content in pages.items() if name.endswith(".svg"))
    assert "uncommitted" in pages["index.md"]


def test_an_image_model_has_a_gallery_of_png_thumbnails(trained_workdir: Path) -> None:
    pages = build_site(trained_workdir)
    kinds = {feature["kind"] for feature in json.loads(Path("models/model.json").read_text())["features"]}
    thumbnails = [content for name, content in pages.items() if name.startswith("assets/gallery/")]
    assert ("gallery.md" in pages) is ("image" in kinds)
    assert all(isinstance(png, bytes) and png.startswith(b"\x89PNG") for png in thumbnails)
    assert len(thumbnails) == pages.get("gallery.md", "").count("](assets/gallery/") <= 48


def test_a_thumbnail_keeps_tiny_pixels_sharp_and_falls_back_to_the_prepared_pixels(tmp_path: Path) -> None:
    feature = {"name": "image", "kind": "image", "size": [4, 2], "color": "gray", "pixels": 8}
    Image.fromarray(np.array([[0, 255, 0, 255], [255, 0, 255, 0]], dtype=np.uint8)).save(tmp_path / "tiny.png")
    prepared = np.linspace(0, 1, 8, dtype=np.float32)  # what prepare stored: 0 at the top left, 1 at the bottom right
    with Image.open(io.BytesIO(thumbnail(tmp_path / "tiny.png", prepared, feature))) as png:
        assert (png.format, png.size) == ("PNG", (64, 32))  # scaled up 16 times, the aspect ratio kept
        assert [png.getpixel((x, 0)) for x in (0, 15, 16, 31)] == [0, 0, 255, 255]  # nearest-neighbour: no blur
    with Image.open(io.BytesIO(thumbnail(tmp_path / "gone.png", prepared, feature))) as png:
        assert png.size == (64, 32) and (png.getpixel((0, 0)), png.getpixel((63, 31))) == (0, 255)


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

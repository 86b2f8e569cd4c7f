"""The report site of an image project (the digits demo): the gallery of test images, the model card's input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from PIL import Image
from test_report import build, page, painted
from test_report import screenshot as shoot

from conftest import BIN, Project

# The model's prediction for each test image, keyed by its file, as the project's own code computes it.
PREDICT_TEST_SET = """
import json, sys
from {package}.data.dtypes import read_parquet
from {package}.data.schema import split_xy
from {package}.paths import TEST_PATH
from {package}.registry.artifacts import load_model
loaded = load_model()
features, labels = split_xy(read_parquet(TEST_PATH), loaded.manifest["target"])
predicted = loaded.model.predict(features)
json.dump({{file: [str(p), str(t)] for file, p, t in zip(features.index, predicted, labels)}}, sys.stdout)
"""
pytestmark = pytest.mark.xdist_group("images")  # with tests/test_images.py: one worker trains their digits project

WRONG_OUTLINE = (229, 57, 53)  # the red border of a misclassified thumbnail (docs/stylesheets/extra.css)


@pytest.fixture(scope="module")
def digits(digits_demo: tuple[Project, str]) -> Project:
    """The digits demo, trained, with its site built."""
    project, _ = digits_demo
    build(project)
    return project


def predictions(project: Project) -> dict[str, list[str]]:
    """{test image file: [predicted, true]} from the project's model."""
    code = PREDICT_TEST_SET.format(package=project.package)
    return json.loads(project.run(str(BIN / "python"), "-c", code).stdout)


def figures(soup: BeautifulSoup) -> list[tuple[str, str, str]]:
    """The gallery's (file, thumbnail src, caption) in page order."""
    return [
        (figure.img["alt"], figure.img["src"], figure.figcaption.get_text(strip=True))
        for figure in soup.select(".gallery figure")
    ]


def test_the_gallery_shows_test_images_misclassified_first_with_their_labels(digits: Project) -> None:
    soup = page(digits, "gallery")
    shown = figures(soup)
    expected = predictions(digits)
    wrong = [file for file, (predicted, true) in expected.items() if predicted != true]
    assert 0 < len(wrong) < len(shown) == 48  # the digits model errs a little: both groups are on the page
    assert [file for file, _, _ in shown[: len(wrong)]] == wrong  # mistakes first, in the test table's order
    assert all(expected[file][0] == expected[file][1] for file, _, _ in shown[len(wrong) :])
    for file, src, caption in shown:
        assert caption == " / ".join(expected[file])  # predicted / true
        with Image.open((digits.path / "site" / "gallery" / src).resolve()) as thumbnail:
            assert thumbnail.format == "PNG" and thumbnail.size == (64, 64)  # 8x8 scaled up, pixels kept sharp
    assert len(soup.select(".gallery figure.wrong")) == len(wrong)
    assert f"{len(wrong)} of {len(expected)} test images misclassified" in soup.get_text()
    nav = [a.get_text(strip=True) for a in page(digits, "index").select("nav a")]
    assert "Gallery" in nav


def test_the_model_card_and_data_page_describe_the_images(digits: Project) -> None:
    card = page(digits, "index").get_text()
    assert "from 8x8 gray images" in card
    assert "Input kind: image. Each image is resized to 8x8 pixels, gray (64 values per image)" in card
    assert "1797 images (1437 used to train)" in card
    first = next(iter(predictions(digits)))
    assert f"curl -s -X POST http://127.0.0.1:8000/api/predict/image -F 'image=@{first}'" in card
    assert f'load_image(Path("{first}"), spec)' in card
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in page(digits, "data").select("table tr")]
    assert ["image", "image", "8x8", "gray", "64", "0"] in rows
    metrics = page(digits, "metrics").get_text()
    assert "No feature importance for an image model" in metrics
    assert not (digits.path / "site" / "assets" / "plots" / "feature_importance.svg").exists()


def test_the_gallery_renders_in_headless_chromium(digits: Project, tmp_path: Path) -> None:
    screenshot = shoot(digits.path / "site" / "gallery" / "index.html", tmp_path, height=1200)
    # What Chromium drew: the red outlines of the mistakes, and the thumbnails' black backgrounds.
    assert painted(screenshot, WRONG_OUTLINE) > 200
    assert painted(screenshot, (0, 0, 0)) > 48 * 64 * 64 // 4

"""Build the baked project's report site with `mkdocs build --strict` and check what it shows."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import BIN, Project, require

# Debian's chromium; GitHub's Ubuntu runners come with Google Chrome.
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def build(project: Project, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` in the project."""
    return project.run(str(BIN / "mkdocs"), "build", "--strict", env=env)


def page(project: Project, name: str) -> BeautifulSoup:
    """A built page, parsed."""
    path = project.path / "site" / ("index.html" if name == "index" else f"{name}/index.html")
    return BeautifulSoup(path.read_text(), "html.parser")


def set_trees(project: Project, trees: int) -> None:
    path = project.path / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["train"]["hyperparams"]["random_forest"]["n_estimators"] = trees
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def table_values(soup: BeautifulSoup, first_header: str) -> dict[str, list[str]]:
    """The rows of the first table whose first header is `first_header`, keyed by their first cell."""
    for table in soup.find_all("table"):
        headers = [th.get_text(strip=True) for th in table.find_all("th")]
        if headers and headers[0] == first_header:
            rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in table.find_all("tr")[1:]]
            return {row[0]: row[1:] for row in rows}
    raise AssertionError(f"no table starting with {first_header!r}")


# Each data set's built site is one xdist group, so one worker builds it once.
@pytest.fixture(
    scope="module",
    params=[
        pytest.param(d, marks=pytest.mark.xdist_group(f"report-{d}")) for d in ("breast_cancer", "diabetes", "csv")
    ],
)
def built(request: pytest.FixtureRequest, bake_shared: Callable[..., Project]) -> Project:
    """A trained, committed project with its site built."""
    project = bake_shared(dataset=request.param, project_name=f"Site {request.param}")
    project.dvc("repro")
    project.commit_all("Train the first model")
    build(project)
    return project


def test_the_pipeline_svg_has_a_linked_node_per_stage(built: Project) -> None:
    stages = yaml.safe_load((built.path / "dvc.yaml").read_text())["stages"]
    soup = page(built, "pipeline")
    svg = soup.select_one(".pipeline-dag svg")
    assert svg is not None
    labels = {text.get_text() for text in svg.select("g.node text")}
    links = {a.get("xlink:href") for a in svg.find_all("a")}
    for name in stages:
        assert name in labels
        assert f"#stage-{name}" in links
        assert soup.find(id=f"stage-{name}") is not None
    assert {"models/model.joblib", "metrics/metrics.json", "data/prepared/train.parquet"} <= labels
    assert "up to date" in soup.get_text()


def test_metric_values_shown_equal_metrics_json(built: Project) -> None:
    metrics = built.json("metrics/metrics.json")
    shown = table_values(page(built, "metrics"), "metric")
    assert set(shown) == set(metrics)
    for name, value in metrics.items():
        assert float(shown[name][0]) == pytest.approx(value, rel=1e-5)
    card = table_values(page(built, "index"), "metric")
    assert {name: float(cells[0]) for name, cells in card.items()} == pytest.approx(metrics, rel=1e-5)


def test_each_plot_image_exists_and_is_a_valid_svg(built: Project) -> None:
    images = [img["src"] for img in page(built, "metrics").find_all("img")]
    task = built.json("models/model.json")["task"]
    expected = {"roc", "precision_recall", "confusion"} if task == "classification" else {"predictions", "residuals"}
    names = {Path(src).stem for src in images}
    assert expected | {"feature_importance"} <= names
    for src in images:
        path = (built.path / "site" / "metrics" / src).resolve()
        assert ET.parse(path).getroot().tag.endswith("svg"), src


def test_the_data_page_and_model_card_describe_the_data(built: Project) -> None:
    profile = built.json("reports/data_profile.json")
    features = table_values(page(built, "data"), "feature")
    assert len(features) == len(profile["features"])
    card = page(built, "index").get_text()
    assert f"{profile['rows']} rows" in card
    assert "load_model" in card and "Limitations" in card


def test_history_lists_each_version_with_its_metrics(bake: Callable[..., Project]) -> None:
    project = bake(project_name="History")
    recorded = []
    for trees in (10, 20, 30):
        set_trees(project, trees)
        project.dvc("repro")
        project.commit_all(f"Use {trees} trees")
        recorded.append(project.json("metrics/metrics.json"))
    project.run(str(BIN / "gto"), "register", "model", "HEAD")  # the newest is GTO's model@v0.0.1
    build(project)
    soup = page(project, "history")
    rows = table_values(soup, "version")
    commits = project.run("git", "log", "--format=%H", "--", "models/model.json").stdout.split()
    labels = ["model@v0.0.1", commits[1][:7], commits[2][:7]]  # the others: their short commit
    assert list(rows) == labels
    headers = [th.get_text(strip=True) for th in soup.find("table").find_all("th")]
    for label, metrics in zip(reversed(labels), recorded, strict=True):
        for name, value in metrics.items():
            assert float(rows[label][headers.index(name) - 1]) == pytest.approx(value, rel=1e-5)
    assert "train.hyperparams.random_forest.n_estimators: 20 → 30" in rows["model@v0.0.1"][-1].replace("`", "")
    chart = ET.parse(project.path / "site" / "assets" / "history_metrics.svg").getroot()
    drawn = {text.strip() for text in chart.itertext() if text.strip()}  # svg.fonttype none: text stays text
    assert set(labels) <= drawn and set(recorded[0]) <= drawn  # every version on the axis, a panel per metric
    assert "Newest against previous" in soup.get_text()


def test_without_graphviz_the_site_still_draws_the_dag(built: Project, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    os.symlink(shutil.which("git"), tools / "git")  # git only: no `dot` on this PATH
    env = {**built.env(), "PATH": f"{BIN}{os.pathsep}{tools}"}
    try:
        result = build(built, env=env)
        log = result.stdout + result.stderr
        said = [line for line in log.splitlines() if "Graphviz" in line]
        assert len(said) == 1 and "install Graphviz" in said[0]
        svg = page(built, "pipeline").select_one(".pipeline-dag svg")
        labels = {text.get_text() for text in svg.select("g.node text")}
        assert set(yaml.safe_load((built.path / "dvc.yaml").read_text())["stages"]) <= labels
    finally:
        build(built)  # leave the Graphviz build for the other tests, whatever happened here


def test_before_any_run_the_site_says_how_to_get_a_model(bake: Callable[..., Project]) -> None:
    project = bake(project_name="Fresh")
    build(project)
    for name in ("index", "metrics", "data"):
        assert "dvc repro" in page(project, name).get_text()
    assert "no commits yet" in page(project, "history").get_text()
    assert "No served data yet: turn on the prediction log" in page(project, "monitoring").get_text()


def test_a_shallow_clone_says_its_history_is_partial(bake: Callable[..., Project], tmp_path: Path) -> None:
    project = bake(project_name="Shallow")
    for trees in (10, 20):
        set_trees(project, trees)
        project.dvc("repro")
        project.commit_all(f"Use {trees} trees")
    clone = tmp_path / "clone"
    project.run("git", "clone", "-q", "--depth", "1", f"file://{project.path}", str(clone))
    shallow = Project(clone, project.context)
    shallow.dvc("repro")  # the clone has no prepared data: rebuild it, the model is unchanged
    build(shallow)
    text = page(shallow, "history").get_text()
    assert "shallow clone" in text and "1 version:" in text


# The colour each page's drawings are painted in: the DAG's stages and the metric charts (report/pipeline.py,
# report/charts.py). The history of a one-version project has no chart; its page must still render.
DRAWN_IN = {"pipeline": (30, 136, 229), "metrics": (30, 136, 229)}


def painted(screenshot: Path, colour: tuple[int, int, int]) -> int:
    """How many pixels of a screenshot are (nearly) `colour`."""
    import numpy as np
    from PIL import Image

    with Image.open(screenshot) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=int)
    return int((np.abs(pixels - np.array(colour)).sum(axis=2) < 30).sum())


def screenshot(page_file: Path, tmp_path: Path, height: int) -> Path:
    """A headless Chromium screenshot of a built page, 1280 pixels wide; its PNG."""
    chromium = require(CHROMIUM, "no Chromium or Chrome is installed (apt install chromium)")
    shot = tmp_path / f"{page_file.parent.name}.png"
    subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size=1280,{height}",
         f"--screenshot={shot}", page_file.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return shot


def test_pages_render_in_headless_chromium(built: Project, tmp_path: Path) -> None:
    chromium = require(CHROMIUM, "no Chromium or Chrome is installed (apt install chromium)")
    for name in ("pipeline", "metrics", "history"):
        url = (built.path / "site" / name / "index.html").as_uri()
        profile = tmp_path / f"profile-{name}"
        screenshot = tmp_path / f"{name}.png"
        command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr"]
        dom = subprocess.run([*command, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True)
        assert "<svg" in dom.stdout or "<img" in dom.stdout
        assert "Uncaught" not in dom.stderr
        subprocess.run(
            [*command, "--window-size=1280,1600", f"--screenshot={screenshot}", url],
            capture_output=True,
            timeout=120,
            check=True,
        )
        # What Chromium drew, not what the HTML holds: the page's charts paint pixels of their colour.
        if name in DRAWN_IN:
            assert painted(screenshot, DRAWN_IN[name]) > 500, f"{name}: no chart or diagram was drawn"
        assert screenshot.stat().st_size > 10_000

"""Shared fixtures: a scratch copy of the project's inputs to run stages in, and a trained model."""

import copy
import json
import shutil
{%- if cookiecutter.use_django == "yes" %}
from collections.abc import Callable, Iterator
{%- else %}
from collections.abc import Callable
{%- endif %}
from pathlib import Path
from typing import Any

import pytest
import yaml
{%- if cookiecutter.use_django == "yes" %}
from pytest_django.fixtures import Settings
{%- endif %}

PROJECT = Path(__file__).resolve().parents[1]


# A recommender or entity project's table code is tested on scikit-learn's breast_cancer set with these parameters.
TABLE_PARAMS = {
    "data": {"dataset": "breast_cancer", "target": "target"},
    "prepare": {"split": 0.2, "seed": 42},
    "train": {"model": "random_forest", "seed": 42, "search": {"method": "none"}},
    "monitor": {"window": "7d", "min_rows": 100, "p_value": 0.05, "distance": 0.1},
}


def recommends() -> bool:
    """Whether this project trains a recommender (data.interactions in params.yaml)."""
    return bool((yaml.safe_load((PROJECT / "params.yaml").read_text())["data"] or {}).get("interactions"))


def tags_entities() -> bool:
    """Whether this project trains an entity tagger (data.entities in params.yaml)."""
    return bool((yaml.safe_load((PROJECT / "params.yaml").read_text())["data"] or {}).get("entities"))


def table_params() -> dict[str, Any]:
    """The parameters of a table model: this project's params.yaml, or TABLE_PARAMS for a recommender or tagger."""
    if recommends() or tags_entities():
        return copy.deepcopy(TABLE_PARAMS)
    return yaml.safe_load((PROJECT / "params.yaml").read_text())


def copy_inputs(target: Path, own: bool = False) -> None:
    """Copy params.yaml, dvc.yaml (whose stages may read params.yaml sections of your own) and the raw data.

    A recommender or tagger project's table code is tested on scikit-learn's breast_cancer set instead (its
    own interactions or annotations only with `own`), so that every project tests the whole package.
    """
    shutil.copy(PROJECT / "params.yaml", target)
    shutil.copy(PROJECT / "dvc.yaml", target)
    if (PROJECT / "data" / "raw").is_dir():
        shutil.copytree(PROJECT / "data" / "raw", target / "data" / "raw")
    if (recommends() or tags_entities()) and not own:
        (target / "params.yaml").write_text(yaml.safe_dump(table_params()))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder holding params.yaml and the raw data, made the working directory."""
    copy_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_stages(folder: Path) -> Path:
    """Run prepare, train and evaluate in `folder` (its params.yaml and data), as `dvc repro` would."""
    from {{ cookiecutter.package_name }} import evaluate, prepare, train

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        prepare.main()
        train.main()
        evaluate.main()
    return folder


@pytest.fixture(scope="session")
def stages() -> Callable[[Path], Path]:
    """run_stages, for a test module that trains a model of its own."""
    return run_stages


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where the pipeline has run once: models/, metrics/, data/prepared/. Read it, never change it."""
    folder = tmp_path_factory.mktemp("trained")
    copy_inputs(folder)
    return run_stages(folder)


def write_interactions(folder: Path) -> None:
    """A small shop of your own: 600 customers who buy within groups of products, bought together; and titles."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    rows = []
    for customer in range(600):
        groups = rng.choice(8, size=rng.integers(1, 3), replace=False)
        products = [int(product) for group in groups for product in group * 5 + rng.choice(5, 4, replace=False)]
        products = rng.permutation([*products, int(rng.integers(40))]).tolist()  # and one anything, at any time
        rows += [(f"c{customer}", 100 + product, f"2026-0{1 + n % 9}-1{n % 10}") for n, product in enumerate(products)]
    raw = folder / "data" / "raw"
    raw.mkdir(parents=True)
    pd.DataFrame(rows, columns=["customer", "product", "bought"]).to_csv(raw / "interactions.csv", index=False)
    names = [f"Product {n} of group {n // 5}" for n in range(40)]
    titles = pd.DataFrame({"product": 100 + np.arange(40), "title": names})
    titles.to_csv(raw / "products.csv", index=False)
    params = {
        "data": {"path": "data/raw/interactions.csv", "items": "data/raw/products.csv",
                 "interactions": {"user": "customer", "item": "product", "rating": None, "time": "bought"}},
        "prepare": {"holdout": 0.2, "min_history": 4, "seed": 42},
        "train": {"model": "item_knn", "k": 5, "seed": 42, "hyperparams": {"item_knn": {"neighbors": 10}}},
    }  # fmt: skip
    (folder / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture(scope="session")
def recommender_trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where a recommender's pipeline has run once: this project's own when it recommends, else one
    trained on a small shop's interactions (write_interactions), so that every project tests its recommender."""
    folder = tmp_path_factory.mktemp("recommender")
    if recommends():
        copy_inputs(folder, own=True)
    else:
        write_interactions(folder)
    return run_stages(folder)


def invented_name(rng: Any, words: int) -> str:
    """A made-up capitalised name of `words` words ("Kavo Telumi"): never one the tagger saw in training."""
    syllables = ["ka", "lo", "mi", "ren", "to", "sa", "vi", "dun", "el", "mar", "qui", "zo", "ban", "tel", "ur"]
    return " ".join("".join(rng.choice(syllables, size=int(rng.integers(2, 4)))).title() for _ in range(words))


def write_annotations(folder: Path) -> None:
    """A small newsroom of your own: 240 sentences with invented people, places and firms, in doccano's JSONL;
    the names are new in every sentence, so only the context tells a tagger what they are."""
    import numpy as np

    rng = np.random.default_rng(11)
    patterns = [
        "{PER} visited {LOC} on Monday.",
        "Officials from {ORG} met {PER} in {LOC}.",
        "In {LOC}, {PER} opened a school.",
        "{ORG} hired {PER} as its new director.",
        "Shares of {ORG} rose after the deal.",
        "Mayor {PER} said {LOC} would build a bridge.",
        "The workers of {ORG} went on strike in {LOC}.",
        "{PER} and {PER} flew to {LOC} for talks with {ORG}.",
    ]
    lines = []
    for number in range(240):
        pattern = patterns[number % len(patterns)]
        text, spans = "", []
        for part in pattern.replace("}", "{").split("{"):
            if part in ("PER", "LOC", "ORG"):
                name = invented_name(rng, 2 if part == "PER" else 1) + (" Group" if part == "ORG" else "")
                spans.append([len(text), len(text) + len(name), part])
                text += name
            else:
                text += part
        lines.append(json.dumps({"text": text, "label": spans}))
    raw = folder / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "annotations.jsonl").write_text("\n".join(lines) + "\n")
    params = {
        "data": {"entities": "data/raw/annotations.jsonl"},
        "prepare": {"split": 0.25, "seed": 42, "min_examples": 10},
        "train": {"model": "crf", "seed": 42, "hyperparams": {"crf": {"max_iterations": 50}}},
    }
    (folder / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture(scope="session")
def tagger_trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where an entity tagger's pipeline has run once: this project's own when it tags entities, else
    one trained on a small newsroom's annotations (write_annotations), so that every project tests its tagger."""
    folder = tmp_path_factory.mktemp("tagger")
    if tags_entities():
        copy_inputs(folder, own=True)
    else:
        write_annotations(folder)
    return run_stages(folder)


def working_copy(folder: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of a trained folder at `target`, made the working directory: cheaper than running the stages."""
    shutil.copytree(folder, target)
    monkeypatch.chdir(target)
    return target


@pytest.fixture
def trained_workdir(trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the trained folder, made the working directory."""
    return working_copy(trained, tmp_path / "trained", monkeypatch)
{%- if cookiecutter.use_django == "yes" %}


@pytest.fixture
def runtime() -> str:
    """The SERVING_RUNTIME the store serves: auto (model.onnx when train's check passed); a module may override it."""
    return "auto"


@pytest.fixture(scope="session")
def table_trained(trained: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained table model for the tests of JSON rows: this project's, or for an image project one trained
    on scikit-learn's breast_cancer set, so that every project tests both kinds of serving."""
    if json.loads((trained / "models" / "model.json").read_text())["features"][0]["kind"] != "image":
        return trained
    folder = tmp_path_factory.mktemp("table")
    params = table_params()
    params["data"] = {"dataset": "breast_cancer", "target": "target"}
    params["train"]["model"] = "random_forest"
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    return run_stages(folder)


@pytest.fixture
def serving_project(trained: Path) -> Path:
    """The trained folder whose model model_copy serves: this project's; the table-row modules take table_trained."""
    return trained


@pytest.fixture
def model_copy(serving_project: Path, tmp_path: Path, settings: Settings, runtime: str) -> Iterator[Path]:
    """A private copy of the trained model that the served store uses, under `runtime`; tests may break it."""
    from {{ cookiecutter.package_name }}.serving.model_store import store

    check = json.loads((serving_project / "models" / "model.json").read_text()).get("onnx") or {}
    if runtime == "onnx" and check.get("status") != "passed":
        pytest.skip(f"this model has no checked ONNX copy: {check.get('reason')}")
    shutil.copytree(serving_project / "models", tmp_path / "models")
    settings.SERVING_MODEL_PATH = tmp_path / "models" / "model.joblib"
    settings.SERVING_RUNTIME = runtime
    store.reset()
    yield settings.SERVING_MODEL_PATH
    store.reset()
{%- endif %}

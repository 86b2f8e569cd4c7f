"""The table kind's site pages: its model card, its Data page, and the image gallery's metrics note."""

import json
{%- if cookiecutter.use_django == "yes" %}
import shlex
{%- endif %}
from pathlib import Path
from typing import Any

import pandas as pd

from ..formatting import table
from ..paths import TEST_PATH
from ..registry.manifest import Manifest, image_feature
from ..registry.versions import History
from ..report.cards import NO_RUN, current_version
from .gallery import GALLERY_PAGE, describe, gallery, has_gallery, image_of, image_section, size_and_color
from .texts import text_section

# Permutation importance shuffles one input column at a time: for an image, one pixel, which says little.
NO_IMPORTANCE = (
    "No feature importance for an image model: shuffling one pixel at a time says little about what it sees. "
    "The [Gallery](gallery.md) shows what it gets right and wrong.\n"
)


def site(
    root: Path, manifest: Manifest, profile: dict | None, history: History, limitations: str
) -> dict[str, str | bytes]:
    """The model card, and an image model's gallery page and thumbnails."""
    files: dict[str, str | bytes] = {"index.md": model_card(root, manifest, profile, history, limitations)}
    return files | gallery(root, manifest) if image_of(manifest) else files


def own_page(manifest: Manifest) -> tuple[str, str] | None:
    """An image model's Gallery: its test images, wrong answers first; a table model has none."""
    return ("Gallery", GALLERY_PAGE) if has_gallery(manifest) else None


def metrics_note(manifest: Manifest) -> str:
    """What the Metrics page adds for this model: why an image model has no feature importance."""
    return "\n## Feature importance\n\n" + NO_IMPORTANCE if image_of(manifest) else ""


def pr_tables(metrics: dict[str, Any]) -> list[str]:
    """The PR report's own tables of this kind: none beyond the metrics diff."""
    return []


def model_card(root: Path, manifest: Manifest, profile: dict | None, history: History, limitations: str) -> str:
    """The home page: what the model predicts, from what data, how good it is, how to call it."""
    lines = ["# Model card\n"]
    task, image = manifest["task"], image_of(manifest)
    example = example_image(root) if image else None  # an image model's examples post a file, not a row
    if task == "classification":
        classes = manifest["classes"]
        assert classes is not None  # a classifier's manifest lists its classes
        what = (
            f"classifies each {'image' if image else 'row'} into one of {len(classes)} classes "
            f"of `{manifest['target']}`: " + ", ".join(f"`{c}`" for c in classes)
        )
    else:
        what = f"predicts the number `{manifest['target']}` (regression)"
    inputs = f"{size_and_color(image)} images" if image else f"{len(manifest['features'])} features"
    lines += [
        f"A `{manifest['estimator']}` that {what}, from {inputs}.\n",
        "## Current version\n",
        current_version(manifest, history, "scikit-learn"),
        "## Metrics on the held-out test set\n",
        table(["metric", "value"], [[name, value] for name, value in manifest.get("metrics", {}).items()]),
        "See [Metrics](metrics.md) for the plots and [History](history.md) for every version.\n",
        *onnx_section(manifest),
        "## Data\n",
        data_summary(manifest, profile),
        *text_section(root, manifest),
        *image_section(manifest),
        "## Use the model\n",
        python_example(manifest, profile, example),
{%- if cookiecutter.use_django == "yes" %}
        "## Call the API\n",
        f"Served by the Django app (`make api` locally): `POST /api/predict{'/image' if image else ''}`, "
        "`GET /api/model`, `GET /api/health`, OpenAPI at `/api/openapi.json`.\n",
        curl_example(manifest, profile, example),
{%- endif %}
        "## Limitations\n",
        limitations,
    ]
    return "\n".join(lines)


def onnx_section(manifest: Manifest) -> list[str]:
    """The portable copy: whether serving answers from models/model.onnx, and how closely it matches the pickle."""
    check = manifest.get("onnx")
    if check is None:
        return []
    if check["status"] != "passed":
        return ["## Portable copy (ONNX)\n", f"None: {check.get('reason')}. Serving answers from the pickle.\n"]
    probability = check.get("max_probability_difference")
    difference = (
        ["labels equal", f"{check.get('label_agreement', 0):.1%}"],
        ["largest probability difference", f"{probability:.1e}"],
    ) if probability is not None else (
        ["largest prediction difference", f"{check.get('max_prediction_difference') or 0:.1e}"],
    )  # fmt: skip
    versions = check.get("versions") or {}
    return [
        "## Portable copy (ONNX)\n",
        "Serving answers from `models/model.onnx`, the same pipeline converted by skl2onnx, checked by "
        "train against the pickle on the held-out rows:\n",
        table(
            ["check", "value"],
            [
                ["rows checked", check.get("rows_checked")],
                *difference,
                ["opset", check.get("opset")],
                ["skl2onnx / onnxruntime", f"{versions.get('skl2onnx')} / {versions.get('onnxruntime')}"],
            ],
        ),
    ]


def data_summary(manifest: Manifest, profile: dict | None) -> str:
    """Rows, features and the target's balance or range."""
    if profile is None:
        return "No data profile yet: run `dvc repro`.\n"
    target = profile["target"]
    balance = (
        ", ".join(f"`{name}`: {count}" for name, count in target["classes"].items())
        if "classes" in target
        else f"from {target['min']:.6g} to {target['max']:.6g} (mean {target['mean']:.6g})"
    )
    if image := image_of(manifest):
        return (
            f"{profile['rows']} images ({manifest['data']['train_rows']} used to train), {describe(image)}; "
            f"target `{target['name']}`: {balance}. Details on the [Data](data.md) page.\n"
        )
    kinds = [f["kind"] for f in manifest["features"]]
    dates = f", {kinds.count('date')} date" if "date" in kinds else ""
    texts = [f"`{f['name']}`" for f in manifest["features"] if f["kind"] == "text"]  # the model card's text columns
    dates += f", {len(texts)} text ({', '.join(texts)})" if texts else ""
    return (
        f"{profile['rows']} rows ({manifest['data']['train_rows']} used to train); "
        f"{kinds.count('number')} numeric{dates} and {kinds.count('category')} categorical features; "
        f"target `{target['name']}`: {balance}. Details on the [Data](data.md) page.\n"
    )


def python_example(manifest: Manifest, profile: dict | None, image: str | None) -> str:
    """Python that loads the model and predicts one example: a table row, or an image file read as it trains."""
    package = __package__.split(".")[0]
    if image is not None:
        return (
            "```python\n"
            "from pathlib import Path\n\n"
            "import pandas\n\n"
            f"from {package}.data.images import load_image, pixel_columns, spec_of\n"
            f"from {package}.registry.artifacts import load_model\n\n"
            "loaded = load_model()  # refuses a file whose sha256 differs from models/model.json\n"
            'spec = spec_of(loaded.manifest["features"][0])  # the size and colour the model was trained on\n'
            f"pixels = load_image(Path({json.dumps(image)}), spec)\n"
            "loaded.model.predict(pandas.DataFrame([pixels], columns=pixel_columns(spec.pixels)))\n"
            "```\n"
        )
    return (
        "```python\n"
        "import pandas\n"
        f"from {package}.registry.artifacts import load_model\n\n"
        "loaded = load_model()  # refuses a file whose sha256 differs from models/model.json\n"
        f"loaded.model.predict(pandas.DataFrame([{json.dumps(example_row(manifest, profile), ensure_ascii=False)}]))\n"
        "```\n"
    )


{%- if cookiecutter.use_django == "yes" %}


def curl_example(manifest: Manifest, profile: dict | None, image: str | None) -> str:
    """A curl call of the API: JSON instances, or an image file posted as multipart form data."""
    if image is not None:
        return f"```bash\ncurl -s -X POST http://127.0.0.1:8000/api/predict/image -F 'image=@{image}'\n```\n"
    return (
        "```bash\n"
        "curl -s -X POST http://127.0.0.1:8000/api/predict -H 'Content-Type: application/json' \\\n"
        f"     -d {shlex.quote(json.dumps({'instances': [example_row(manifest, profile)]}, ensure_ascii=False))}\n"
        "```\n"
    )
{%- endif %}


def example_image(root: Path) -> str:
    """The path of the first test image, relative to the project root, or a placeholder without a test split."""
    path = root / TEST_PATH
    if path.is_file():
        index = pd.read_parquet(path, columns=[]).index  # the index only: the files, not the pixels
        if len(index):
            return str(index[0])
    return "my_image.png"


def example_row(manifest: Manifest, profile: dict | None) -> dict[str, Any]:
    """A plausible input row: the mean of each number (whole for an integer column), the most frequent category."""
    stats = {f["name"]: f for f in (profile or {}).get("features", [])}
    row: dict[str, Any] = {}
    for feature in manifest["features"]:
        info = stats.get(feature["name"], {})
        if feature["kind"] == "number":
            mean = info.get("mean") or 0
            row[feature["name"]] = round(mean) if pd.api.types.is_integer_dtype(feature["dtype"]) else round(mean, 3)
        elif feature["kind"] == "date":
            row[feature["name"]] = info.get("max") or "2024-01-01"
        else:
            row[feature["name"]] = next(iter(info.get("top", {})), (feature.get("categories") or [""])[0])
    return row


def data_page(profile: dict | None) -> str:
    """The schema and summary statistics recorded by the prepare stage."""
    lines = ["# Data\n"]
    if profile is None:
        return "\n".join([*lines, NO_RUN])
    target = profile["target"]
    target_rows = (
        [[name, count] for name, count in target["classes"].items()]
        if "classes" in target
        else [[key, target[key]] for key in ("mean", "std", "min", "max")]
    )
    images = image_feature(profile["features"]) is not None
    lines += [
        f"{profile['rows']} {'images' if images else 'rows'}, {len(profile['features'])} "
        f"feature{'' if len(profile['features']) == 1 else 's'} (`reports/data_profile.json`, "
        "written by the `prepare` stage).\n",
        f"## Target `{target['name']}`\n",
        table(["class" if "classes" in target else "statistic", "value"], target_rows),
        "## Features\n",
        image_table(profile["features"])
        if images
        else table(
            ["feature", "kind", "dtype", "missing", "mean", "std", "min", "max", "distinct", "most frequent"],
            [
                [
                    f"`{f['name']}`",
                    f["kind"],
                    f["dtype"],
                    f["missing"],
                    f.get("mean"),
                    f.get("std"),
                    f.get("min"),
                    f.get("max"),
                    f.get("unique"),
                    ", ".join(f"{k} ({v})" for k, v in list(f.get("top", {}).items())[:3]),
                ]
                for f in profile["features"]
            ],
        ),
    ]
    return "\n".join(lines)


def image_table(features: list[dict]) -> str:
    """An image profile's one feature: its size, colour and number of pixel values."""
    rows = [
        [f"`{f['name']}`", f["kind"], "x".join(map(str, f["size"])), f["color"], f["pixels"], f["missing"]]
        for f in features
    ]
    return table(["feature", "kind", "size", "colour", "values", "missing"], rows)

"""The report's pages as Markdown (and their SVG images), built from the workspace and git history."""

import json
{%- if cookiecutter.use_django == "yes" %}
import shlex
{%- endif %}
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.schema import image_feature
from ..formatting import short, table
from ..paths import MANIFEST_PATH, METRICS_PATH, PLOTS_DIR, PROFILE_PATH, TEST_PATH
from ..registry.manifest import Manifest
from ..registry.versions import History, Version, read_history
from . import charts
from .entities import PAGE as ENTITIES_PAGE
from .entities import annotations_page, entities_page, is_tagger, tagger_card
from .images import describe, gallery, image_of, image_section, size_and_color
{%- if cookiecutter.use_django == "yes" %}
from .monitoring import MONITORING_PATH, monitoring_site
{%- endif %}
from .pipeline import STYLES, build_graph, read_stages, render_svg
from .recommendations import PAGE as RECOMMENDATIONS_PAGE
from .recommendations import interactions_page, is_recommender, recommendations_page, recommender_card
from .text import text_section

NO_RUN = (
    '!!! warning "No model yet"\n'
    "    The pipeline has not run in this checkout. Run `dvc repro` (or `make repro`), then rebuild the site.\n"
)
PLOTS_ASSETS = "assets/plots"
# Permutation importance shuffles one input column at a time: for an image, one pixel, which says little.
NO_IMPORTANCE = (
    "No feature importance for an image model: shuffling one pixel at a time says little about what it sees. "
    "The [Gallery](gallery.md) shows what it gets right and wrong.\n"
)


def read_json(path: Path) -> Any:
    """A JSON file's content, or None when it does not exist."""
    return json.loads(path.read_text()) if path.is_file() else None


def read_text(path: Path) -> str:
    """A file's text, or nothing when it does not exist."""
    return path.read_text() if path.is_file() else ""


def build_site(root: Path) -> dict[str, str | bytes]:
    """Every generated page and image, keyed by its path in the site's docs."""
    manifest = read_json(root / MANIFEST_PATH)
    metrics = read_json(root / METRICS_PATH)
    profile = read_json(root / PROFILE_PATH)
    history = read_history(root)
    files: dict[str, str | bytes] = {
        "pipeline.md": pipeline_page(root),
        "data.md": profile_page(profile),
        "history.md": history_page(history, manifest),
    }
    if manifest and is_recommender(manifest):  # ranked items, not predictions: report/recommendations.py
        files["index.md"] = recommender_card(manifest, profile, history, read_text(root / "docs" / "limitations.md"))
        files[RECOMMENDATIONS_PAGE] = recommendations_page(root, manifest)
    elif manifest and is_tagger(manifest):  # entities in texts: report/entities.py
        files["index.md"] = tagger_card(manifest, profile, history, read_text(root / "docs" / "limitations.md"))
        files[ENTITIES_PAGE] = entities_page(root, manifest, profile)
    else:
        files["index.md"] = model_card(root, manifest, profile, history)
{%- if cookiecutter.use_django == "yes" %}
    if not is_recommender(manifest) and not is_tagger(manifest):  # served features to watch: these have none
        files |= monitoring_site(read_json(root / MONITORING_PATH))
{%- endif %}
    plot_images = {
        f"{PLOTS_ASSETS}/{name}.svg": render(rows)
        for name, (_, render) in charts.PLOT_CHARTS.items()
        if (rows := read_json(root / PLOTS_DIR / f"{name}.json"))
    }
    files |= plot_images
    metrics_md = metrics_page(metrics, plot_images, previous_version(history, manifest))
    files["metrics.md"] = metrics_md
    if image_of(manifest):
        files["metrics.md"] = metrics_md + "\n## Feature importance\n\n" + NO_IMPORTANCE
        files |= gallery(root, manifest)
    if len(history.versions) > 0:
        labels = [version.label for version in history.versions]
        names = sorted({name for version in history.versions for name in version.manifest.get("metrics", {})})
        series = {name: [v.manifest.get("metrics", {}).get(name) for v in history.versions] for name in names}
        if series:
            files["assets/history_metrics.svg"] = charts.metrics_over_versions(labels, series)
    return files


def profile_page(profile: dict | None) -> str:
    """The Data page: the table's columns, a recommender's interactions or a tagger's annotated texts."""
    if profile and profile.get("task") == "recommend":
        return interactions_page(profile)
    if profile and profile.get("task") == "entities":
        return annotations_page(profile)
    return data_page(profile)


def model_card(root: Path, manifest: Manifest | None, profile: dict | None, history: History) -> str:
    """The home page: what the model predicts, from what data, how good it is, how to call it."""
    limitations = root / "docs" / "limitations.md"
    lines = ["# Model card\n"]
    if manifest is None:
        return "\n".join([*lines, NO_RUN])
    current = history.versions[-1] if history.versions else None
    committed = current is not None and current.manifest.get("sha256") == manifest.get("sha256")
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
        table(
            ["version", "stage", "sha256", "trained from commit", "scikit-learn"],
            [
                [
                    current.label if committed and current else "uncommitted",
                    ", ".join(current.stages) if committed and current else "",
                    short(manifest.get("sha256")),
                    short(manifest.get("git_commit")),
                    manifest.get("versions", {}).get("scikit-learn"),
                ]
            ],
        ),
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
        limitations.read_text() if limitations.is_file() else "",
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


def pipeline_page(root: Path) -> str:
    """The DAG as SVG and, for each stage, its command, files, hashes, params and status."""
    lines = ["# Pipeline\n"]
    if not (root / "dvc.yaml").is_file() or not (root / ".dvc").is_dir():
        return "\n".join([*lines, "No DVC pipeline here: this page needs `dvc.yaml` and `dvc init`.\n"])
    stages = read_stages(root)
    svg = "\n".join(line for line in render_svg(build_graph(stages)).splitlines() if line.strip())
    legend = " · ".join(f"{label}: {shape}" for shape, _, label in STYLES.values())
    lines += [
        "The pipeline as DVC runs it (`dvc.yaml`): click a stage for its details. "
        "`dvc repro` reruns only the stages whose inputs changed.\n",
        f'<div class="pipeline-dag">\n{svg}\n</div>\n',
        f"Shapes: {legend}. Dashed edges: parameters from `params.yaml`.\n",
    ]
    if not (root / "dvc.lock").is_file():
        lines.append(NO_RUN)
    for stage in stages:
        status = "up to date" if stage.up_to_date else "changed since the last run: " + "; ".join(stage.changes)
        lines += [
            f"## {stage.name} " + "{ #stage-" + stage.name + " }\n",  # attr_list: the diagram links here
            f"**Status:** {status}\n",
            f"```bash\n{stage.cmd}\n```\n",
            table(
                ["", "path", "md5 in dvc.lock"],
                [["dep", f"`{p}`", short(stage.hashes.get(p))] for p in stage.deps]
                + [["out", f"`{p}`", short(stage.hashes.get(p))] for p in stage.outs],
            ),
        ]
        if stage.params:
            lines.append(table(["param", "value in the last run"], [[f"`{k}`", v] for k, v in stage.params.items()]))
    return "\n".join(lines)


def previous_version(history: History, manifest: Manifest | None) -> Version | None:
    """The committed version before the current model (the newest one if the current is uncommitted)."""
    versions = history.versions
    if manifest and versions and versions[-1].manifest.get("sha256") != manifest.get("sha256"):
        return versions[-1]
    return versions[-2] if len(versions) > 1 else None


def metrics_page(metrics: dict | None, images: dict[str, str], previous: Version | None) -> str:
    """The current metrics beside the previous version's, then the plots."""
    lines = ["# Metrics\n"]
    if metrics is None:
        return "\n".join([*lines, NO_RUN])
    before = previous.manifest.get("metrics", {}) if previous else {}
    rows = [[name, value, before.get(name), delta(value, before.get(name))] for name, value in metrics.items()]
    lines += [
        "On the held-out test set (`metrics/metrics.json`), beside the previous model version.\n",
        table(["metric", "value", f"previous ({previous.label})" if previous else "previous", "change"], rows),
    ]
    for name, (title, _) in charts.PLOT_CHARTS.items():
        path = f"{PLOTS_ASSETS}/{name}.svg"
        if path in images:
            lines += [f"## {title}\n", f"![{title}]({path})\n"]
    return "\n".join(lines)


def delta(new: Any, old: Any) -> str:
    """A signed difference, or nothing when either side is missing."""
    if isinstance(new, int | float) and isinstance(old, int | float):
        return f"{new - old:+.6g}"
    return ""


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


def history_page(history: History, manifest: Manifest | None) -> str:
    """One row per model version, newest first, a chart of the metrics, and the newest diff."""
    lines = ["# Model history\n"]
    notes = {
        "no-git": "This folder is not a git repository: there is no history to show.",
        "no-commits": "The repository has no commits yet: commit the trained model to start its history.",
        "shallow": "This is a shallow clone: the history below is partial. Fetch it all with "
        "`git fetch --unshallow` (in CI: `fetch-depth: 0`).",
    }
    if history.state in notes:
        lines.append(f'!!! note "Partial history"\n    {notes[history.state]}\n')
    versions = history.versions
    if manifest and (not versions or versions[-1].manifest.get("sha256") != manifest.get("sha256")):
        lines.append(f"The working tree holds a model not committed yet (sha256 {short(manifest.get('sha256'))}).\n")
    if not versions:
        return "\n".join([*lines, "No committed model version yet.\n"])
    names = sorted({name for version in versions for name in version.manifest.get("metrics", {})})
    lines += [
        f"{len(versions)} version{'s' if len(versions) > 1 else ''}: every commit that changed "
        "`models/model.json`, newest first.\n",
        "![Metrics across versions](assets/history_metrics.svg)\n" if names else "",
        "## Versions\n",
        table(
            ["version", "stage", "date", "author", "message", "commit", "sha256", *names, "params changed"],
            [version_row(version, names) for version in reversed(versions)],
        ),
    ]
    if len(versions) > 1:
        lines += ["## Newest against previous\n", version_diff(versions[-2], versions[-1])]
    return "\n".join(lines)


def version_row(version: Version, metric_names: list[str]) -> list[Any]:
    """A history table row."""
    metrics = version.manifest.get("metrics", {})
    changed = "; ".join(f"`{key}`: {old} → {new}" for key, (old, new) in version.params_changed.items())
    return [
        f"**{version.label}**",
        ", ".join(version.stages),
        version.date[:10],
        version.author,
        version.message,
        f"`{version.short}`",
        short(version.manifest.get("sha256")),
        *[metrics.get(name) for name in metric_names],
        changed,
    ]


def version_diff(old: Version, new: Version) -> str:
    """What changed from one version to the next: hash, metrics and params."""
    rows: list[list[Any]] = [["sha256", short(old.manifest.get("sha256")), short(new.manifest.get("sha256")), ""]]
    old_metrics, new_metrics = old.manifest.get("metrics", {}), new.manifest.get("metrics", {})
    for name in sorted(old_metrics.keys() | new_metrics.keys()):
        before, after = old_metrics.get(name), new_metrics.get(name)
        rows.append([f"metric `{name}`", before, after, delta(after, before)])
    rows += [[f"param `{key}`", before, after, ""] for key, (before, after) in new.params_changed.items()]
    return f"{old.label} → {new.label}\n\n" + table(["", old.label, new.label, "change"], rows)

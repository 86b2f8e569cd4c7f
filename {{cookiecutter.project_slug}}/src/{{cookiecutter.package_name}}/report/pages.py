"""The report's pages as Markdown (and their SVG images), built from the workspace and git history.

The frame is shared: pipeline, metrics, history{% if cookiecutter.use_django == "yes" %} and monitoring{% endif %}. The model card, the Data page and any
page of its own come from the model's kind (kinds.py: each kind's pages.py).
"""

import json
from pathlib import Path
from typing import Any

from .. import kinds
from ..formatting import short, table
from ..paths import MANIFEST_PATH, METRICS_PATH, PLOTS_DIR, PROFILE_PATH
from ..registry.manifest import Manifest
from ..registry.versions import History, Version, read_history
from . import charts
from .cards import NO_RUN
{%- if cookiecutter.use_django == "yes" %}
from .monitoring import MONITORING_PATH, monitoring_site
{%- endif %}
from .pipeline import STYLES, build_graph, read_stages, render_svg

PLOTS_ASSETS = "assets/plots"


def read_json(path: Path) -> Any:
    """A JSON file's content, or None when it does not exist."""
    return json.loads(path.read_text()) if path.is_file() else None


def read_text(path: Path) -> str:
    """A file's text, or nothing when it does not exist."""
    return path.read_text() if path.is_file() else ""


def own_page(manifest: Manifest) -> tuple[str, str] | None:
    """The model's own page for the nav, after Metrics, as its kind names it: (title, page), or None."""
    page: tuple[str, str] | None = kinds.part(kinds.for_task(manifest["task"]), "pages").own_page(manifest)
    return page


def build_site(root: Path) -> dict[str, str | bytes]:
    """Every generated page and image, keyed by its path in the site's docs."""
    manifest = read_json(root / MANIFEST_PATH)
    metrics = read_json(root / METRICS_PATH)
    profile = read_json(root / PROFILE_PATH)
    history = read_history(root)
    kind = kinds.for_task(manifest["task"]) if manifest else kinds.kinds()[0]  # before a run: the bake's kind
    pages = kinds.part(kind, "pages")
    files: dict[str, str | bytes] = {
        "pipeline.md": pipeline_page(root),
        "data.md": pages.data_page(profile),
        "history.md": history_page(history, manifest),
        "index.md": "\n".join(["# Model card\n", NO_RUN]),
    }
    if manifest:
        files |= pages.site(root, manifest, profile, history, read_text(root / "docs" / "limitations.md"))
{%- if cookiecutter.use_django == "yes" %}
    if kind.MONITORED:  # served features to watch: a recommender or a tagger has none
        files |= monitoring_site(read_json(root / MONITORING_PATH))
{%- endif %}
    plot_images = {
        f"{PLOTS_ASSETS}/{name}.svg": render(rows)
        for name, (_, render) in charts.PLOT_CHARTS.items()
        if (rows := read_json(root / PLOTS_DIR / f"{name}.json"))
    }
    files |= plot_images
    note = pages.metrics_note(manifest) if manifest else ""
    files["metrics.md"] = metrics_page(metrics, plot_images, previous_version(history, manifest)) + note
    if len(history.versions) > 0:
        labels = [version.label for version in history.versions]
        names = sorted({name for version in history.versions for name in version.manifest.get("metrics", {})})
        series = {name: [v.manifest.get("metrics", {}).get(name) for v in history.versions] for name in names}
        if series:
            files["assets/history_metrics.svg"] = charts.metrics_over_versions(labels, series)
    return files


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

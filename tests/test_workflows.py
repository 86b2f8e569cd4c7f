"""The baked workflows, step by step, on a stand-in for a GitHub-hosted runner (see runner.py).

A pull request runs ci.yml (install, lint, test, PR report, comment, site); its merge runs retrain.yml
(install, retrain, commit and tag, site); every day monitor.yml compares the served rows with the
training data and files drift as one issue. Nothing from the test's environment is on the runner's
PATH, so a step that only works with an activated venv fails here as it would on GitHub.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import BIN, TEMPLATE, Project
from runner import GitHubAPI, Runner, bare_python

# A group of its own, so xdist starts the suite's longest test before the short tests that are not in a
# group (units go out largest first), not last, when the other worker would have nothing left to do.
pytestmark = pytest.mark.xdist_group("workflows")

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
WORKFLOWS = Path(".github") / "workflows"


def origin_git(origin: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(origin), *args], capture_output=True, text=True).stdout


@pytest.fixture
def api() -> Iterator[GitHubAPI]:
    server = GitHubAPI()
    yield server
    server.shutdown()


# The change each pull request makes: a hyperparameter of the bake's model, its line before and after, and a later one.
CHANGES = {
    "csv": ("min_samples_leaf", "min_samples_leaf: 1", "min_samples_leaf: 5", "min_samples_leaf: 3"),
    "supermarket": ("neighbors", "neighbors: 50        #", "neighbors: 20        #", "neighbors: 30        #"),
}


@pytest.mark.slow
@pytest.mark.parametrize("dataset", list(CHANGES), ids=["table", "recommender"])
def test_a_pull_request_and_its_merge_on_a_hosted_runner(
    bake: Callable[..., Project], tmp_path: Path, api: GitHubAPI, dataset: str
) -> None:
    name, before, after, later = CHANGES[dataset]
    project = bake(project_name="Runner", dataset=dataset, python_version=PYTHON_VERSION)
    project.dvc("repro")
    project.commit_all("First model")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    project.run("git", "remote", "add", "origin", str(origin))
    project.run("git", "push", "-q", "-u", "origin", "main")
    project.run("git", "checkout", "-q", "-b", "tune-the-model")
    params = (project.path / "params.yaml").read_text()
    (project.path / "params.yaml").write_text(params.replace(before, after, 1))
    project.commit_all("Tune the model")
    project.run("git", "push", "-q", "origin", "tune-the-model")

    runner = Runner(tmp_path / "runner", origin, bare_python(tmp_path / "setup-python"), api)
    pull_request = {"number": 7, "base": {"ref": "main"}, "head": {"ref": "tune-the-model"}}
    steps = runner.run_job(
        project.path / WORKFLOWS / "ci.yml", "check", "pull_request", {"pull_request": pull_request}, "tune-the-model"
    )
    assert all(step.returncode == 0 for step in steps), runner.log()
    assert [step.name for step in steps][-1] == "Build the report site", runner.log()
    tested = next(step for step in steps if step.name == "Test")
    assert " passed" in tested.output and " failed" not in tested.output, tested.output
    [comment] = api.comments[7]
    assert "<!-- model-report -->" in comment["body"]
    changed = f"{name}` | {before.split(': ')[1].split()[0]} | {after.split(': ')[1].split()[0]} |"
    assert changed in comment["body"], comment["body"]
    if dataset == "supermarket":
        assert "### Against the popularity baseline" in comment["body"], comment["body"]
    assert set(api.tokens) == {"Bearer test-token"}

    project.run("git", "checkout", "-q", "main")
    project.run("git", "merge", "-q", "--no-ff", "tune-the-model", "-m", "Merge pull request #7")
    project.run("git", "push", "-q", "origin", "main")
    steps = runner.run_job(project.path / WORKFLOWS / "retrain.yml", "retrain", "push", {}, "refs/heads/main")
    assert all(step.returncode == 0 for step in steps), runner.log()
    assert steps[-1].name.startswith("actions/upload-pages-artifact"), runner.log()
    head = origin_git(origin, "log", "-1", "--format=%an|%s", "main")
    assert head.startswith("github-actions[bot]|Retrain") and "[skip ci]" in head, head
    assert origin_git(origin, "tag", "--points-at", "main").startswith("model@v"), runner.log()
    changed = origin_git(origin, "show", "--name-only", "--format=", "main").split()
    assert {"dvc.lock", "models/model.joblib", "models/model.json", "metrics/metrics.json"} <= set(changed)

    # The README's commands in a plain shell of that machine: no venv activated, setup-python's python first.
    shell = {"PATH": f"{runner.python_bin}:{runner.tools}:/usr/bin:/bin", "HOME": str(runner.home)}
    code, output = runner.shell(f"sed -i 's/{after}/{later}/' params.yaml", shell)
    code, output = runner.shell(".venv/bin/dvc repro", shell)
    assert code == 0 and "Running stage 'train'" in output, output
    code, output = runner.shell("make repro && make metrics", shell)
    assert code == 0 and "didn't change, skipping" in output, output


# Served through the API with the prediction log on: every training and test row, its mean radius tripled.
SERVE_DRIFTED_ROWS = """
import json
import pandas as pd
from django.test import Client
features = [f["name"] for f in json.load(open("models/model.json"))["features"]]
rows = pd.concat([pd.read_parquet(f"data/prepared/{part}.parquet") for part in ("train", "test")])[features]
rows["mean radius"] *= 3
instances = rows.to_dict("records")
client = Client(HTTP_HOST="localhost")
for start in range(0, len(instances), 500):
    body = json.dumps({"instances": instances[start : start + 500]})
    answer = client.post("/api/predict", body, content_type="application/json")
    assert answer.status_code == 200, answer.content
print(len(instances))
"""


def serve_drifted_rows(project: Project, database: Path) -> int:
    """A production database whose prediction log holds drifted rows; how many."""
    env = project.env() | {"DATABASE_URL": f"sqlite:///{database}", "DJANGO_DEBUG": "on"}
    env["SERVING_PREDICTION_LOG"] = "on"
    project.run(str(BIN / "python"), "manage.py", "migrate", "--noinput", env=env)
    served = project.run(str(BIN / "python"), "manage.py", "shell", "-c", SERVE_DRIFTED_ROWS, env=env)
    return int(served.stdout.split()[-1])


@pytest.mark.slow
def test_a_lasting_drift_is_one_issue_across_daily_monitor_runs(
    bake: Callable[..., Project], tmp_path: Path, api: GitHubAPI
) -> None:
    project = bake(project_name="Watched", python_version=PYTHON_VERSION)  # breast_cancer, with Django
    project.dvc("repro")
    project.commit_all("First model")
    project.run(str(BIN / "gto"), "register", "model", "HEAD")  # model@v0.0.1, as retrain.yml registers it
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    project.run("git", "remote", "add", "origin", str(origin))
    project.run("git", "push", "-q", "--follow-tags", "-u", "origin", "main")
    database = tmp_path / "production.sqlite3"
    assert serve_drifted_rows(project, database) > 500

    runner = Runner(tmp_path / "runner", origin, bare_python(tmp_path / "setup-python"), api)
    runner.secrets["DATABASE_URL"] = f"sqlite:///{database}"
    for day in (1, 2):  # two scheduled runs, the second while the issue of the first is open
        steps = runner.run_job(project.path / WORKFLOWS / "monitor.yml", "monitor", "schedule", {}, "refs/heads/main")
        assert [step.returncode for step in steps] == [0] * 9, runner.log()  # the site rebuilt with the day's page too
        monitored = next(step for step in steps if step.name.startswith("Compare the served data"))
        assert "drift: mean radius" in monitored.output, monitored.output
        filed = next(step for step in steps if step.name.startswith("Open or update the drift issue")).output
        assert ("opened issue #" if day == 1 else "updated issue #") in filed, filed
        report = json.loads(runner.artifacts["monitoring"][0].read_text())
        assert report["status"] == "drift" and report["model"]["version"] == "model@v0.0.1"

    published = (runner.workspace / "site" / "monitoring" / "index.html").read_text()
    assert "Drift" in published and "mean radius" in published  # the day's Monitoring page, for Pages
    [issue] = api.issues.values()
    assert issue["state"] == "open" and issue["title"] == "Model drift: model@v0.0.1"
    assert [label["name"] for label in issue["labels"]] == ["model-drift"]
    assert issue["body"].startswith("<!-- model-drift -->") and "| **mean radius** | " in issue["body"]
    assert "(https://github.com/acme/project/actions/runs/2)" in issue["body"], issue["body"]  # the second run's
    [comment] = api.comments[issue["number"]]
    assert comment["body"].startswith("Still drifting on ") and "**mean radius**" in comment["body"]
    assert set(api.tokens) == {"Bearer test-token"}


def test_the_workflows_name_only_steps_the_runner_stand_in_knows() -> None:
    """Every `uses:` of the baked workflows is one the stand-in emulates, so the test above runs them all."""
    known = {"actions/checkout", "actions/setup-python", "actions/upload-artifact", "actions/upload-pages-artifact"}
    known |= {"actions/deploy-pages"}
    for workflow in (TEMPLATE / "{{cookiecutter.project_slug}}" / WORKFLOWS).glob("*.yml"):
        lines = workflow.read_text().splitlines()
        used = {line.split("uses:")[1].split("@")[0].strip() for line in lines if "uses:" in line}
        assert used <= known, f"{workflow.name} uses {used - known}"

"""The baked workflows, step by step, on a stand-in for a GitHub-hosted runner (see runner.py).

A pull request runs ci.yml (install, lint, test, PR report, comment, site); its merge runs retrain.yml
(install, retrain, commit and tag, site); every day monitor.yml compares the served rows with the
training data and files drift as one issue. Nothing from the test's environment is on the runner's
PATH, so a step that only works with an activated venv fails here as it would on GitHub.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
    origin = project.add_origin(tmp_path)
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

    # The new version's images: the image job on a runner whose `docker` records what it is asked (a dry run).
    commit = origin_git(origin, "rev-parse", "main").strip()
    assert runner.outputs["retrain"] == {"version": "model@v0.0.1", "commit": commit}
    docker = runner.tools / "docker"
    docker.write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/docker.calls"\ncat >> "$(dirname "$0")/docker.stdin"\n')
    docker.chmod(0o755)
    steps = runner.run_job(project.path / WORKFLOWS / "retrain.yml", "image", "push", {}, "refs/heads/main")
    assert steps and all(step.returncode == 0 for step in steps), runner.log()
    calls = [line.split() for line in (runner.tools / "docker.calls").read_text().splitlines()]
    assert calls[0] == ["login", "ghcr.io", "--username", "acme-dev", "--password-stdin"]
    assert (runner.tools / "docker.stdin").read_text().strip() == "test-token"
    sha256 = json.loads(origin_git(origin, "show", "main:models/model.json"))["sha256"]  # the retrained model
    built = ["ghcr.io/acme/project", *(["ghcr.io/acme/project-monitor"] if dataset == "csv" else [])]  # a table's
    for image, build in zip(built, calls[1::4], strict=True):
        names = [f"{image}:{tag}" for tag in ("model-v0.0.1", "latest", f"sha-{commit[:7]}")]
        group = "monitor" if image.endswith("-monitor") else "serve"
        assert build[:3] == ["build", "--build-arg", f"DEPENDENCY_GROUP={group}"]
        assert "MODEL_VERSION=model@v0.0.1" in build and f"MODEL_SHA256={sha256}" in build
        assert build[-7:] == [*(option for name in names for option in ("--tag", name)), "."]
        assert [call for call in calls if call[0] == "push" and call[1].startswith(f"{image}:")] == [
            ["push", name] for name in names
        ]
    assert len(calls) == 1 + 4 * len(built)  # the login, then a build and three pushes per image

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


def serve_drifted_rows(project: Project, database_url: str) -> int:
    """A production database whose prediction log holds drifted rows; how many."""
    env = project.env() | {"DATABASE_URL": database_url, "DJANGO_DEBUG": "on", "SERVING_PREDICTION_LOG": "on"}
    served = project.run(str(BIN / "python"), "manage.py", "shell", "-c", SERVE_DRIFTED_ROWS, env=env)
    return int(served.stdout.split()[-1])


def production_database(project: Project, tmp_path: Path) -> str:
    """A new, migrated production database: on the PostgreSQL .ci/run starts (TEST_DATABASE_URL), else SQLite."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        import psycopg

        name = f"watched_{secrets.token_hex(4)}"
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        url = f"{server.rsplit('/', 1)[0]}/{name}"
    else:
        url = f"sqlite:///{tmp_path / 'production.sqlite3'}"
    env = project.env() | {"DATABASE_URL": url, "DJANGO_DEBUG": "on"}
    project.run(str(BIN / "python"), "manage.py", "migrate", "--noinput", env=env)
    return url


def step_named(steps: list[Any], start: str) -> Any:
    return next(step for step in steps if step.name.startswith(start))


@pytest.mark.slow
def test_the_daily_monitor_files_a_blind_run_then_one_issue_for_a_lasting_drift(
    bake: Callable[..., Project], tmp_path: Path, api: GitHubAPI
) -> None:
    project = bake(project_name="Watched", python_version=PYTHON_VERSION)  # breast_cancer, with Django
    project.dvc("repro")
    project.commit_all("First model")
    project.run(str(BIN / "gto"), "register", "model", "HEAD")  # model@v0.0.1, as retrain.yml registers it
    origin = project.add_origin(tmp_path)
    project.run("git", "push", "-q", "--follow-tags", "-u", "origin", "main")
    database = production_database(project, tmp_path)

    runner = Runner(tmp_path / "runner", origin, bare_python(tmp_path / "setup-python"), api)
    runner.secrets["DATABASE_URL"] = database
    # Day 0: the server has logged nothing yet. A blind monitor is an issue of its own and a failed run.
    steps = runner.run_job(project.path / WORKFLOWS / "monitor.yml", "monitor", "schedule", {}, "refs/heads/main")
    assert [step.returncode for step in steps] == [0, 0, 0, 0, 2, 0, 0, 0, 0], runner.log()  # make: 2; the page too
    assert "the prediction log is empty" in step_named(steps, "Judge the served model").output
    filed = step_named(steps, "File the alarm")
    assert "opened issue #" in filed.output and "the monitor could not judge" in filed.output, filed.output
    assert "Blind" in (runner.workspace / "site" / "monitoring" / "index.html").read_text()

    assert serve_drifted_rows(project, database) > 500
    for day in (1, 2):  # two scheduled runs, the second while the issue of the first is open
        steps = runner.run_job(project.path / WORKFLOWS / "monitor.yml", "monitor", "schedule", {}, "refs/heads/main")
        assert [step.returncode for step in steps] == [0] * 9, runner.log()  # the site rebuilt with the day's page too
        monitored = step_named(steps, "Judge the served model")
        assert "drift: mean radius" in monitored.output, monitored.output
        filed = step_named(steps, "File the alarm").output
        assert ("opened issue #" if day == 1 else "updated issue #") in filed, filed
        report = json.loads(runner.artifacts["monitoring"][-1].read_text())
        assert report["status"] == "drift" and report["model"]["version"] == "model@v0.0.1"
        assert len(report["history"]) == day + 1  # the runs kept in the production database

    published = (runner.workspace / "site" / "monitoring" / "index.html").read_text()
    assert "Drift" in published and "mean radius" in published  # the day's Monitoring page, for Pages
    blind, drift = sorted(api.issues.values(), key=lambda issue: issue["number"])
    assert blind["title"].startswith("Model monitor blind: the prediction log is empty")
    assert [label["name"] for label in blind["labels"]] == ["model-monitor"]
    assert drift["state"] == "open" and drift["title"] == "Model drift: model@v0.0.1"
    assert [label["name"] for label in drift["labels"]] == ["model-drift"]
    assert drift["body"].startswith("<!-- model-drift -->") and "| **mean radius** | " in drift["body"]
    assert "(https://github.com/acme/project/actions/runs/3)" in drift["body"], drift["body"]  # the third run's
    [comment] = api.comments[drift["number"]]
    assert comment["body"].startswith("Still alarming on ") and "**mean radius**" in comment["body"]
    assert set(api.tokens) == {"Bearer test-token"}


def test_the_workflows_name_only_steps_the_runner_stand_in_knows() -> None:
    """Every `uses:` of the baked workflows is one the stand-in emulates, so the test above runs them all."""
    known = {"actions/checkout", "actions/setup-python", "actions/upload-artifact", "actions/upload-pages-artifact"}
    known |= {"actions/deploy-pages"}
    for workflow in (TEMPLATE / "{{cookiecutter.project_slug}}" / WORKFLOWS).glob("*.yml"):
        lines = workflow.read_text().splitlines()
        used = {line.split("uses:")[1].split("@")[0].strip() for line in lines if "uses:" in line}
        assert used <= known, f"{workflow.name} uses {used - known}"

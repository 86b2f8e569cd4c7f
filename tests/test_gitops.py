"""The GitOps loop against a local bare repository as origin: PR report, retrain on main, tags, races."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import BIN, TEMPLATE, Project

pytestmark = pytest.mark.xdist_group("gitops")  # one worker: its module fixture trains and pushes a project once

WAIT = "n=$((n+1)); [ $n -lt 1200 ] || exit 1; sleep 0.1"  # a pre-push hook's wait: 0.1 s steps, 120 s at most
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


def make(project: Project, target: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return project.run("make", target, f"BIN={BIN}", *args, check=check)


class Clone(Project):
    """A CI checkout: its git config, not the test's environment, names the committer."""

    def env(self) -> dict[str, str]:
        return {k: v for k, v in super().env().items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}


def clone(origin: Path, target: Path, context: dict) -> Clone:
    """A fresh clone that commits as the GitHub Actions bot, as the retrain workflow sets it up."""
    subprocess.run(["git", "clone", "-q", str(origin), str(target)], check=True)
    copy = Clone(target, context)
    copy.run("git", "config", "user.name", BOT[0])
    copy.run("git", "config", "user.email", BOT[1])
    return copy


def origin_log(origin: Path) -> list[str]:
    return subprocess.run(
        ["git", "--git-dir", str(origin), "log", "--format=%H %an %s", "main"], capture_output=True, text=True
    ).stdout.splitlines()


def origin_tags(origin: Path) -> list[str]:
    return subprocess.run(["git", "--git-dir", str(origin), "tag"], capture_output=True, text=True).stdout.split()


def gto_show(repo: Path) -> list[tuple[str, list[str]]]:
    """The model's versions and their stages as the venv's `gto show` (the CLI) lists them."""
    command = [str(BIN / "gto"), "show", "model", "--json"]
    shown = json.loads(subprocess.run(command, cwd=repo, capture_output=True, text=True, check=True).stdout)
    return [(row["version"], [stage["stage"] for stage in row["stages"]]) for row in shown]


@pytest.fixture(scope="module")
def trained_loop(bake_shared: Callable[..., Project], tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    """A trained project pushed to a bare origin, built once for the module."""
    project = bake_shared(project_name="Loop", use_django="no")
    project.dvc("repro")
    project.commit_all("First model")
    origin = project.add_origin(tmp_path_factory.mktemp("loop"))
    project.run("git", "push", "-q", "-u", "origin", "main")
    return project, origin


@pytest.fixture
def loop(trained_loop: tuple[Project, Path], tmp_path: Path) -> tuple[Project, Path]:
    """A private copy of the trained project and its origin, for one test to change."""
    project, origin = trained_loop
    return project.copy_with_origin(origin, tmp_path)


def merge_param_change(project: Project, trees: int) -> None:
    """A pull request that changes a train param, merged into main and pushed (outputs not committed)."""
    project.run("git", "checkout", "-q", "-b", f"trees-{trees}")
    project.set_params(
        "train", hyperparams={"random_forest": {"n_estimators": trees, "max_depth": None, "min_samples_leaf": 1}}
    )
    project.commit_all(f"Use {trees} trees")
    project.run("git", "checkout", "-q", "main")
    project.run("git", "merge", "-q", "--no-ff", f"trees-{trees}", "-m", f"Merge trees-{trees}")
    project.run("git", "push", "-q", "origin", "main")


def test_pr_report_shows_the_metric_and_param_diffs(loop: tuple[Project, Path]) -> None:
    project, _ = loop
    make(project, "pr-report", "BASE=origin/main")  # nothing changed: every metric is still listed
    unchanged = (project.path / "report.md").read_text()
    accuracy = f"{project.json('metrics/metrics.json')['accuracy']:.6g}"
    assert "Stages that ran: none" in unchanged and f"| `accuracy` | {accuracy} | {accuracy} | +0 |" in unchanged
    project.run("git", "checkout", "-q", "-b", "fewer-trees")
    project.set_params(
        "train", hyperparams={"random_forest": {"n_estimators": 10, "max_depth": 2, "min_samples_leaf": 1}}
    )
    project.commit_all("Fewer, shallower trees")
    make(project, "pr-report", "BASE=origin/main")
    report = (project.path / "report.md").read_text()
    assert "<!-- model-report -->" in report
    assert "Stages that ran: `train`, `evaluate`." in report
    assert "| `train.hyperparams.random_forest.n_estimators` | 100 | 10 |" in report
    assert "| `train.hyperparams.random_forest.max_depth` | - | 2 |" in report
    metrics = project.json("metrics/metrics.json")
    assert "| `accuracy` | " in report and f"{metrics['accuracy']:.6g}" in report

    head = project.run("git", "rev-parse", "HEAD").stdout
    refused = make(project, "retrain", check=False)  # on the pull request's branch, not main
    assert refused.returncode != 0
    assert "retrain commits to main, but fewer-trees is checked out: git switch main first" in refused.stderr
    assert project.run("git", "rev-parse", "HEAD").stdout == head  # the branch did not move


def test_retrain_commits_tags_and_pushes_once(loop: tuple[Project, Path], tmp_path: Path) -> None:
    project, origin = loop
    merge_param_change(project, 20)
    before = origin_log(origin)
    runner = clone(origin, tmp_path / "ci", project.context)
    result = make(runner, "retrain")
    assert "retrain: pushed model@v0.0.1" in result.stdout  # GTO's first version
    after = origin_log(origin)
    assert len(after) == len(before) + 1
    sha, author, message = after[0].split(" ", 2)
    assert author == BOT[0] and message.endswith("[skip ci]")
    changed = runner.run("git", "show", "--name-only", "--format=", sha).stdout.split()
    models = {"models/model.joblib", "models/model.onnx", "models/model.json"}
    assert {"dvc.lock", "metrics/metrics.json", *models} <= set(changed)
    assert all(path.startswith(("dvc.lock", "models/", "metrics/", "plots/", "reports/")) for path in changed)
    assert origin_tags(origin) == ["model@v0.0.1"]
    assert runner.run("git", "rev-list", "-n", "1", "model@v0.0.1").stdout.strip() == sha
    assert gto_show(runner.path) == [("v0.0.1", [])]  # GTO (and so DVC Studio) reads the version
    runner.run(str(BIN / "python"), "-c", f"from {runner.package}.registry.artifacts import load_model; load_model()")

    again = make(runner, "retrain")  # nothing changed since: no commit, no tag
    assert "did not change" in again.stdout
    assert origin_log(origin) == after and origin_tags(origin) == ["model@v0.0.1"]

    make(runner, "docs")
    history = (runner.path / "site" / "history" / "index.html").read_text()
    first = runner.run("git", "log", "--format=%H", "--", "models/model.json").stdout.split()[-1][:7]  # by hand
    assert "<strong>model@v0.0.1</strong>" in history and f"<strong>{first}</strong>" in history
    assert ">v1<" not in history  # no invented numbering

    make(runner, "promote", "VERSION=v0.0.1", "STAGE=prod")
    assert "model#prod#1" in runner.run("git", "tag", "--points-at", sha).stdout.split()
    assert gto_show(runner.path) == [("v0.0.1", ["prod"])]
    make(runner, "docs")
    assert ">prod<" in (runner.path / "site" / "history" / "index.html").read_text()


def test_two_racing_retrains_leave_one_consistent_main(loop: tuple[Project, Path], tmp_path: Path) -> None:
    project, origin = loop
    merge_param_change(project, 30)
    base = origin_log(origin)[0].split()[0]
    first, second = (clone(origin, tmp_path / name, project.context) for name in ("a", "b"))
    # Certain overlap: each run pauses at its push until the other has committed too; the second run
    # pushes only once the first run's push has landed, so its own commit is already out of date.
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    hooks = {
        first: f"touch {barrier}/a; n=0; until [ -e {barrier}/b ]; do {WAIT}; done",
        second: (
            f'touch {barrier}/b; n=0; until [ "$(git ls-remote origin refs/heads/main | cut -f1)" != {base} ]; '
            f"do {WAIT}; done"
        ),
    }
    for c, script in hooks.items():
        hook = c.path / ".git" / "hooks" / "pre-push"
        hook.write_text(f"#!/bin/sh\n{script}\n")
        hook.chmod(0o755)
    # Two runners whose clocks differ: the two commits of the same model are two different commits.
    later = {"GIT_COMMITTER_DATE": f"{int(time.time()) + 3600} +0000"}  # git's raw format, which GTO reads too
    runs = [
        subprocess.Popen(
            ["make", "retrain", f"BIN={BIN}"], cwd=c.path, env=c.env() | extra, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        for c, extra in ((first, {}), (second, later))
    ]  # fmt: skip
    try:
        outputs = [run.communicate(timeout=600)[0] for run in runs]
    finally:
        for run in runs:
            run.kill()
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert "retrain: pushed model@v0.0.1" in outputs[0] and "rejected" not in outputs[0], outputs[0]
    # The second run's push is refused; from the new main it finds the same model already committed.
    assert "push rejected (attempt 1/5)" in outputs[1], outputs[1]
    assert "the model did not change; nothing to commit" in outputs[1] and "pushed" not in outputs[1], outputs[1]
    assert origin_tags(origin) == ["model@v0.0.1"]
    head = origin_log(origin)[0].split()[0]
    for c in (first, second):
        c.run("git", "fetch", "-q", "origin")
        assert c.run("git", "rev-parse", "origin/main").stdout.strip() == head
    bot_commits = [line for line in origin_log(origin) if BOT[0] in line]
    assert len(bot_commits) == 1


def test_retrain_starts_again_when_main_moves_before_its_push(loop: tuple[Project, Path], tmp_path: Path) -> None:
    project, origin = loop
    merge_param_change(project, 40)
    # Someone else's commit, pushed from a pre-push hook at the moment the retrain pushes.
    other = clone(origin, tmp_path / "other", project.context)
    (other.path / "NOTES.md").write_text("A teammate's change.\n")
    other.commit_all("A teammate's change")
    runner = clone(origin, tmp_path / "ci", project.context)
    hook = runner.path / ".git" / "hooks" / "pre-push"
    hook.write_text(f'#!/bin/sh\nrm -f "$0"\ngit -C {other.path} push -q origin main\n')
    hook.chmod(0o755)
    result = make(runner, "retrain")
    assert "push rejected (attempt 1/5)" in result.stdout and "retrain: pushed model@v0.0.1" in result.stdout
    log = origin_log(origin)
    assert BOT[0] in log[0] and "A teammate's change" in log[1]  # the teammate's commit kept, ours on top
    assert origin_tags(origin) == ["model@v0.0.1"]
    assert runner.run("git", "rev-list", "-n", "1", "model@v0.0.1").stdout.strip() == log[0].split()[0]


def test_a_failing_retrain_pushes_nothing(loop: tuple[Project, Path], tmp_path: Path) -> None:
    project, origin = loop
    project.set_params("train", model="no_such_model")
    project.commit_all("Break the model choice")
    project.run("git", "push", "-q", "origin", "main")
    before, tags = origin_log(origin), origin_tags(origin)
    runner = clone(origin, tmp_path / "ci", project.context)
    result = make(runner, "retrain", check=False)
    assert result.returncode != 0
    assert "train.model 'no_such_model' is not one of" in result.stdout + result.stderr
    assert origin_log(origin) == before and origin_tags(origin) == tags


def test_the_documented_command_moves_old_version_tags_to_gtos_format(tmp_path: Path) -> None:
    # A project from before GTO's format: versions model@v2 and model@v3 (prod), pushed to origin.
    section = (TEMPLATE / "docs" / "updates.md").read_text().split("## Model versions tagged before GTO's format")[1]
    command = section.split("```bash\n")[1].split("```")[0]
    origin, repo = tmp_path / "origin.git", tmp_path / "project"
    identity = {f"GIT_{who}_{what}": "T" for who in ("AUTHOR", "COMMITTER") for what in ("NAME", "EMAIL")}

    def run(*args: str) -> None:
        subprocess.run(args, cwd=repo, env={**os.environ, **identity}, check=True, capture_output=True)

    repo.mkdir()
    run("git", "init", "-q", "--bare", "-b", "main", str(origin))
    run("git", "init", "-q", "-b", "main")
    for number in (1, 2, 3):
        run("git", "commit", "-q", "--allow-empty", "-m", f"Model {number}")
        if number > 1:
            run("git", "tag", "-a", f"model@v{number}", "-m", f"Model version v{number}")
    run("git", "tag", "-a", "model#prod#1", "model@v3^{}", "-m", "Promote model@v3 to prod")
    run("git", "remote", "add", "origin", str(origin))
    run("git", "push", "-q", "origin", "main", "--tags")
    (repo / ".venv").symlink_to(BIN.parent)  # the project's venv, where `make install` puts gto
    run("bash", "-euc", command)
    assert gto_show(repo) == [("v0.0.3", ["prod"]), ("v0.0.2", [])]
    assert origin_tags(origin) == ["model#prod#1", "model@v0.0.2", "model@v0.0.3"]

"""The GitOps loop against a local bare repository as origin: PR report, retrain on main, tags, races."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import BIN, Project

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


@pytest.fixture
def loop(bake: Callable[..., Project], tmp_path: Path) -> tuple[Project, Path]:
    """A trained project pushed to a bare origin."""
    project = bake(project_name="Loop", use_django="no")
    project.dvc("repro")
    project.commit_all("First model")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    project.run("git", "remote", "add", "origin", str(origin))
    project.run("git", "push", "-q", "-u", "origin", "main")
    return project, origin


def merge_param_change(project: Project, trees: int) -> None:
    """A pull request that changes a train param, merged into main and pushed (outputs not committed)."""
    project.run("git", "checkout", "-q", "-b", f"trees-{trees}")
    project.set_params("train", hyperparams={"n_estimators": trees, "max_depth": None, "min_samples_leaf": 1})
    project.commit_all(f"Use {trees} trees")
    project.run("git", "checkout", "-q", "main")
    project.run("git", "merge", "-q", "--no-ff", f"trees-{trees}", "-m", f"Merge trees-{trees}")
    project.run("git", "push", "-q", "origin", "main")


def test_pr_report_shows_the_metric_and_param_diffs(loop: tuple[Project, Path]) -> None:
    project, _ = loop
    project.run("git", "checkout", "-q", "-b", "fewer-trees")
    project.set_params("train", hyperparams={"n_estimators": 10, "max_depth": 2, "min_samples_leaf": 1})
    project.commit_all("Fewer, shallower trees")
    make(project, "pr-report", "BASE=origin/main")
    report = (project.path / "report.md").read_text()
    assert "<!-- model-report -->" in report
    assert "Stages that ran: `train`, `evaluate`." in report
    assert "| `train.hyperparams.n_estimators` | 100 | 10 |" in report
    assert "| `train.hyperparams.max_depth` | - | 2 |" in report
    metrics = project.json("metrics/metrics.json")
    assert "| `accuracy` | " in report and f"{metrics['accuracy']:.6g}" in report


def test_retrain_commits_tags_and_pushes_once(loop: tuple[Project, Path], tmp_path: Path) -> None:
    project, origin = loop
    merge_param_change(project, 20)
    before = origin_log(origin)
    runner = clone(origin, tmp_path / "ci", project.context)
    result = make(runner, "retrain")
    assert "retrain: pushed model@v2" in result.stdout
    after = origin_log(origin)
    assert len(after) == len(before) + 1
    sha, author, message = after[0].split(" ", 2)
    assert author == BOT[0] and message.endswith("[skip ci]")
    changed = runner.run("git", "show", "--name-only", "--format=", sha).stdout.split()
    assert {"dvc.lock", "models/model.joblib", "models/model.json", "metrics/metrics.json"} <= set(changed)
    assert all(path.startswith(("dvc.lock", "models/", "metrics/", "plots/", "reports/")) for path in changed)
    assert origin_tags(origin) == ["model@v2"]
    assert runner.run("git", "rev-list", "-n", "1", "model@v2").stdout.strip() == sha
    runner.run(str(BIN / "python"), "-c", f"from {runner.package}.artifacts import load_model; load_model()")

    again = make(runner, "retrain")  # nothing changed since: no commit, no tag
    assert "did not change" in again.stdout
    assert origin_log(origin) == after and origin_tags(origin) == ["model@v2"]

    make(runner, "docs")
    history = (runner.path / "site" / "history" / "index.html").read_text()
    assert "model@v2" in history and ">v1<" in history  # the hand-committed first model is v1: no clash

    make(runner, "promote", "VERSION=v2", "STAGE=prod")
    assert "model#prod#1" in runner.run("git", "tag", "--points-at", sha).stdout.split()
    make(runner, "docs")
    assert ">prod<" in (runner.path / "site" / "history" / "index.html").read_text()


def test_two_racing_retrains_leave_one_consistent_main(loop: tuple[Project, Path], tmp_path: Path) -> None:
    project, origin = loop
    merge_param_change(project, 30)
    first, second = (clone(origin, tmp_path / name, project.context) for name in ("a", "b"))
    runs = [
        subprocess.Popen(
            ["make", "retrain", f"BIN={BIN}"], cwd=c.path, env=c.env(), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        for c in (first, second)
    ]  # fmt: skip
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    # The same inputs give the same bits: the slower run either finds its identical commit and tag
    # already there, or sees that nothing changed. Either way, one version.
    assert all("pushed model@v2" in output or "did not change" in output for output in outputs), outputs
    assert origin_tags(origin) == ["model@v2"]
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
    assert "push rejected (attempt 1/5)" in result.stdout and "retrain: pushed model@v2" in result.stdout
    log = origin_log(origin)
    assert BOT[0] in log[0] and "A teammate's change" in log[1]  # the teammate's commit kept, ours on top
    assert origin_tags(origin) == ["model@v2"]
    assert runner.run("git", "rev-list", "-n", "1", "model@v2").stdout.strip() == log[0].split()[0]


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

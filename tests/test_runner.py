"""The runner stand-in itself behaves as GitHub's runner does (test_workflows.py relies on it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from runner import GitHubAPI, Runner, bare_python, read_env_file

WORKFLOW = {
    "env": {"FROM_WORKFLOW": "w"},
    "jobs": {
        "job": {
            "env": {"FROM_JOB": "j"},
            "steps": [
                {"uses": "actions/checkout@v4"},
                {"uses": "actions/setup-python@v5", "with": {"python-version-file": ".python-version"}},
                {
                    "name": "set",
                    "run": 'echo "ONE=1" >> "$GITHUB_ENV"\n'
                    'printf "MANY<<END\\nfirst\\nsecond\\nEND\\n" >> "$GITHUB_ENV"\n'
                    'mkdir -p "$RUNNER_TEMP/tools" && echo "$RUNNER_TEMP/tools" >> "$GITHUB_PATH"',
                },
                {
                    "name": "read",
                    "run": 'test "$ONE" = 1 && test "$MANY" = "$(printf "first\\nsecond")"\n'
                    'case "$PATH" in "$RUNNER_TEMP/tools:"*) ;; *) exit 3 ;; esac\n'
                    'test "$FROM_WORKFLOW$FROM_JOB$FROM_STEP" = wjs && test "$TOKEN" = test-token\n'
                    "sudo true && python -c 'import sys; print(sys.prefix)' && cat README.md",
                    "env": {"FROM_STEP": "s", "TOKEN": "${{ secrets.GITHUB_TOKEN }}"},
                },
                {"name": "fail", "run": "false\necho not reached"},
                {"name": "never", "run": "true"},
                {"name": "on failure", "if": "failure()", "run": "true"},
                {"name": "unless cancelled", "if": "${{ !cancelled() }}", "run": "true"},
            ],
        }
    },
}


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare repository whose main holds a README and a .python-version of this Python."""
    import sys

    work, bare = tmp_path / "seed", tmp_path / "origin.git"
    work.mkdir()
    (work / "README.md").write_text("checked out\n")
    (work / ".python-version").write_text(f"{sys.version_info.major}.{sys.version_info.minor}\n")
    identity = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], [*identity, "commit", "-qm", "seed"]):
        subprocess.run(["git", *command], cwd=work, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return bare


def test_steps_share_env_and_path_files_and_stop_at_a_failure_unless_their_if_says(
    origin: Path, tmp_path: Path
) -> None:
    workflow = tmp_path / "workflow.yml"
    workflow.write_text(yaml.safe_dump(WORKFLOW))
    api = GitHubAPI()
    try:
        runner = Runner(tmp_path / "runner", origin, bare_python(tmp_path / "python"), api)
        steps = runner.run_job(workflow, "job", "push", {}, "refs/heads/main")
    finally:
        api.shutdown()
    assert [(step.name, step.returncode) for step in steps] == [
        ("actions/checkout@v4", 0),
        ("actions/setup-python@v5", 0),
        ("set", 0),
        ("read", 0),
        ("fail", 1),
        ("on failure", 0),
        ("unless cancelled", 0),
    ], runner.log()
    read = steps[3].output
    assert str(tmp_path / "python") in read and "checked out" in read  # setup-python's venv, the checkout
    assert "not reached" not in steps[4].output  # bash -e, as GitHub runs a step


def test_an_expression_the_stand_in_does_not_know_fails_loudly(origin: Path, tmp_path: Path) -> None:
    workflow = tmp_path / "workflow.yml"
    workflow.write_text(yaml.safe_dump({"jobs": {"job": {"steps": [{"run": "echo ${{ github.actor }}"}]}}}))
    api = GitHubAPI()
    runner = Runner(tmp_path / "runner", origin, bare_python(tmp_path / "python"), api)
    try:
        with pytest.raises(KeyError, match=r"github\.actor"):
            runner.run_job(workflow, "job", "push", {}, "refs/heads/main")
    finally:
        api.shutdown()


def test_env_file_lines_and_blocks(tmp_path: Path) -> None:
    path = tmp_path / "env"
    path.write_text("A=1\nB=x=y\nC<<EOF\nline 1\nline 2\nEOF\n")
    assert read_env_file(path) == {"A": "1", "B": "x=y", "C": "line 1\nline 2"}

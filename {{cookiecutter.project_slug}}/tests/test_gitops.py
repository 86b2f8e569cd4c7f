"""The GitOps helpers: the PR comment against a fake GitHub on loopback, and promotion tags."""

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.gitops import pr_comment
from {{ cookiecutter.package_name }}.gitops.promote import promote
from {{ cookiecutter.package_name }}.report.history import read_history


class FakeGitHub(BaseHTTPRequestHandler):
    """Issue comments of one repository, kept in memory; `status` forces every answer's code."""

    comments: ClassVar[list[dict[str, Any]]] = []
    calls: ClassVar[list[str]] = []
    status: ClassVar[int] = 200

    def answer(self, body: Any, status: int = 200) -> None:
        self.send_response(self.status if self.status != 200 else status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def body(self) -> dict[str, Any]:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self) -> None:
        self.calls.append(f"GET {self.path}")
        self.answer(self.comments)

    def do_POST(self) -> None:
        self.calls.append(f"POST {self.path}")
        if self.status == 200:
            self.comments.append({"id": len(self.comments) + 1, "body": self.body()["body"]})
        self.answer({}, 201)

    def do_PATCH(self) -> None:
        self.calls.append(f"PATCH {self.path}")
        comment_id = int(self.path.rsplit("/", 1)[1])
        self.comments[comment_id - 1]["body"] = self.body()["body"]
        self.answer({})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeGitHub]]:
    """A fake GitHub API on 127.0.0.1 and the environment of a pull-request workflow run."""
    FakeGitHub.comments, FakeGitHub.calls, FakeGitHub.status = [], [], 200
    server = HTTPServer(("127.0.0.1", 0), FakeGitHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/project")
    monkeypatch.setenv("GITHUB_TOKEN", "token")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    yield FakeGitHub
    server.shutdown()


def run_comment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> int:
    report = tmp_path / "report.md"
    report.write_text(f"{pr_comment.MARKER}\n{text}")
    monkeypatch.setattr("sys.argv", ["pr_comment", str(report)])
    return pr_comment.main()


def test_the_report_is_one_comment_updated_on_later_pushes(
    github: type[FakeGitHub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_comment(tmp_path, monkeypatch, "first") == 0
    assert run_comment(tmp_path, monkeypatch, "second") == 0
    assert [comment["body"].splitlines()[-1] for comment in github.comments] == ["second"]
    assert [call.split()[0] for call in github.calls] == ["GET", "POST", "GET", "PATCH"]


def test_a_read_only_token_writes_the_job_summary_instead(
    github: type[FakeGitHub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    github.status = 403
    assert run_comment(tmp_path, monkeypatch, "from a fork") == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "from a fork" in summary and "read-only token" in summary


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def tagged_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose one commit is tagged model@v1."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "m")
    git(tmp_path, "tag", "model@v1")
    monkeypatch.chdir(tmp_path)
    for name, value in (("NAME", "T"), ("EMAIL", "t@example.com")):
        monkeypatch.setenv(f"GIT_COMMITTER_{name}", value)
        monkeypatch.setenv(f"GIT_AUTHOR_{name}", value)
    return tmp_path


def test_promote_writes_numbered_stage_tags_on_the_version_commit(tagged_repo: Path) -> None:
    assert promote("v1", "prod") == "model#prod#1"
    assert promote("model@v1", "prod") == "model#prod#2"
    assert git(tagged_repo, "rev-list", "-n", "1", "model#prod#2") == git(tagged_repo, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    ("version", "stage", "message"),
    [("v9", "prod", "no version tag model@v9"), ("v1", "Prod!", "stage 'Prod!' is invalid")],
)
def test_promote_refuses_what_it_cannot_tag(tagged_repo: Path, version: str, stage: str, message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        promote(version, stage)


def test_a_promotion_moves_the_stage_from_the_version_that_held_it(
    tagged_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in (1, 2):  # two model versions: commits that change the manifest, tagged
        (tagged_repo / "models").mkdir(exist_ok=True)
        (tagged_repo / "models" / "model.json").write_text(json.dumps({"sha256": str(number), "params": {}}))
        git(tagged_repo, "add", "models")
        git(tagged_repo, "commit", "-q", "-m", f"model {number}")
        git(tagged_repo, "tag", "-f", f"model@v{number}")
    days = iter(range(1, 10))

    def tag(*args: str) -> None:  # each promotion a day after the one before
        monkeypatch.setenv("GIT_COMMITTER_DATE", f"2026-01-0{next(days)}T12:00:00Z")
        if len(args) == 2:
            promote(*args)
        else:
            git(tagged_repo, "tag", "-a", *args)

    def stages() -> list[list[str]]:
        return [version.stages for version in read_history(tagged_repo).versions]

    tag("v1", "prod")
    tag("v1", "staging")
    tag("v2", "prod")
    assert stages() == [["staging"], ["prod"]]
    tag("v1", "prod")  # a rollback: newest first
    assert stages() == [["prod", "staging"], []]
    assert read_history(tagged_repo).versions[0].stage == "prod"
    tag("model#prod!#4", "model@v1", "-m", "withdraw")  # GTO's withdrawal tag
    assert stages() == [["staging"], []]

"""The GitOps helpers: the PR comment against a fake GitHub on loopback, and promotion tags."""

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from gto import api as gto

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.gitops import pr_comment
from {{ cookiecutter.package_name }}.gitops.promote import promote
from {{ cookiecutter.package_name }}.gitops.retrain import next_version
from {{ cookiecutter.package_name }}.registry.versions import read_history


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
    """A repository whose one commit is registered as model@v0.0.1, as `gto register` writes it."""
    monkeypatch.chdir(tmp_path)
    for name, value in (("NAME", "T"), ("EMAIL", "t@example.com")):
        monkeypatch.setenv(f"GIT_COMMITTER_{name}", value)
        monkeypatch.setenv(f"GIT_AUTHOR_{name}", value)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "m")
    gto.register(tmp_path, "model", "HEAD")
    return tmp_path


def test_retrain_registers_the_patch_after_the_latest_version(tagged_repo: Path) -> None:
    assert next_version() == "v0.0.2"
    git(tagged_repo, "commit", "-q", "--allow-empty", "-m", "a model registered by hand")
    gto.register(tagged_repo, "model", "HEAD", version="v0.1.0")
    assert next_version() == "v0.1.1"


def test_the_first_retrain_registers_v0_0_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    monkeypatch.chdir(tmp_path)
    assert next_version() == "v0.0.1"


def test_promote_writes_numbered_stage_tags_on_the_version_commit(tagged_repo: Path) -> None:
    assert promote("v0.0.1", "prod") == "model#prod#1"
    assert promote("model@v0.0.1", "prod") == "model#prod#2"
    assert git(tagged_repo, "rev-list", "-n", "1", "model#prod#2") == git(tagged_repo, "rev-parse", "HEAD")
    shown = gto.show(tagged_repo, "model")
    assert [(row["version"], [stage["stage"] for stage in row["stages"]]) for row in shown] == [("v0.0.1", ["prod"])]


@pytest.mark.parametrize(
    ("version", "stage", "message"),
    [
        ("v0.0.9", "prod", "no version tag model@v0.0.9"),
        ("v1", "prod", "no version tag model@v1: versions look like v0.0.3"),  # the tags before GTO's format
        ("v0.0.1", "Prod!", "stage 'Prod!' is invalid"),
    ],
)
def test_promote_refuses_what_it_cannot_tag(tagged_repo: Path, version: str, stage: str, message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        promote(version, stage)


def test_a_promotion_moves_the_stage_from_the_version_that_held_it(tagged_repo: Path) -> None:
    for number in (2, 3):  # two more model versions: commits that change the manifest, registered
        (tagged_repo / "models").mkdir(exist_ok=True)
        (tagged_repo / "models" / "model.json").write_text(json.dumps({"sha256": str(number), "params": {}}))
        git(tagged_repo, "add", "models")
        git(tagged_repo, "commit", "-q", "-m", f"model {number}")
        assert gto.register(tagged_repo, "model", "HEAD").tag == f"model@v0.0.{number}"

    def stages() -> list[list[str]]:
        return [version.stages for version in read_history(tagged_repo).versions]

    # promotions within one second: GTO numbers the model's stage tags in one sequence, which orders them
    promote("v0.0.2", "prod")
    promote("v0.0.2", "staging")
    promote("v0.0.3", "prod")
    assert stages() == [["staging"], ["prod"]]
    promote("v0.0.2", "prod")  # a rollback: newest first
    assert stages() == [["prod", "staging"], []]
    assert read_history(tagged_repo).versions[0].stage == "prod"
    assert promote("v0.0.1", "dev") == "model#dev#5"
    git(tagged_repo, "tag", "-a", "model#prod!#6", "model@v0.0.2^{}", "-m", "withdraw")  # GTO's withdrawal tag
    assert stages() == [["staging"], []]
    assert [version.label for version in read_history(tagged_repo).versions] == ["model@v0.0.2", "model@v0.0.3"]


def test_history_labels_an_unregistered_version_by_its_short_commit(tagged_repo: Path) -> None:
    (tagged_repo / "models").mkdir()
    (tagged_repo / "models" / "model.json").write_text(json.dumps({"sha256": "1", "params": {}}))
    git(tagged_repo, "add", "models")
    git(tagged_repo, "commit", "-q", "-m", "model committed by hand")
    git(tagged_repo, "tag", "model@v0.0.2")  # a lightweight tag: GTO ignores it, and so does the history
    (version,) = read_history(tagged_repo).versions
    assert version.label == git(tagged_repo, "rev-parse", "--short=7", "HEAD")

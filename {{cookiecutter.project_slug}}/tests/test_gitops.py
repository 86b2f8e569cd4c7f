"""The GitOps helpers: the PR comment (and the drift issue) against a fake GitHub on loopback, and promotion tags."""

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from gto import api as gto

from {{ cookiecutter.package_name }}.errors import PipelineError{% if cookiecutter.use_django == "yes" %}, run_main{% endif %}
from {{ cookiecutter.package_name }}.gitops import {% if cookiecutter.use_django == "yes" %}monitor_issue, {% endif %}pr_comment
from {{ cookiecutter.package_name }}.gitops.promote import promote
from {{ cookiecutter.package_name }}.gitops.retrain import next_version
from {{ cookiecutter.package_name }}.registry.versions import read_history


class FakeGitHub(BaseHTTPRequestHandler):
    """Issues and their comments of one repository, kept in memory; `status` forces every answer's code."""

    issues: ClassVar[list[dict[str, Any]]] = []
    comments: ClassVar[list[dict[str, Any]]] = []
    calls: ClassVar[list[str]] = []
    status: ClassVar[int] = 200

    def answer(self, body: Any, status: int = 200) -> None:
        self.send_response(self.status if self.status != 200 else status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body if self.status == 200 else {"message": "Server Error"}).encode())

    def body(self) -> dict[str, Any]:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self) -> None:
        self.calls.append(f"GET {self.path}")
        if match := re.search(r"/issues/(\d+)/comments", self.path):
            return self.answer([comment for comment in self.comments if comment["issue"] == int(match[1])])
        label = re.search(r"labels=([^&]+)", self.path)
        wanted = [issue for issue in self.issues if issue["state"] == "open"]
        self.answer([issue for issue in wanted if not label or label[1] in issue["labels"]][::-1])  # newest first

    def do_POST(self) -> None:
        self.calls.append(f"POST {self.path}")
        if self.status != 200:
            return self.answer({}, 201)
        body = self.body()
        if match := re.search(r"/issues/(\d+)/comments$", self.path):
            comment = {"id": len(self.comments) + 1, "issue": int(match[1]), "body": body["body"]}
            self.comments.append(comment)
            return self.answer(comment, 201)
        issue = {"number": 100 + len(self.issues), "state": "open", "title": body["title"], "body": body["body"]}
        self.issues.append(issue | {"labels": body.get("labels", [])})
        self.answer(self.issues[-1], 201)

    def do_PATCH(self) -> None:
        self.calls.append(f"PATCH {self.path}")
        number = int(self.path.rsplit("/", 1)[1])
        if "/issues/comments/" in self.path:
            self.comments[number - 1]["body"] = self.body()["body"]
            return self.answer(self.comments[number - 1])
        issue = next(issue for issue in self.issues if issue["number"] == number)
        issue.update(self.body())
        self.answer(issue)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeGitHub]]:
    """A fake GitHub API on 127.0.0.1 and the environment of a pull-request workflow run."""
    FakeGitHub.issues, FakeGitHub.comments, FakeGitHub.calls, FakeGitHub.status = [], [], [], 200
    server = HTTPServer(("127.0.0.1", 0), FakeGitHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/project")
    monkeypatch.setenv("GITHUB_TOKEN", "token")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
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

{%- if cookiecutter.use_django == "yes" %}


def drift_report(day: int, status: str = "drift") -> dict[str, Any]:
    """What `make monitor` writes on day `day` of December (the monitoring contract): mean radius drifted."""
    radius = {
        "feature": "mean radius", "aspect": "value", "name": "mean radius", "kind": "number", "test": "chi-square",
        "statistic": 85.1, "p_value": 1e-12, "p_adjusted": 3.1e-11, "distance": 0.62, "drifted": status == "drift",
        "bins": ["< 12", ">= 12", "missing"], "training": [0.5, 0.5, 0.0], "served": [0.0, 0.9, 0.1],
        "summary": {"training": "mean 14.1, sd 3.5", "served": "mean 42.3, sd 10.2"},
    }  # fmt: skip
    texture = radius | {"feature": "mean texture", "name": "mean texture", "drifted": False, "p_value": 0.4}
    return {
        "generated": f"2026-12-{day:02d}T23:30:00+00:00", "status": status,
        "message": f"{400 + day} rows of model@v0.0.1 since 2026-11-29: 1 of 2 checks drifted",
        "model": {"version": "model@v0.0.1", "sha256": "3f2a9c1b7d4e" * 5 + "abcd"},
        "window": {"since": "2026-11-29T23:30:00+00:00", "last": None, "first": "2026-12-01T08:12:00+00:00",
                   "until": f"2026-12-{day:02d}T23:30:00+00:00", "rows": 400 + day, "cut_by_cap": False,
                   "cap": 10000, "min_rows": 100},
        "other_versions": [], "thresholds": {"p_value": 0.05, "distance": 0.1, "checks": 2, "per_check_p": 0.025},
        "checks": [radius, texture], "predictions": None,
        "live": {"metric": "accuracy", "test": {"accuracy": 0.956}, "labelled": 40,
                 "overall": {"rows": 40, "accuracy": 0.8},
                 "days": [{"day": "2026-12-06", "rows": 40, "accuracy": 0.8}]},
    }  # fmt: skip


def run_monitor_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: dict[str, Any] | None) -> None:
    """`make monitor-issue` on `report` (no file for None); its errors exit as the command's do."""
    path = tmp_path / "reports" / "monitoring.json"
    if report is not None:
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(report))
    monkeypatch.setattr("sys.argv", ["monitor_issue", str(path)])
    run_main(monitor_issue.main)


def test_a_lasting_drift_is_one_issue_updated_and_commented_each_day(
    github: type[FakeGitHub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = {"number": 1, "state": "open", "title": "Drift?", "body": "a person's issue", "labels": ["model-drift"]}
    github.issues.append(mine)  # same label, no marker: not the monitor's
    run_monitor_issue(tmp_path, monkeypatch, drift_report(6))
    assert "monitor-issue: opened issue #101: Model drift: model@v0.0.1" in capsys.readouterr().out
    run_monitor_issue(tmp_path, monkeypatch, drift_report(7))
    assert "monitor-issue: updated issue #101 and commented" in capsys.readouterr().out
    assert [issue["number"] for issue in github.issues] == [1, 101] and mine["body"] == "a person's issue"
    issue = github.issues[1]
    assert issue["title"] == "Model drift: model@v0.0.1" and issue["labels"] == ["model-drift"]
    body = issue["body"]
    assert body.startswith(monitor_issue.MARKER) and "407 rows of model@v0.0.1" in body  # the second day's
    row = "| **mean radius** | chi-square | 85.1 | 1e-12 | 3.1e-11 | 0.62 | mean 14.1, sd 3.5 | mean 42.3, sd 10.2 |"
    assert row in body
    assert "mean texture" not in body  # not drifted
    assert "**Live metrics**: accuracy 0.8 on 40 labelled rows, against 0.956 on the test set." in body
    assert "[this workflow run](https://github.com/team/project/actions/runs/42)" in body
    [comment] = github.comments
    assert comment["issue"] == 101 and comment["body"].startswith("Still alarming on 2026-12-07 23:30 UTC")
    assert "**mean radius**" in comment["body"]
    assert [call.split("?")[0] for call in github.calls] == [
        "GET /repos/team/project/issues", "POST /repos/team/project/issues",
        "GET /repos/team/project/issues", "PATCH /repos/team/project/issues/101",
        "POST /repos/team/project/issues/101/comments",
    ]  # fmt: skip
    assert "state=open" in github.calls[0] and "labels=model-drift" in github.calls[0]


def test_a_drift_after_the_issue_was_closed_opens_a_new_one(
    github: type[FakeGitHub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_monitor_issue(tmp_path, monkeypatch, drift_report(6))
    github.issues[0]["state"] = "closed"
    run_monitor_issue(tmp_path, monkeypatch, drift_report(9))
    assert [(issue["number"], issue["state"]) for issue in github.issues] == [(100, "closed"), (101, "open")]
    assert github.comments == []


def test_no_alarm_files_nothing(
    github: type[FakeGitHub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_monitor_issue(tmp_path, monkeypatch, drift_report(6, "ok"))
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("monitor-issue: no alarm (ok), no issue filed: 406 rows")
    assert github.calls == []


def test_a_quality_drop_is_an_alarm_issue_naming_the_metric(
    github: type[FakeGitHub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    quality = {"metric": "accuracy", "test": 0.956, "live": 0.1, "bound": 0.906, "labelled": 400, "min_labels": 30,
               "p_value": 1e-90, "judged": True, "dropped": True, "reason": None}  # fmt: skip
    run_monitor_issue(tmp_path, monkeypatch, drift_report(6, "quality") | {"quality": quality})
    assert "opened issue #100: Model quality drop: model@v0.0.1" in capsys.readouterr().out
    [issue] = github.issues
    assert issue["labels"] == ["model-drift"]
    assert "**Quality** **dropped**: accuracy 0.1 on 400 labelled rows against 0.956 on the test set" in issue["body"]


def test_a_blind_monitor_opens_its_own_issue_and_fails_the_run(
    github: type[FakeGitHub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cause = "the prediction log is empty: the server's log was never on (SERVING_PREDICTION_LOG) or it never answered"
    blind = drift_report(6, "too_little_data") | {"message": f"0 served rows: too few to judge: {cause}",
                                                  "alarms": [f"blind: {cause}"], "checks": []}  # fmt: skip
    for day in (6, 7):
        with pytest.raises(SystemExit) as exited:
            run_monitor_issue(tmp_path, monkeypatch, blind | {"generated": f"2026-12-0{day}T05:30:00+00:00"})
        assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert "opened issue #100: Model monitor blind: the prediction log is empty" in out
    assert "updated issue #100 and commented" in out and "the monitor could not judge the served model" in err
    [issue] = github.issues
    assert issue["labels"] == ["model-monitor"] and issue["body"].startswith(monitor_issue.BLIND_MARKER)
    assert f"- blind: {cause}" in issue["body"] and github.comments[0]["body"].startswith("Still blind on 2026-12-07")
    run_monitor_issue(tmp_path, monkeypatch, drift_report(8))  # then drift: the alarm issue, apart
    assert [issue["labels"] for issue in github.issues] == [["model-monitor"], ["model-drift"]]


@pytest.mark.parametrize(
    ("report", "setup", "message"),
    [
        (None, None, "monitoring.json not found: run `make monitor` first"),
        ({"checks": []}, None, "monitoring.json is not the monitor's report: it has no status"),
        (drift_report(6), "GITHUB_TOKEN", "GITHUB_TOKEN and GITHUB_REPOSITORY must be set to file the monitor's issue"),
        (drift_report(6), 500, "GitHub answered 500 to GET /issues?state=open&labels=model-drift&per_page=100: Server"),
    ],
)
def test_what_stops_the_issue_is_one_line(
    github: type[FakeGitHub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    report: dict[str, Any] | None, setup: str | int | None, message: str,
) -> None:  # fmt: skip
    if isinstance(setup, int):
        github.status = setup
    elif setup:
        monkeypatch.delenv(setup)
    with pytest.raises(SystemExit) as exited:
        run_monitor_issue(tmp_path, monkeypatch, report)
    [line] = capsys.readouterr().err.splitlines()
    assert exited.value.code == 1 and line.startswith("error: ") and message in line
    assert github.issues == []
{%- endif %}


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

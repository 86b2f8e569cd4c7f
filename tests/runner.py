"""A stand-in for a GitHub-hosted runner: the steps of a baked workflow, run the way Actions runs them.

What makes it a runner and not the test's environment:
- PATH is setup-python's bare interpreter (a fresh venv of a base Python: no project packages), then
  `/usr/bin:/bin`; HOME is new, so no git identity or tool config leaks in;
- `sudo` runs its command (a shim: the tests run as root, as a runner's user may use sudo);
- each `run:` step is a new `bash --noprofile --norc -eo pipefail` process, with the workflow's, the
  job's and the step's `env:` and `${{ }}` expressions; `$GITHUB_PATH` and `$GITHUB_ENV` carry over
  between steps;
- a step's `if:` may be a status function (`success()`, `failure()`, `always()`, `!cancelled()`);
- GitHub's REST API is a local server (`GitHubAPI`) that records the issues and comments a step posts;
- actions/upload-artifact copies its files to `Runner.artifacts`;
- a step with an `id` gives the outputs it writes to `$GITHUB_OUTPUT` to `steps.<id>.outputs`; a job's
  `outputs:` are kept for the jobs that need it (`needs.<job>.outputs`), and a job's `if:` may ask
  whether one is empty.
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
import venv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
RUNNER_PATH = "/usr/bin:/bin"
# pip byte-compiles every package it installs: half the time of a project's `make install` (25 of 48 s here).
# Python compiles what it imports anyway, so nothing a test checks depends on it; the commands stay the user's.
NO_PIP_COMPILE = {"PIP_COMPILE": "false"}


def bare_python(folder: Path) -> Path:
    """What setup-python provides: an interpreter of this Python's version with nothing installed; its bin."""
    if not (folder / "bin" / "python").exists():
        venv.EnvBuilder(with_pip=True, symlinks=True).create(folder)
    return folder / "bin"


class GitHubAPI(http.server.ThreadingHTTPServer):
    """GitHub's issue and issue-comment endpoints on loopback, holding the issues and comments in memory."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.tokens: list[str] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_number(self) -> int:
        """The number a new issue gets: issues and pull requests share one sequence."""
        return max([0, *self.issues, *self.comments]) + 1


REPO = r"^/repos/[^/]+/[^/]+"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: GitHubAPI

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

    def do_GET(self) -> None:
        self.server.tokens.append(self.headers.get("Authorization", ""))
        path, _, query = self.path.partition("?")
        if match := re.match(rf"{REPO}/issues/(\d+)/comments$", path):
            return self._answer(200, self.server.comments.get(int(match[1]), []))
        if re.match(rf"{REPO}/issues$", path):
            return self._answer(200, self._issues(urllib.parse.parse_qs(query)))
        self._answer(404, {"message": "Not Found"})

    def _issues(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """The issues a list asks for: by state (open unless `all`), carrying all its labels; newest first."""
        state, labels = query.get("state", ["open"])[0], set(",".join(query.get("labels", [])).split(",")) - {""}
        found = [
            issue
            for issue in self.server.issues.values()
            if state in ("all", issue["state"]) and labels <= {label["name"] for label in issue["labels"]}
        ]
        return sorted(found, key=lambda issue: -issue["number"])

    def do_POST(self) -> None:
        self.server.tokens.append(self.headers.get("Authorization", ""))
        if re.match(rf"{REPO}/issues$", self.path):
            body, number = self._body(), self.server.next_number()
            labels = [{"name": name} for name in body.get("labels", [])]
            issue = {"number": number, "state": "open", "title": body["title"], "body": body.get("body", "")}
            self.server.issues[number] = issue | {"labels": labels}
            return self._answer(201, self.server.issues[number])
        match = re.match(rf"{REPO}/issues/(\d+)/comments$", self.path)
        if not match:
            return self._answer(404, {"message": "Not Found"})
        comments = self.server.comments.setdefault(int(match[1]), [])
        comment = {"id": sum(map(len, self.server.comments.values())) + 1, "body": self._body()["body"]}
        comments.append(comment)
        self._answer(201, comment)

    def do_PATCH(self) -> None:
        self.server.tokens.append(self.headers.get("Authorization", ""))
        if (match := re.match(rf"{REPO}/issues/(\d+)$", self.path)) and int(match[1]) in self.server.issues:
            issue = self.server.issues[int(match[1])]
            issue.update({key: value for key, value in self._body().items() if key in ("title", "body", "state")})
            return self._answer(200, issue)
        match = re.match(rf"{REPO}/issues/comments/(\d+)$", self.path)
        found = [c for cs in self.server.comments.values() for c in cs if match and c["id"] == int(match[1])]
        if not found:
            return self._answer(404, {"message": "Not Found"})
        found[0]["body"] = self._body()["body"]
        self._answer(200, found[0])


@dataclass
class Step:
    """What one step did."""

    name: str
    returncode: int
    output: str


@dataclass
class Runner:
    """One runner machine: a home, a workspace, a bare Python, and the state its steps share."""

    root: Path
    origin: Path
    python_bin: Path
    api: GitHubAPI
    repository: str = "acme/project"
    secrets: dict[str, str] = field(default_factory=lambda: {"GITHUB_TOKEN": "test-token"})
    steps: list[Step] = field(default_factory=list)
    artifacts: dict[str, list[Path]] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # by job: what `needs.<job>.outputs` reads
    runs: int = 0

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.workspace = self.root / "work" / "project"
        self.temp = self.root / "temp"
        self.tools = self.root / "tools"
        for folder in (self.home, self.workspace.parent, self.temp, self.tools):
            folder.mkdir(parents=True, exist_ok=True)
        sudo = self.tools / "sudo"
        sudo.write_text('#!/bin/sh\nexec "$@"\n')
        sudo.chmod(0o755)
        # setup-python's `cache: pip` restores pip's cache: point the new home at this machine's.
        cache = Path.home() / ".cache" / "pip"
        if cache.is_dir():
            (self.home / ".cache").mkdir(exist_ok=True)
            (self.home / ".cache" / "pip").symlink_to(cache, target_is_directory=True)

    def run_job(self, workflow: Path, job: str, event_name: str, event: dict[str, Any], ref: str) -> list[Step]:
        """Run every step of `job` in order, as Actions would for `event`; stop at the first failure."""
        spec = yaml.safe_load(workflow.read_text())
        self.runs += 1
        files = {name: self.temp / name for name in ("path", "env", "summary", "output", "event.json")}
        for path in files.values():
            path.write_text("")
        files["event.json"].write_text(json.dumps(event))
        context = {
            "github.base_ref": event.get("pull_request", {}).get("base", {}).get("ref", ""),
            "github.event.pull_request.number": str(event.get("pull_request", {}).get("number", "")),
            "github.ref": ref,
            **{f"secrets.{name}": value for name, value in self.secrets.items()},
            **{
                f"needs.{name}.outputs.{key}": value
                for name, kept in self.outputs.items()
                for key, value in kept.items()
            },
        }
        if not job_should_run(spec["jobs"][job].get("if"), context):
            return []
        env = {
            "PATH": f"{self.tools}:{RUNNER_PATH}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_ACTOR": "acme-dev",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": str(self.runs),
            "GITHUB_API_URL": self.api.url,
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(files["event.json"]),
            "GITHUB_REF": ref,
            "GITHUB_BASE_REF": context["github.base_ref"],
            "GITHUB_PATH": str(files["path"]),
            "GITHUB_ENV": str(files["env"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
            "GITHUB_OUTPUT": str(files["output"]),
            **NO_PIP_COMPILE,
            **expand_all(spec.get("env", {}), context),
            **expand_all(spec["jobs"][job].get("env", {}), context),
        }
        done: list[Step] = []
        failed = False
        for number, step in enumerate(spec["jobs"][job]["steps"], 1):
            name = step.get("name") or step.get("uses") or f"step {number}"
            if not should_run(step.get("if"), failed):
                continue
            if "uses" in step:
                result = self.use(step["uses"], expand_all(step.get("with", {}), context), ref, files)
            else:
                step_env = env | expand_all(step.get("env", {}), context)
                result = self.shell(expand(step["run"], context), step_env)
            done.append(Step(name, *result))
            if result[0] != 0:
                failed = True
                continue
            env["PATH"] = ":".join([*reversed(files["path"].read_text().split()), env["PATH"]])
            files["path"].write_text("")
            env.update(read_env_file(files["env"]))
            files["env"].write_text("")
            if "id" in step:
                outputs = read_env_file(files["output"])  # the same format as $GITHUB_ENV
                context |= {f"steps.{step['id']}.outputs.{key}": value for key, value in outputs.items()}
            files["output"].write_text("")
        self.outputs[job] = expand_all(spec["jobs"][job].get("outputs", {}), context)
        self.steps.extend(done)
        return done

    def shell(self, script: str, env: dict[str, str]) -> tuple[int, str]:
        """A `run:` step: GitHub's default shell on Linux, in the workspace."""
        if "apt-get install" in script and "graphviz" in script and shutil.which("dot", path=RUNNER_PATH):
            return 0, "skipped: Graphviz is installed on this machine"
        file = self.temp / "step.sh"
        file.write_text(script)
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(file)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return result.returncode, result.stdout + result.stderr

    def use(self, action: str, inputs: dict[str, Any], ref: str, files: dict[str, Path]) -> tuple[int, str]:
        """The actions the baked workflows use, done as they do it here."""
        name = action.split("@")[0]
        if name == "actions/checkout":
            return self.checkout(ref, inputs.get("ref"))
        if name == "actions/setup-python":
            wanted = (self.workspace / inputs["python-version-file"]).read_text().strip()
            have = f"{sys.version_info.major}.{sys.version_info.minor}"
            if wanted != have:
                return 1, f"setup-python: the project asks for Python {wanted}, this runner has {have}"
            with files["path"].open("a") as handle:
                handle.write(f"{self.python_bin}\n")
            return 0, f"Python {have} at {self.python_bin}"
        if name == "actions/upload-artifact":
            return self.upload_artifact(inputs)
        if name == "actions/upload-pages-artifact":
            site = self.workspace / inputs.get("path", "_site")
            ok = (site / "index.html").is_file()
            return (0, f"uploaded {site}") if ok else (1, f"no index.html in {site}")
        return 1, f"this stand-in does not know the action {action}"

    def upload_artifact(self, inputs: dict[str, Any]) -> tuple[int, str]:
        """actions/upload-artifact: the files of `path` (one a line) copied to this runner's artifacts, by name."""
        name = inputs.get("name", "artifact")
        found = [self.workspace / line.strip() for line in str(inputs["path"]).splitlines() if line.strip()]
        found = [path for path in found if path.is_file()]
        if not found:
            missing = inputs.get("if-no-files-found", "warn")
            return (1 if missing == "error" else 0), f"no files found for the artifact {name} ({missing})"
        folder = self.root / "artifacts" / name / str(self.runs)
        folder.mkdir(parents=True, exist_ok=True)
        self.artifacts[name] = [Path(shutil.copy(path, folder / path.name)) for path in found]
        return 0, f"uploaded {', '.join(path.name for path in found)} as {name}"

    def checkout(self, ref: str, commit: str | None = None) -> tuple[int, str]:
        """actions/checkout with fetch-depth 0: all branches and tags, `ref` (or `commit`) checked out, nothing else.

        A second checkout in the same runner keeps `.venv`, as setup-python's cache would restore the
        packages; `make install` still runs in full.
        """
        branch = ref.removeprefix("refs/heads/")
        git = ["git", "-c", "advice.detachedHead=false"]
        env = {"PATH": RUNNER_PATH, "HOME": str(self.home)}
        if not (self.workspace / ".git").exists():
            commands = [[*git, "clone", "-q", str(self.origin), str(self.workspace)]]
        else:
            commands = [[*git, "fetch", "-q", "--tags", "--force", "origin", "+refs/heads/*:refs/remotes/origin/*"]]
        commands += [
            [*git, "checkout", "-q", "-f", commit]
            if commit
            else [*git, "checkout", "-q", "-f", "-B", branch, f"origin/{branch}"],
            [*git, "clean", "-q", "-ffdx", "-e", ".venv"],
        ]
        output = []
        for command in commands:
            cwd = self.workspace if (self.workspace / ".git").exists() else self.workspace.parent
            result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
            output.append(result.stdout + result.stderr)
            if result.returncode != 0:
                return result.returncode, "".join(output)
        return 0, "".join(output)

    def log(self) -> str:
        """Every step's name, exit code and output, for a failing assertion."""
        return "\n".join(f"--- {s.name} (exit {s.returncode})\n{s.output[-6000:]}" for s in self.steps)


def expand(text: str, context: dict[str, str]) -> str:
    """Replace each `${{ expression }}` by its value; an expression this stand-in does not know fails."""

    def value(match: re.Match[str]) -> str:
        unset = match[1].startswith(("vars.", "secrets.")) or ".outputs." in match[1]
        if unset and match[1] not in context:  # unset: empty, as on GitHub
            return ""
        if match[1] not in context:
            raise KeyError(f"the runner stand-in has no value for ${{{{ {match[1]} }}}}")
        return context[match[1]]

    return EXPRESSION.sub(value, text)


def should_run(condition: str | None, failed: bool) -> bool:
    """A step's `if:` after the steps before it: a status function; another expression fails loudly."""
    if condition is None:
        return not failed
    wrapped = EXPRESSION.fullmatch(condition.strip())
    status = {"success()": not failed, "failure()": failed, "always()": True, "!cancelled()": True}
    text = wrapped[1] if wrapped else condition.strip()
    if text not in status:
        raise KeyError(f"the runner stand-in cannot evaluate the condition {condition!r}")
    return status[text]


def job_should_run(condition: str | None, context: dict[str, str]) -> bool:
    """A job's `if:`: none, or whether a value is empty (`needs.retrain.outputs.version != ''`)."""
    if condition is None:
        return True
    left, operator, right = condition.strip().partition(" != " if " != " in condition else " == ")
    if not operator or right.strip() != "''":
        raise KeyError(f"the runner stand-in cannot evaluate the job condition {condition!r}")
    empty = expand(f"${{{{ {left.strip()} }}}}", context) == ""
    return not empty if operator.strip() == "!=" else empty


def expand_all(values: dict[str, Any], context: dict[str, str]) -> dict[str, str]:
    """An `env:` mapping with its expressions expanded."""
    return {key: expand(str(value), context) for key, value in values.items()}


def read_env_file(path: Path) -> dict[str, str]:
    """The variables a step wrote to $GITHUB_ENV: `NAME=value` lines and `NAME<<DELIMITER` blocks."""
    values: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            values[name] = "\n".join(iter(lambda: next(lines), delimiter))
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values

"""A stand-in for a GitHub-hosted runner: the steps of a baked workflow, run the way Actions runs them.

What makes it a runner and not the test's environment:
- PATH is setup-python's bare interpreter (a fresh venv of a base Python: no project packages), then
  `/usr/bin:/bin`; HOME is new, so no git identity or tool config leaks in;
- `sudo` runs its command (a shim: the tests run as root, as a runner's user may use sudo);
- each `run:` step is a new `bash --noprofile --norc -eo pipefail` process, with the workflow's, the
  job's and the step's `env:` and `${{ }}` expressions; `$GITHUB_PATH` and `$GITHUB_ENV` carry over
  between steps;
- GitHub's REST API is a local server (`GitHubAPI`) that records the comments a step posts.
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
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
    """GitHub's issue-comment endpoints on loopback, holding the comments in memory."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.tokens: list[str] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


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
        match = re.match(r"^/repos/[^/]+/[^/]+/issues/(\d+)/comments", self.path)
        if not match:
            return self._answer(404, {"message": "Not Found"})
        self._answer(200, self.server.comments.get(int(match[1]), []))

    def do_POST(self) -> None:
        self.server.tokens.append(self.headers.get("Authorization", ""))
        match = re.match(r"^/repos/[^/]+/[^/]+/issues/(\d+)/comments$", self.path)
        if not match:
            return self._answer(404, {"message": "Not Found"})
        comments = self.server.comments.setdefault(int(match[1]), [])
        comment = {"id": sum(map(len, self.server.comments.values())) + 1, "body": self._body()["body"]}
        comments.append(comment)
        self._answer(201, comment)

    def do_PATCH(self) -> None:
        self.server.tokens.append(self.headers.get("Authorization", ""))
        match = re.match(r"^/repos/[^/]+/[^/]+/issues/comments/(\d+)$", self.path)
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
        files = {name: self.temp / name for name in ("path", "env", "summary", "output", "event.json")}
        for path in files.values():
            path.write_text("")
        files["event.json"].write_text(json.dumps(event))
        context = {
            "github.base_ref": event.get("pull_request", {}).get("base", {}).get("ref", ""),
            "github.event.pull_request.number": str(event.get("pull_request", {}).get("number", "")),
            "github.ref": ref,
            **{f"secrets.{name}": value for name, value in self.secrets.items()},
        }
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
        for number, step in enumerate(spec["jobs"][job]["steps"], 1):
            name = step.get("name") or step.get("uses") or f"step {number}"
            if "uses" in step:
                result = self.use(step["uses"], step.get("with", {}), ref, files)
            else:
                step_env = env | expand_all(step.get("env", {}), context)
                result = self.shell(expand(step["run"], context), step_env)
            done.append(Step(name, *result))
            if result[0] != 0:
                break
            env["PATH"] = ":".join([*reversed(files["path"].read_text().split()), env["PATH"]])
            files["path"].write_text("")
            env.update(read_env_file(files["env"]))
            files["env"].write_text("")
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
            return self.checkout(ref)
        if name == "actions/setup-python":
            wanted = (self.workspace / inputs["python-version-file"]).read_text().strip()
            have = f"{sys.version_info.major}.{sys.version_info.minor}"
            if wanted != have:
                return 1, f"setup-python: the project asks for Python {wanted}, this runner has {have}"
            with files["path"].open("a") as handle:
                handle.write(f"{self.python_bin}\n")
            return 0, f"Python {have} at {self.python_bin}"
        if name == "actions/upload-pages-artifact":
            site = self.workspace / inputs.get("path", "_site")
            ok = (site / "index.html").is_file()
            return (0, f"uploaded {site}") if ok else (1, f"no index.html in {site}")
        return 1, f"this stand-in does not know the action {action}"

    def checkout(self, ref: str) -> tuple[int, str]:
        """actions/checkout with fetch-depth 0: all branches and tags, `ref` checked out, nothing else left.

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
            [*git, "checkout", "-q", "-f", "-B", branch, f"origin/{branch}"],
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
        if match[1] not in context:
            raise KeyError(f"the runner stand-in has no value for ${{{{ {match[1]} }}}}")
        return context[match[1]]

    return EXPRESSION.sub(value, text)


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

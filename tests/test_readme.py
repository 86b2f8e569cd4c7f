"""The README's commands, as a newcomer types them: on a fresh clone, in a plain shell, no venv activated.

The shell's PATH is a Python with nothing installed (setup-python's kind) first, then `/usr/bin:/bin`, and its
HOME is new, so no git identity or tool configuration leaks in from this machine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from hashlib import sha256
from pathlib import Path

import pandas as pd
import pytest

from conftest import BIN, TEMPLATE, clone_template
from runner import NO_PIP_COMPILE, RUNNER_PATH, bare_python

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("readme")]

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Newcomer",
    "GIT_AUTHOR_EMAIL": "newcomer@example.com",
    "GIT_COMMITTER_NAME": "Newcomer",
    "GIT_COMMITTER_EMAIL": "newcomer@example.com",
}


def plain_shell(tmp_path: Path) -> dict[str, str]:
    """A plain shell's environment: a bare Python first on PATH, a new HOME, pip's cache as this machine has it."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": f"{bare_python(tmp_path / 'python')}{os.pathsep}{RUNNER_PATH}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        "DVC_NO_ANALYTICS": "1",
        **({"CI": os.environ["CI"]} if "CI" in os.environ else {}),
    }


def readme_block(heading: str) -> list[str]:
    """The commands of the first bash block under a README heading, comments left out."""
    text = (TEMPLATE / "README.md").read_text().split(f"\n## {heading}\n", 1)[1]
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = (line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line for line in block.splitlines())
    return [command.split("  #", 1)[0].strip() for command in commands if command.strip()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_make_demo_runs_from_a_fresh_clone_and_reruns_cleanly(tmp_path: Path) -> None:
    assert readme_block("Two commands")[0] == "make demo"
    clone = clone_template(tmp_path)
    # The template's install (pip into .venv) is the step `.ci/run` does for real with its own `make demo`
    # on a fresh machine; here the clone shares this environment's, which holds the same requirements.
    (clone / ".venv").symlink_to(BIN.parent, target_is_directory=True)
    shell = plain_shell(tmp_path)
    result = subprocess.run(["make", "demo"], cwd=clone, env=shell, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"make demo:\n{result.stdout[-8000:]}\n{result.stderr[-8000:]}"
    serve_the_demo_again(clone, shell)  # `make demo-serve`: a rerun that bakes anew and keeps its API up
    project = clone / "build" / "my-ml-project"
    manifest = json.loads((project / "models" / "model.json").read_text())
    assert manifest["sha256"] == sha256((project / "models" / "model.joblib").read_bytes()).hexdigest()
    assert json.loads((project / "metrics" / "metrics.json").read_text())["accuracy"] >= 0.9

    # Its own .venv, which `make install` filled with the project (the demo adds the template's packages).
    venv_python = project / ".venv" / "bin" / "python"
    where = subprocess.run([str(venv_python), "-c", "import my_ml_project; print(my_ml_project.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True)  # fmt: skip
    assert where.stdout.strip() == str(project / "src" / "my_ml_project" / "__init__.py")

    # One commit (the rerun baked anew), the model registered by GTO, nothing left uncommitted.
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout

    assert git("log", "--format=%s").splitlines() == ["Train the first model"]
    assert git("tag", "--points-at", "HEAD").split() == ["model@v0.0.1"]
    assert git("status", "--porcelain") == ""
    shown = subprocess.run([str(project / ".venv/bin/gto"), "show", "model"], cwd=project, capture_output=True,
                           text=True, env=shell, check=True)  # fmt: skip
    assert "v0.0.1" in shown.stdout

    # The site, whose History page lists the version.
    assert (project / "site" / "index.html").is_file()
    assert "v0.0.1" in (project / "site" / "history" / "index.html").read_text()

    # One real prediction through HTTP, printed with the model that answered it.
    out = result.stdout
    answer = json.loads(next(line for line in out.splitlines() if line.startswith('{"predictions"')))
    assert answer["model"] == {"version": "model@v0.0.1", "sha256": manifest["sha256"]}
    assert answer["predictions"][0] in manifest["classes"] and len(answer["probabilities"][0]) == 2
    port = int(re.search(r"POST http://127\.0\.0\.1:(\d+)/api/predict", out)[1])
    for label, path in [("Model", "models/model.joblib"), ("Manifest", "models/model.json"), ("Site", "site/")]:
        assert f"{label}:" in out and f"{project}/{path}" in out, out
    assert "API docs: make demo-serve keeps the API running, at http://127.0.0.1:8000/api/docs" in out
    with socket.socket() as probe:  # the demo stopped its server
        assert probe.connect_ex(("127.0.0.1", port)) != 0, f"the demo left its API server running on {port}"


def serve_the_demo_again(clone: Path, shell: dict[str, str]) -> None:
    """`make demo-serve` on a free port: its API docs answer until a SIGTERM, which stops the server too."""
    port = free_port()
    log = clone.parent / "demo-serve.log"
    with log.open("w") as output:
        demo = subprocess.Popen(["make", "demo-serve", f"DEMO_PORT={port}"], cwd=clone, env=shell, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while "(the API runs until Ctrl-C)" not in log.read_text():
            assert demo.poll() is None and time.monotonic() < deadline, log.read_text()[-8000:]
            time.sleep(0.5)
        assert f"API docs: http://127.0.0.1:{port}/api/docs" in log.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/docs", timeout=10) as docs:
            assert docs.status == 200
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=60)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "make demo-serve left its API running after SIGTERM"


def test_the_use_the_template_block_runs_as_written(tmp_path: Path) -> None:
    clone = clone_template(tmp_path)
    commands = readme_block("Use the template")
    assert commands[-1] == "make api", commands
    script = []
    for command in commands[:-1]:
        if "--checkout" in command:  # the same bake from a release tag: an alternative to the line before
            continue
        command = command.replace("gh:<org>/<this-repo>", str(clone))
        if command.startswith("cookiecutter "):
            command += " --no-input"  # "answer the prompts, or add --no-input"
        script.append(command)
    shell = plain_shell(tmp_path) | GIT_IDENTITY | NO_PIP_COMPILE
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(script)], cwd=work, env=shell,
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, f"{result.stdout[-8000:]}\n{result.stderr[-8000:]}"
    project = work / "my-ml-project"
    assert not (project / ".venv").is_symlink() and (project / ".venv" / "bin" / "python").is_file()
    for stage in ("prepare", "train", "evaluate"):
        assert f"Running stage '{stage}'" in result.stdout, result.stdout
    git = subprocess.run(["git", "log", "--format=%s"], cwd=project, capture_output=True, text=True, check=True)
    assert git.stdout.splitlines() == ["Train the first model"]
    assert (project / "site" / "index.html").is_file()

    # `make api`, as typed (PORT picks a free port, so that parallel tests never meet on 8000).
    port = free_port()
    server = subprocess.Popen(["bash", "-c", commands[-1]], cwd=project, env=shell | {"PORT": str(port)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/api"
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as health:
                    assert health.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                time.sleep(0.2)
        else:
            pytest.fail("make api never answered /api/health")
        test = pd.read_parquet(project / "data" / "prepared" / "test.parquet")
        target = json.loads((project / "models" / "model.json").read_text())["target"]
        rows = json.loads(test.drop(columns=[target]).head(2).to_json(orient="records"))
        request = urllib.request.Request(
            f"{url}/predict", json.dumps({"instances": rows}).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert len(json.load(answer)["predictions"]) == 2
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

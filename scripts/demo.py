"""`make demo`: from nothing to a served model in one command, with the template's own tools.

Bakes the defaults into build/, gives the project its `.venv` and runs its `make install`, trains with
`make repro`, commits the result and registers it with GTO (model@v0.0.1), builds the report site, then
starts the API on a free port, sends it one test row over HTTP, prints the answer and stops it.
`--serve` (`make demo-serve`) keeps the API running instead. Every command runs as a user would type it
in the baked project, with no virtual environment activated.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
# The identity of the demo's commit on a machine where git has none (a fresh machine, a hosted runner).
DEMO_IDENTITY = {"NAME": "Demo", "EMAIL": "demo@example.com"}


class DemoError(Exception):
    """A step failed: the message says which and how."""


def step(title: str) -> None:
    print(f"\n==> {title}", flush=True)


def run(project: Path, *command: str, capture: bool = False) -> str:
    """Run a command in the project as a user's shell would (shown unless captured); stop the demo if it fails."""
    result = subprocess.run(command, cwd=project, env=user_env(), text=True, capture_output=capture, check=False)
    if result.returncode != 0:
        detail = f":\n{result.stdout}{result.stderr}" if capture else ""
        raise DemoError(f"`{' '.join(command)}` failed with exit code {result.returncode} in {project}{detail}")
    return result.stdout if capture else ""


@functools.cache
def user_env() -> dict[str, str]:
    """This shell's environment without the template's venv activated, so the project uses its own.

    Where git has no identity (a fresh machine, a hosted runner), the demo's commit and tag get one.
    """
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    if not subprocess.run(["git", "config", "user.email"], capture_output=True, text=True).stdout.strip():
        env |= {f"GIT_{role}_{key}": value for role in ("AUTHOR", "COMMITTER") for key, value in DEMO_IDENTITY.items()}
    return env | {"DVC_NO_ANALYTICS": "1"}


def bake(output_dir: Path) -> Path:
    """The default answers baked into output_dir, replacing an earlier demo."""
    project = output_dir / "my-ml-project"
    shutil.rmtree(project, ignore_errors=True)
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir)))


def layer_venv(project: Path) -> None:
    """Give the project a `.venv` that sees the template venv's packages (a .pth file), so `make install` is quick.

    The template's venv holds every package the project needs, byte-compiled: the new venv's site-packages adds
    it with `site.addsitedir`, and each of its console scripts (dvc, mkdocs, gto, ...) gets a copy that runs
    the new venv's Python. The project's own `make install` then finds its dependencies installed and only adds
    the project itself (about 3 s here, against 38 s for a full install with pip's cache warm: bench_demo.py).
    """
    base = Path(sys.prefix)
    target = project / ".venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    [site_packages] = (target / "lib").glob("python3*/site-packages")
    [base_site] = (base / "lib").glob("python3*/site-packages")
    (site_packages / "_template_venv.pth").write_text(f"import site; site.addsitedir({str(base_site)!r})\n")
    for script in sorted((base / "bin").iterdir()):
        copy = target / "bin" / script.name
        if copy.exists() or copy.is_symlink() or not script.is_file():
            continue  # python, python3 and the activate scripts of the new venv itself
        with contextlib.suppress(UnicodeDecodeError):
            first, _, rest = script.read_text().partition("\n")
            interpreter = Path(first.removeprefix("#!").split(" ")[0])
            if first.startswith("#!") and interpreter.parent.parent.resolve() == base.resolve():  # runs base's Python
                copy.write_text(f"#!{target / 'bin' / 'python'}\n{rest}")
                copy.chmod(0o755)


def commit_and_register(project: Path) -> str:
    """Commit everything the pipeline wrote and register it as the model's first version; return the tag."""
    run(project, "git", "add", "--all")
    run(project, "git", "commit", "--quiet", "-m", "Train the first model")
    run(project, ".venv/bin/gto", "register", "model", "HEAD", capture=True)
    return run(project, "git", "tag", "--points-at", "HEAD", capture=True).split()[0]


def free_port(preferred: int | None = None) -> int:
    """`preferred` if nothing listens there, else a port the system says is free."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred or 0))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether the API at url answers its health check with 200 (503 while the model is not loaded)."""
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:  # not listening yet, or an HTTP error status
        return False


@contextlib.contextmanager
def api_server(project: Path, port: int) -> Iterator[str]:
    """`make api PORT=port` in the background until its health check answers; stopped on leaving.

    Its log goes to build/<project>-api.log, shown when it fails to start.
    """
    log = project.parent / f"{project.name}-api.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            ["make", "api", f"PORT={port}"],
            cwd=project,
            env=user_env(),
            start_new_session=True,  # its own process group: make, Django's reloader and its child stop together
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if healthy(url):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                why = f"exited with code {server.returncode}" if server.returncode is not None else "gave no answer"
                raise DemoError(f"`make api PORT={port}` {why} at {url}/api/health; its log:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def predict_one(project: Path, url: str) -> tuple[dict, object, dict]:
    """POST the first test row to /api/predict: the row sent, its true target and the API's answer."""
    target = json.loads((project / "models" / "model.json").read_text())["target"]
    test = pd.read_parquet(project / "data" / "prepared" / "test.parquet")
    [row] = json.loads(test.drop(columns=[target]).head(1).to_json(orient="records"))
    truth = json.loads(test[target].head(1).to_json(orient="records"))[0]
    body = json.dumps({"instances": [row]}).encode()
    request = urllib.request.Request(f"{url}/api/predict", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return row, truth, json.load(answer)
    except urllib.error.HTTPError as error:
        raise DemoError(f"POST {url}/api/predict answered {error.code}: {error.read().decode()}") from error


def build(output_dir: Path) -> tuple[Path, str]:
    """Bake, install, train, commit and register, build the site; the project's folder and the model's tag."""
    step(f"Bake the template's defaults into {output_dir}")
    project = bake(output_dir)
    step("Install: make install (its .venv reuses the template's packages)")
    layer_venv(project)
    run(project, "make", "install")
    step("Train: make repro (dvc repro: prepare -> train -> evaluate)")
    run(project, "make", "repro")
    step("Version the model: git commit, then gto register")
    tag = commit_and_register(project)
    print(f"Committed and registered {tag}")
    step("Build the report site: make docs")
    run(project, "make", "docs")
    return project, tag


def show_prediction(project: Path, url: str) -> None:
    """Send one test row to the API and print what it answered."""
    row, truth, answer = predict_one(project, url)
    print(f"POST {url}/api/predict with the first test row ({len(row)} features):")
    print(json.dumps(answer))
    print(f"Predicted {answer['predictions'][0]!r}; the row's true label is {truth!r}.")


def summary(project: Path, tag: str, api_docs: str) -> None:
    """Where the model, its manifest, the site and the API docs are."""
    metrics = json.loads((project / "metrics" / "metrics.json").read_text())
    scores = ", ".join(f"{name} {value:.3f}" for name, value in metrics.items() if isinstance(value, float))
    print(f"\nThe demo project: {project} (model {tag}; test {scores})")
    print(f"  Model:    {project}/models/model.joblib (and models/model.onnx, which the API answers from)")
    print(f"  Manifest: {project}/models/model.json")
    print(f"  Site:     {project}/site/index.html (make serve in the project previews it)")
    print(f"  API docs: {api_docs}")


def wait_for_stop(announce: Callable[[], None]) -> None:
    """Announce, then block until Ctrl-C or SIGTERM (a background job's SIGINT may be ignored: SIGTERM stops it too).

    The handlers come first: a SIGTERM sent as soon as the announcement shows must still stop the API,
    not kill this process before it could.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        announce()
        signal.pause()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path("build"))
    parser.add_argument("--serve", action="store_true", help="keep the API running until Ctrl-C")
    parser.add_argument("--port", type=int, default=8000, help="the port of --serve, if free (else a free one)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each line as it comes, also in a log
    started = time.monotonic()
    try:
        project, tag = build(args.output_dir.resolve())
        port = free_port(args.port if args.serve else None)
        step(f"Serve: make api PORT={port}, then one prediction over HTTP")
        with api_server(project, port) as url:
            show_prediction(project, url)
            if args.serve:
                wait_for_stop(lambda: summary(project, tag, f"{url}/api/docs (the API runs until Ctrl-C)"))
                return 0
        summary(project, tag, "make demo-serve keeps the API running, at http://127.0.0.1:8000/api/docs")
        print(f"Done in {time.monotonic() - started:.0f} s.")
    except DemoError as error:
        print(f"make demo: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

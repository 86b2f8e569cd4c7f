"""`make docker`: build the serving image of models/ with podman or docker, tagged with its model version.

The image holds one dependency group of pyproject.toml: the one of the runtime the server would
choose (`serve`; `serve-pickle` for a model whose ONNX copy failed its check), or `monitor` for
the monitor's CronJob, whose image is named <image>-monitor. Tags: the model version
(model-v0.0.3, or the short commit of an unregistered model) and `latest`; --commit adds sha-<commit>.
--push then pushes every tag (log in to the registry first: `docker login ghcr.io`).
"""

import argparse
import shutil
import subprocess
from pathlib import Path

from ..errors import PipelineError, run_main
from ..paths import MODEL_PATH
from ..registry.artifacts import read_manifest
from ..registry.versions import image_tag
from .release import release_of
from .runtime import load_runtime

GROUPS = ("serve", "serve-pickle", "monitor")
ENGINES = ("podman", "docker")  # podman first: where both answer, `docker` may be a client with no engine


def serving_group(path: Path = MODEL_PATH) -> str:
    """The dependency group of the runtime the server would load for the model at `path` (SERVING_RUNTIME=auto)."""
    return "serve-pickle" if load_runtime(path).name == "sklearn" else "serve"


def engine_found() -> str:
    """podman or docker, whichever is installed."""
    for engine in ENGINES:
        if shutil.which(engine):
            return engine
    raise PipelineError("neither podman nor docker is installed: install one to build the image")


def image_names(image: str, group: str, version: str, commit: str | None) -> list[str]:
    """The image's name:tag list: the monitor's image is named apart, as the CronJob pins it apart."""
    name = f"{image}-monitor" if group == "monitor" else image
    return [f"{name}:{tag}" for tag in (image_tag(version), "latest", *([f"sha-{commit[:7]}"] if commit else []))]


def build_command(engine: str, group: str, version: str, sha256: str, names: list[str]) -> list[str]:
    """The build command: the model in build args, the tags, and docker format (podman OCI drops HEALTHCHECK)."""
    return [
        engine,
        "build",
        *(["--format", "docker"] if engine == "podman" else []),
        "--build-arg",
        f"DEPENDENCY_GROUP={group}",
        "--build-arg",
        f"MODEL_VERSION={version}",
        "--build-arg",
        f"MODEL_SHA256={sha256}",
        *(option for name in names for option in ("--tag", name)),
        ".",
    ]


def main() -> None:
    """Build the image, or print the command with --dry-run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default="{{ cookiecutter.project_slug }}", help="the image's name (ghcr.io/...)")
    parser.add_argument("--group", choices=GROUPS, help="the dependency group (default: the served runtime's)")
    parser.add_argument("--engine", choices=ENGINES, help="the container engine (default: podman, else docker)")
    parser.add_argument("--commit", help="also tag the image sha-<commit> (the retrain commit)")
    parser.add_argument("--push", action="store_true", help="push every tag after the build")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args()
    manifest = read_manifest(MODEL_PATH)
    version = release_of(manifest, Path.cwd())["version"]
    group = args.group or serving_group()
    engine = args.engine or engine_found()
    names = image_names(args.image, group, version, args.commit)
    commands = [build_command(engine, group, version, manifest["sha256"], names)]
    commands += [[engine, "push", name] for name in names if args.push]
    for command in commands:
        print(" ".join(command))
        if not args.dry_run and subprocess.run(command, check=False).returncode != 0:
            raise SystemExit(1)  # the engine said why


if __name__ == "__main__":
    run_main(main)

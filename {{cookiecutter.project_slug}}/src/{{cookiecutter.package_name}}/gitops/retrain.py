"""`make retrain`: on main, rerun the pipeline; if the model changed, commit it, register its version, push.

The commit says [skip ci] so it starts no workflow. GTO registers the next patch version
(model@v0.0.1 first, then model@v0.0.2, ...); commit and tag are pushed atomically, and when main
moved meanwhile the run starts again from the new main, so no commit is lost and no version is
taken twice. Nothing changed: no commit, no tag.
"""

import argparse
import os

from gto import api as gto
from gto.exceptions import ArtifactNotFound
from gto.versions import SemVer

from ..errors import PipelineError, run_main
from ..paths import OUTPUTS  # a DVC-cached model shows in dvc.lock
from ..registry.git import git
from ..registry.versions import MODEL_ARTIFACT
from .commands import dvc_push, repro

ATTEMPTS = 5


def next_version() -> str:
    """The version `gto register` gives next: the latest registered one's patch bump, or v0.0.1."""
    try:
        latest = gto.find_latest_version(".", MODEL_ARTIFACT)
    except ArtifactNotFound:  # no tag of the model yet
        latest = None
    return SemVer(latest.version).bump_patch().version if latest else SemVer.get_minimal().version


def changed_outputs() -> list[str]:
    """The pipeline outputs that differ from the last commit."""
    return git("status", "--porcelain", "--", *OUTPUTS).stdout.splitlines()


def attempt(remote: str, branch: str, push_data: bool) -> str | None:
    """One try: repro, commit, tag, atomic push. The tag pushed, None if nothing changed; raises if rejected."""
    ran = repro()
    if not changed_outputs():
        return None
    if push_data:
        dvc_push()
    git("add", "--", *OUTPUTS)
    version = next_version()
    git("commit", "-q", "-m", f"Retrain {MODEL_ARTIFACT}@{version}: {', '.join(ran) or 'outputs'} changed [skip ci]")
    tag = gto.register(".", MODEL_ARTIFACT, "HEAD", version=version, message=f"Model version {version}").tag
    pushed = git("push", "--atomic", remote, f"HEAD:refs/heads/{branch}", f"refs/tags/{tag}", check=False)
    if pushed.returncode != 0:
        git("tag", "-d", tag)
        raise RuntimeError(pushed.stderr.strip())
    return tag


def tell_the_workflow(**outputs: str) -> None:
    """Hand values to the workflow's next steps and jobs (GITHUB_OUTPUT), when GitHub Actions runs this."""
    if path := os.environ.get("GITHUB_OUTPUT"):
        with open(path, "a", encoding="utf-8") as file:
            file.writelines(f"{key}={value}\n" for key, value in outputs.items())


def start_from_remote(remote: str, branch: str) -> None:
    """Move to the remote's latest commit, refusing to drop local work or to move another branch."""
    current = git("symbolic-ref", "--short", "-q", "HEAD", check=False).stdout.strip()
    if current and current != branch:  # a detached HEAD (some CI checkouts) has no branch to move
        raise PipelineError(f"retrain commits to {branch}, but {current} is checked out: git switch {branch} first")
    git("fetch", "-q", "--tags", remote, branch)
    if git("status", "--porcelain", "--untracked-files=no").stdout.strip():
        raise PipelineError("retrain needs a clean working tree: commit or stash your changes first")
    if git("merge-base", "--is-ancestor", "HEAD", f"{remote}/{branch}", check=False).returncode != 0:
        raise PipelineError(f"HEAD has commits that {remote}/{branch} lacks: push or drop them first")
    git("reset", "-q", "--hard", f"{remote}/{branch}")  # a fast-forward: nothing local is lost


def main() -> None:
    """Retry from the latest main until the push lands or there is nothing to push."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--remote", default="origin")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--push-data", action="store_true", help="dvc push before committing (dvc-remote storage)")
    args = parser.parse_args()
    for number in range(1, ATTEMPTS + 1):
        start_from_remote(args.remote, args.branch)
        try:
            tag = attempt(args.remote, args.branch, args.push_data)
        except RuntimeError as exc:
            git("reset", "-q", "--hard", "HEAD~1")  # drop our rejected commit; its tag is already gone
            print(f"retrain: push rejected (attempt {number}/{ATTEMPTS}), starting again from {args.branch}: {exc}")
            continue
        print(f"retrain: pushed {tag}" if tag else "retrain: the model did not change; nothing to commit")
        if tag:  # the image job builds this version (retrain.yml)
            tell_the_workflow(version=tag, commit=git("rev-parse", "HEAD").stdout.strip())
        return
    raise PipelineError(f"retrain: {args.branch} kept moving; gave up after {ATTEMPTS} attempts")


if __name__ == "__main__":
    run_main(main)

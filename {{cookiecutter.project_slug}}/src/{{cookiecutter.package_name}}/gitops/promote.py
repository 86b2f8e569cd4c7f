"""`make promote VERSION=v3 STAGE=prod`: assign a model version to a stage with a GTO-style tag.

The tag `model#prod#<n>` points at the commit of `model@v3`; the report site and the API show the
stage. Push it with `git push origin --tags` (or pass --push origin).
"""

import argparse
import re

from ..errors import PipelineError, run_stage
from .commands import MODEL_ARTIFACT, git

STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def promote(version: str, stage: str) -> str:
    """Create the stage tag for `version` (v3 or model@v3); return its name."""
    version_tag = version if "@" in version else f"{MODEL_ARTIFACT}@{version}"
    if not STAGE_NAME.match(stage):
        raise PipelineError(f"stage {stage!r} is invalid: use lowercase letters, digits and hyphens (e.g. prod)")
    commit = git("rev-list", "-n", "1", version_tag, check=False)
    if commit.returncode != 0:
        raise PipelineError(f"no version tag {version_tag}: `git tag --list '{MODEL_ARTIFACT}@*'` lists them")
    prefix = f"{MODEL_ARTIFACT}#{stage}#"
    taken = [int(tag.removeprefix(prefix)) for tag in git("tag", "--list", f"{prefix}*").stdout.split()]
    tag = f"{prefix}{max(taken, default=0) + 1}"
    git("tag", "-a", tag, commit.stdout.strip(), "-m", f"Promote {version_tag} to {stage}")
    return tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("version", help="v3 or model@v3")
    parser.add_argument("stage", help="e.g. staging, prod")
    parser.add_argument("--push", metavar="REMOTE", help="push the new tag to this remote")
    args = parser.parse_args()
    tag = promote(args.version, args.stage)
    if args.push:
        git("push", args.push, f"refs/tags/{tag}")
    print(f"promote: {tag}")


if __name__ == "__main__":
    run_stage(main)

"""`make promote VERSION=v0.0.3 STAGE=prod`: assign a model version to a stage, and deploy it there.

`gto assign` tags the commit of `model@v0.0.3` with `model#prod#<n>`; the report site, the API and
`gto show` show the stage. When the stage has a Kubernetes overlay (deploy/kubernetes/overlays/prod),
a commit pins that version's image in it (gitops/deploy_pin.py): a GitOps controller rolls it
out, and promoting an older version rolls back. --push origin pushes the tag and that commit.
"""

import argparse
import re

from gto import api as gto
from gto.exceptions import GTOException, WrongArgs
from gto.versions import SemVer

from ..errors import PipelineError, run_main
from ..registry.git import git
from ..registry.versions import MODEL_ARTIFACT
from .deploy_pin import commit_pin, overlay_of, pin

STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def promote(version: str, stage: str) -> str:
    """Assign `stage` to `version` (v0.0.3 or model@v0.0.3) with `gto assign`; return the new tag."""
    version = version.removeprefix(f"{MODEL_ARTIFACT}@")
    if not STAGE_NAME.match(stage):
        raise PipelineError(f"stage {stage!r} is invalid: use lowercase letters, digits and hyphens (e.g. prod)")
    listed = f"`gto show {MODEL_ARTIFACT}` lists them"
    if not SemVer.is_valid(version):
        raise PipelineError(f"no version tag {MODEL_ARTIFACT}@{version}: versions look like v0.0.3; {listed}")
    try:
        # force: promoting the version that holds the stage again is a new, harmless tag, as before GTO
        assignment = gto.assign(".", MODEL_ARTIFACT, stage, version=version, force=True)
    except WrongArgs as exc:  # the one left once name, stage and version are valid: not registered
        raise PipelineError(f"no version tag {MODEL_ARTIFACT}@{version} ({exc}): {listed}") from None
    except GTOException as exc:
        raise PipelineError(f"gto assign failed: {exc}") from None
    return assignment.tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("version", help="v0.0.3 or model@v0.0.3")
    parser.add_argument("stage", help="e.g. staging, prod")
    parser.add_argument("--push", metavar="REMOTE", help="push the new tag (and the deploy commit) to this remote")
    parser.add_argument("--image", help="the image's registry path to pin (default: the overlay's newName)")
    args = parser.parse_args()
    tag = promote(args.version, args.stage)
    print(f"promote: {tag}")
    version = f"{MODEL_ARTIFACT}@{args.version.removeprefix(f'{MODEL_ARTIFACT}@')}"
    overlay = overlay_of(args.stage)
    deployed = False
    if overlay is not None:
        pins = pin(overlay, version, args.image)
        deployed = commit_pin(overlay, version, args.stage)
        state = "committed" if deployed else "already pinned"
        print(f"promote: {overlay} pins {', '.join(pins)} ({state})")
    if args.push:
        branch = git("symbolic-ref", "--short", "HEAD").stdout.strip() if deployed else None
        git("push", "--atomic", args.push, f"refs/tags/{tag}", *([f"HEAD:refs/heads/{branch}"] if branch else []))


if __name__ == "__main__":
    run_main(main)

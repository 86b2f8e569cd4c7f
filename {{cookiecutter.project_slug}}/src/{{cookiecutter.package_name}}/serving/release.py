"""Which release a model is: its version tag and stage from git history, when the project is a checkout.

A Docker image has no git history: there SERVING_MODEL_VERSION names the version (`make docker`
sets it from git when it builds the image) and SERVING_MODEL_STAGE the stage the deployment serves.
`python -m <package>.serving.release` prints the version of models/model.json.
"""

import os
from pathlib import Path
from typing import Any

from ..artifacts import MODEL_PATH, read_manifest
from ..errors import run_stage
from ..report.history import read_history


def release_of(manifest: dict[str, Any], root: Path) -> dict[str, Any]:
    """The model's version: model@v0.0.3, else its short commit, else (uncommitted) its sha256 prefix.

    `stages` lists every stage it holds, newest promotion first (["prod", "staging"]); `stage` is
    the first of them, or None.
    """
    for version in reversed(read_history(root).versions):
        if version.manifest.get("sha256") == manifest["sha256"]:
            return {"version": version.label, "stage": version.stage, "stages": version.stages}
    stage = os.environ.get("SERVING_MODEL_STAGE") or None
    return {
        "version": os.environ.get("SERVING_MODEL_VERSION") or manifest.get("version") or manifest["sha256"][:12],
        "stage": stage,
        "stages": [stage] if stage else [],
    }


def main() -> None:
    """Print the release version of the trained model in this checkout."""
    print(release_of(read_manifest(MODEL_PATH), Path.cwd())["version"])


if __name__ == "__main__":
    run_stage(main)

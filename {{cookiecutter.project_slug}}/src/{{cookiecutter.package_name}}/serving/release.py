"""Which release a model is: its version tag and stage from git history, when the project is a checkout.

A Docker image has no git history: there SERVING_MODEL_VERSION names the version (`make docker`
sets it from git when it builds the image) and SERVING_MODEL_STAGE the stage the deployment serves.
`python -m <package>.serving.release` prints the version of models/model.json.
"""

import os
from pathlib import Path
from typing import Any

from ..errors import run_main
from ..paths import MODEL_PATH
from ..registry.artifacts import read_manifest
from ..registry.manifest import Manifest
from ..registry.versions import find_version


def release_of(manifest: Manifest, root: Path) -> dict[str, Any]:
    """The model's version: model@v0.0.3, else its short commit, else (uncommitted) its sha256 prefix.

    `stages` lists every stage it holds, newest promotion first (["prod", "staging"]); `stage` is
    the first of them, or None. The history is cached until the repository's refs change: no git per call.
    """
    version = find_version(manifest["sha256"], root)
    if version is not None:
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
    run_main(main)

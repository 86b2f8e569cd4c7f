"""Which release a model is: its version tag and stage from git history, when the project is a checkout."""

from pathlib import Path
from typing import Any

from ..report.history import read_history


def release_of(manifest: dict[str, Any], root: Path) -> dict[str, str | None]:
    """{"version": "model@v3" (or the sha256 prefix outside git), "stage": "prod" or None}."""
    for version in reversed(read_history(root).versions):
        if version.manifest.get("sha256") == manifest["sha256"]:
            return {"version": version.label, "stage": version.stage}
    return {"version": manifest.get("version") or manifest["sha256"][:12], "stage": None}

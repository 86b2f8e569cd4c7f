"""What every kind's model card shows alike: the current version, and the warning before the first run."""

from ..formatting import short, table
from ..registry.manifest import Manifest
from ..registry.versions import History

NO_RUN = (
    '!!! warning "No model yet"\n'
    "    The pipeline has not run in this checkout. Run `dvc repro` (or `make repro`), then rebuild the site.\n"
)


def current_version(manifest: Manifest, history: History, library: str, served_file: str | None = None) -> str:
    """The model's version and stages (when committed), sha256, served file, commit and its main library's version."""
    current = history.versions[-1] if history.versions else None
    committed = current is not None and current.manifest.get("sha256") == manifest.get("sha256")
    served = [f"`models/{served_file}`"] if served_file else []
    return table(
        ["version", "stage", "sha256", *(["served file"] if served_file else []), "trained from commit", library],
        [
            [
                current.label if committed and current else "uncommitted",
                ", ".join(current.stages) if committed and current else "",
                short(manifest.get("sha256")),
                *served,
                short(manifest.get("git_commit")),
                manifest.get("versions", {}).get(library),
            ]
        ],
    )

"""The stage's deploy pin: which image deploy/kubernetes/overlays/<stage>/kustomization.yaml rolls out.

`make promote` writes it and commits it: the commit is the deploy, and a GitOps controller (Argo CD,
Flux) applies the overlay. ruamel.yaml edits the file in place, keeping its comments and order.
"""

from pathlib import Path

from ruamel.yaml import YAML

from ..errors import PipelineError
from ..registry.git import git
from ..registry.versions import image_tag

OVERLAYS = Path("deploy/kubernetes/overlays")


def overlay_of(stage: str) -> Path | None:
    """The stage's kustomization, or None for a stage with no overlay (promoted in the registry only)."""
    path = OVERLAYS / stage / "kustomization.yaml"
    return path if path.is_file() else None


def pin(overlay: Path, version: str, image: str | None = None) -> list[str]:
    """Point every image of the overlay at `version` (and at `image`, the registry path, when given); the pins."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    kustomization = yaml.load(overlay.read_text())
    images = kustomization.get("images") or []
    if not images:
        raise PipelineError(f"{overlay} pins no image (its `images:` list is empty): nothing to promote")
    for entry in images:
        monitor = str(entry["name"]).endswith("-monitor")
        if image:
            entry["newName"] = f"{image}-monitor" if monitor else image
        entry["newTag"] = image_tag(version)
    with overlay.open("w") as file:
        yaml.dump(kustomization, file)
    return [f"{entry.get('newName', entry['name'])}:{entry['newTag']}" for entry in images]


def commit_pin(overlay: Path, version: str, stage: str) -> bool:
    """Commit the overlay alone, as the deploy of `version` to `stage`; False when it already pinned it."""
    if not git("status", "--porcelain", "--", str(overlay)).stdout.strip():
        return False
    git("commit", "-q", "-m", f"Deploy {version} to {stage}", "--", str(overlay))
    return True

"""Every model version and its stages from git history and GTO's tags: the one place that reads them.

A full read is one `git log` and one `git cat-file --batch`; `cached_history` rereads only when
the repository's refs (tags, HEAD) change, so a server asks git nothing per request.
"""

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..paths import MANIFEST_PATH
from .git import git
from .manifest import Manifest

MODEL_ARTIFACT = "model"  # the artifact name of dvc.yaml and of its GTO tags: model@v0.0.3, model#prod#1
MANIFEST = MANIFEST_PATH.as_posix()
FIELD, RECORD = "\x1f", "\x1e"
LOG_FORMAT = FIELD.join(["%H", "%an", "%aI", "%s"]) + RECORD


@dataclass
class Version:
    """One commit that changed the model manifest."""

    commit: str
    author: str
    date: str
    message: str
    manifest: Manifest
    version_tag: str | None = None  # its GTO version tag (model@v0.0.3), if registered
    params_changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)  # the stages it holds now, newest promotion first

    @property
    def short(self) -> str:
        """The short commit, as `git log --oneline` shows it."""
        return self.commit[:7]

    @property
    def label(self) -> str:
        """The GTO version tag (`model@v0.0.3`) if the commit is registered, else its short commit."""
        return self.version_tag or self.short

    @property
    def stage(self) -> str | None:
        """The stage of its newest promotion that still holds (`prod`), or None."""
        return self.stages[0] if self.stages else None


@dataclass
class History:
    """The model versions and what is known about how complete the history is."""

    versions: list[Version]
    state: str  # "ok", "no-git", "no-commits", "shallow"


def read_history(root: Path) -> History:
    """All versions of the manifest, with tags and the params that changed since the version before."""
    if shutil.which("git") is None or git("rev-parse", "--git-dir", root=root, check=False).returncode != 0:
        return History([], "no-git")
    if git("rev-parse", "--verify", "-q", "HEAD", root=root, check=False).returncode != 0:
        return History([], "no-commits")
    shallow = git("rev-parse", "--is-shallow-repository", root=root, check=False).stdout.strip() == "true"
    log = git("log", "--reverse", f"--format={LOG_FORMAT}", "--", MANIFEST, root=root, check=False).stdout
    records = [record.strip("\n").split(FIELD) for record in log.split(RECORD) if record.strip()]
    # What train wrote at each commit; JSON is read untyped, so this states the type it carries.
    manifests = cast("list[Manifest | None]", read_blobs(root, [f"{record[0]}:{MANIFEST}" for record in records]))
    from .tags import assign_stages, model_tags, registrations  # GTO only where there is git history to read

    gto_tags = model_tags(root)
    registered = registrations(gto_tags)
    versions: list[Version] = []
    for (commit, author, date, message), manifest in zip(records, manifests, strict=True):
        if manifest is None:  # the commit deleted the manifest
            continue
        previous = versions[-1].manifest if versions else None
        versions.append(
            Version(
                commit=commit,
                author=author,
                date=date,
                message=message,
                manifest=manifest,
                version_tag=registered.get(commit),
                params_changed=changed_params(previous, manifest) if previous else {},
            )
        )
    assign_stages(versions, gto_tags)
    return History(versions, "shallow" if shallow else "ok")


def read_blobs(root: Path, objects: list[str]) -> list[dict[str, Any] | None]:
    """The JSON content of many `commit:path` objects through a single `git cat-file --batch`."""
    if not objects:
        return []
    result = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=root, input="\n".join(objects).encode() + b"\n", capture_output=True
    )
    output, position = result.stdout, 0
    blobs: list[dict[str, Any] | None] = []
    for _ in objects:
        header_end = output.index(b"\n", position)
        header = output[position:header_end].split()
        if header[-1] == b"missing":
            blobs.append(None)
            position = header_end + 1
            continue
        size = int(header[2])
        content = output[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1
        try:
            blobs.append(json.loads(content))
        except json.JSONDecodeError:
            blobs.append(None)
    return blobs


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested params as dotted keys: {"train": {"seed": 1}} -> {"train.seed": 1}."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def changed_params(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The params whose value differs between two manifests: {key: (before, after)}."""
    old, new = flatten(before.get("params", {})), flatten(after.get("params", {}))
    keys = sorted(old.keys() | new.keys())
    return {key: (old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)}


# The history of each repository read so far, with the refs it was read at.
_histories: dict[Path, tuple[tuple[Any, ...], History]] = {}


def git_dir(root: Path) -> Path | None:
    """The .git folder of the repository holding `root` (a worktree's .git file points to it), or None."""
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            return (folder / dot_git.read_text().removeprefix("gitdir:").strip()).resolve()
    return None


def refs_state(root: Path) -> tuple[Any, ...]:
    """What changes when a commit, tag or promotion lands: HEAD, its branch, the tags. Read from files, no git."""
    found = git_dir(root)
    if found is None:
        return ("no-git",)

    def stamp(path: Path) -> tuple[int, int] | None:
        try:
            status = path.stat()
        except FileNotFoundError:
            return None
        return status.st_mtime_ns, status.st_size

    head = (found / "HEAD").read_text().strip() if (found / "HEAD").is_file() else ""
    common = found / (found / "commondir").read_text().strip() if (found / "commondir").is_file() else found
    branch = common / head.removeprefix("ref: ") if head.startswith("ref: ") else None
    return (head, branch and stamp(branch), *(stamp(common / name) for name in ("refs/tags", "packed-refs", "shallow")))


def cached_history(root: Path) -> History:
    """read_history(root), read again only when the refs changed since the last read in this process."""
    root = root.resolve()
    state = refs_state(root)
    if root not in _histories or _histories[root][0] != state:
        _histories[root] = (state, read_history(root))
    return _histories[root][1]


def image_tag(label: str) -> str:
    """The image tag of a model version: model@v0.0.3 -> model-v0.0.3 (an image tag allows no '@')."""
    return label.replace("@", "-")


def find_version(sha256: str, root: Path) -> Version | None:
    """The newest committed version whose manifest pins `sha256`, or None."""
    for version in reversed(cached_history(root).versions):
        if version.manifest.get("sha256") == sha256:
            return version
    return None


def file_at(version: Version, path: Path, root: Path) -> str | None:
    """A committed file as it was at a model version's commit (its reports, say), or None if that commit lacks it."""
    shown = git("show", f"{version.commit}:{path.as_posix()}", root=root, check=False)
    return shown.stdout if shown.returncode == 0 else None

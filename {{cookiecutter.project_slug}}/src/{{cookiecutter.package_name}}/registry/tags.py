"""The model's GTO tags: which commit each version tag registers and which stage each promotion assigns.

GTO's own parser reads the tag names. Only a checkout with git history imports this module: the
serving image has neither git nor GTO.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gto.constants import ACTION, COUNTER, NAME, STAGE, Action
from gto.tag import parse_name

from .git import git
from .versions import MODEL_ARTIFACT, Version

# The model's GTO tags with the commit they mark; a lightweight tag has no `*objectname`, and GTO ignores it.
TAG_FORMAT = "%(creatordate:unix) %(objecttype) %(*objectname) %(refname:strip=2)"


@dataclass
class GtoTag:
    """A GTO tag of the model: model@v0.0.3 registers a version, model#prod#3 assigns a stage."""

    name: str
    commit: str
    parsed: dict[str, Any]  # gto.tag.parse_name's reading: action, version, stage, counter


def model_tags(root: Path) -> list[GtoTag]:
    """The model's annotated GTO tags, oldest first: by creation time, then by their counter.

    One `git for-each-ref`; GTO's own parser reads the names. The counter orders promotions made
    within the same second, which GTO's timestamps cannot tell apart.
    """
    patterns = [f"refs/tags/{MODEL_ARTIFACT}@*", f"refs/tags/{MODEL_ARTIFACT}#*"]
    refs = git("for-each-ref", f"--format={TAG_FORMAT}", *patterns, root=root, check=False)
    tags = []
    for line in refs.stdout.splitlines():
        when, kind, commit, name = line.split(" ", 3)
        parsed = parse_name(name, raise_on_fail=False)
        if kind == "tag" and commit and parsed.get(NAME) == MODEL_ARTIFACT:
            tags.append((int(when), parsed.get(COUNTER, 0), GtoTag(name, commit, parsed)))
    return [tag for *_, tag in sorted(tags, key=lambda item: item[:2])]


def registrations(tags: list[GtoTag]) -> dict[str, str]:
    """The version tag of each registered commit; a later deregistration (model@v0.0.3!) removes it."""
    registered: dict[str, str] = {}
    for tag in tags:
        if tag.parsed[ACTION] == Action.REGISTER:
            registered[tag.commit] = tag.name
        elif tag.parsed[ACTION] == Action.DEREGISTER:
            registered.pop(tag.commit, None)
    return registered


def assign_stages(versions: list[Version], tags: list[GtoTag]) -> None:
    """Give each stage to the version its newest tag names, or to none if that tag withdraws it.

    Promoting v0.0.4 to prod moves prod from the version that held it; as in GTO, the older tags
    stay in git as the record of past promotions.
    """
    version_of = {version.commit: version for version in versions}
    holders: dict[str, Version | None] = {}
    for tag in tags:  # oldest first, each re-inserted last: the dict ends in promotion order
        if STAGE not in tag.parsed:
            continue
        holders.pop(tag.parsed[STAGE], None)
        holders[tag.parsed[STAGE]] = None if tag.parsed[ACTION] == Action.UNASSIGN else version_of.get(tag.commit)
    for stage, version in reversed(holders.items()):
        if version is not None:
            version.stages.append(stage)

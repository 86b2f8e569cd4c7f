"""An entity tagger's model file, models/model.crfsuite: crfsuite's own format, opened only once verified."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelIntegrityError
from ..paths import MODEL_PATH
from ..registry.artifacts import manifest_path, read_manifest, verified_bytes
from ..registry.manifest import Manifest
from .tagger import EntityTagger

SUFFIX = ".crfsuite"


@dataclass(frozen=True)
class LoadedTagger:
    """A verified models/model.crfsuite opened by crfsuite, and the manifest: no pickle is read."""

    tagger: EntityTagger
    manifest: Manifest
    file: str
    sha256: str


def load_tagger(path: Path = MODEL_PATH) -> LoadedTagger:
    """Open an entity tagger's crfsuite file (model.crfsuite beside `path`) only if its sha256 matches the manifest."""
    manifest = read_manifest(path)
    if manifest.get("task") != "entities" or "tagger" not in manifest:
        raise ModelIntegrityError(f"{manifest_path(path)} describes a {manifest.get('task')} model, not a tagger")
    file = path.parent / manifest["tagger"]["file"]
    content = verified_bytes(file, manifest)
    tagger = EntityTagger(content, manifest["tagger"]["labels"])
    tagger.tagger()  # crfsuite reads the bytes now: a damaged file fails here, not at the first request
    return LoadedTagger(tagger, manifest, file.name, hashlib.sha256(content).hexdigest())

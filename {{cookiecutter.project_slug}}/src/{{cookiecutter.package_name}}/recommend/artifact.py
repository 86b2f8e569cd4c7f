"""A recommender's arrays, models/model.npz: written so a rerun gives the same sha256, read only once verified."""

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy

from ..errors import ModelIntegrityError
from ..paths import MODEL_PATH
from ..registry.artifacts import manifest_path, read_manifest, verified_bytes
from ..registry.manifest import Manifest
from .ranking import Recommender

SUFFIX = ".npz"


@dataclass(frozen=True)
class LoadedRecommender:
    """A verified models/model.npz as a Recommender, and the manifest: no pickle is read."""

    recommender: Recommender
    manifest: Manifest
    file: str
    sha256: str


def load_recommender(path: Path = MODEL_PATH) -> LoadedRecommender:
    """Read a recommender's arrays (model.npz beside `path`) only if their sha256 matches the manifest."""
    manifest = read_manifest(path)
    if manifest.get("task") != "recommend":
        raise ModelIntegrityError(f"{manifest_path(path)} describes a {manifest.get('task')} model, not a recommender")
    file = path.with_suffix(SUFFIX)
    content = verified_bytes(file, manifest)
    with numpy.load(io.BytesIO(content), allow_pickle=False) as arrays:  # arrays only: never code
        recommender = Recommender.from_arrays(arrays)
    return LoadedRecommender(recommender, manifest, file.name, hashlib.sha256(content).hexdigest())


def recommender_bytes(recommender: Recommender) -> bytes:
    """A recommender's arrays as an .npz file's content: the same arrays give the same bytes, so the same sha256.

    numpy.savez stamps each member with the time of writing; a fixed stamp keeps a rerun's file identical.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in recommender.arrays().items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as handle:
                numpy.lib.format.write_array(handle, numpy.asanyarray(array), allow_pickle=False)
    return buffer.getvalue()

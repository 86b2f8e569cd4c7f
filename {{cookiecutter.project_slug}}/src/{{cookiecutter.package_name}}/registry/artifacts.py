"""The one door between training and serving: save a model with its manifest, load it only if it matches."""

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import joblib
import sklearn
from sklearn.base import BaseEstimator

from ..atomic import atomic_path, write_json
from ..errors import ModelIntegrityError
from ..paths import MODEL_PATH
from .manifest import Manifest

CHUNK = 1 << 20


class ModelVersionWarning(UserWarning):
    """The model was trained with another scikit-learn version than the one loading it."""


@dataclass(frozen=True)
class LoadedModel:
    """A verified model and the manifest that describes it."""

    model: BaseEstimator
    manifest: Manifest


def manifest_path(model_path: Path) -> Path:
    """The manifest sits beside the model: models/model.joblib -> models/model.json."""
    return model_path.with_suffix(".json")


def sha256_file(path: Path) -> str:
    """The SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(model: BaseEstimator, manifest: dict[str, Any], path: Path = MODEL_PATH) -> Manifest:
    """Pickle `model`, pin its hash in the manifest and write both; return the full manifest."""
    with atomic_path(path) as tmp:
        joblib.dump(model, tmp)
        file = {"model_file": path.name, "sha256": sha256_file(tmp), "size_bytes": tmp.stat().st_size}
        full = cast(Manifest, file | manifest)
        write_json(manifest_path(path), full)
    return full


def read_manifest(path: Path = MODEL_PATH) -> Manifest:
    """Read the manifest of the model at `path`."""
    manifest_file = manifest_path(path)
    if not manifest_file.is_file():
        raise ModelIntegrityError(f"no model manifest at {manifest_file}: run `dvc repro` to train the model")
    try:
        return json.loads(manifest_file.read_text())
    except json.JSONDecodeError as exc:
        raise ModelIntegrityError(f"model manifest {manifest_file} is not valid JSON: {exc}") from None


def verify(path: Path = MODEL_PATH) -> Manifest:
    """Check the model file against its manifest's sha256 without unpickling it; return the manifest."""
    manifest = read_manifest(path)
    if not path.is_file():
        raise ModelIntegrityError(f"no model file at {path}: run `dvc repro` (or `dvc pull`) to get it")
    actual = sha256_file(path)
    if actual != manifest.get("sha256"):
        raise ModelIntegrityError(
            f"{path} has sha256 {actual[:12]}... but its manifest pins {str(manifest.get('sha256'))[:12]}...: "
            "refusing to load it (restore it with `git checkout`/`dvc checkout`, or retrain with `dvc repro`)"
        )
    return manifest


def load_model(path: Path = MODEL_PATH) -> LoadedModel:
    """Load the model only after its hash matches the manifest; warn on a scikit-learn version mismatch."""
    manifest = verify(path)
    trained_with = manifest.get("versions", {}).get("scikit-learn")
    if trained_with and trained_with != sklearn.__version__:
        warnings.warn(
            f"{path} was trained with scikit-learn {trained_with} and is loaded with {sklearn.__version__}: "
            "predictions may differ; retrain with `dvc repro --force`",
            ModelVersionWarning,
            stacklevel=2,
        )
    return LoadedModel(model=joblib.load(path), manifest=manifest)

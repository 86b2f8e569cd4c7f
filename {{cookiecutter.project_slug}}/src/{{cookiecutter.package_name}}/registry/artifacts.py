"""The one door between training and serving: save a model with its manifest, load it only if it matches."""

import hashlib
import json
import warnings
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..atomic import atomic_path, write_json
from ..errors import ModelIntegrityError
from ..paths import MODEL_PATH
from .manifest import Manifest

if TYPE_CHECKING:  # serving from model.onnx never imports scikit-learn
    from onnxruntime import InferenceSession
    from sklearn.base import BaseEstimator

CHUNK = 1 << 20


class ModelVersionWarning(UserWarning):
    """The model was trained with another scikit-learn version than the one loading it."""


@dataclass(frozen=True)
class LoadedModel:
    """A verified model and the manifest that describes it."""

    model: "BaseEstimator"
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


def save_model(
    model: Any,
    manifest: dict[str, Any],
    path: Path = MODEL_PATH,
    serving_copy: tuple[str, bytes | None] = (".onnx", None),
) -> Manifest:
    """Pickle `model`, write its serving copy, pin their hashes in the manifest; return it.

    The serving copy (suffix, content) is what the server reads instead of the pickle: the checked
    ONNX model, a recommender's arrays (.npz) or an entity tagger's crfsuite file (.crfsuite).
    Without content it is written empty: dvc.yaml's output must exist, and the manifest's onnx
    section says why serving uses the pickle. The files are replaced together, or not at all.
    """
    import joblib  # here, not at the top: the serving image holds no joblib when it serves model.onnx

    copy_path, copy = path.with_suffix(serving_copy[0]), serving_copy[1]
    with ExitStack() as stack:
        tmp = stack.enter_context(atomic_path(path))
        joblib.dump(model, tmp)
        files = {path.name: sha256_file(tmp)}
        stack.enter_context(atomic_path(copy_path)).write_bytes(copy or b"")
        if copy is not None:
            files[copy_path.name] = hashlib.sha256(copy).hexdigest()
        file = {"model_file": path.name, "sha256": files[path.name], "size_bytes": tmp.stat().st_size, "files": files}
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
    import joblib  # here, not at the top: serving from model.onnx never imports them
    import sklearn

    manifest = verify(path)
    trained_with = manifest.get("versions", {}).get("scikit-learn")
    if trained_with and trained_with != sklearn.__version__:
        warnings.warn(
            f"{path} was trained with scikit-learn {trained_with} and is loaded with {sklearn.__version__}: "
            "predictions may differ; retrain with `dvc repro --force`",
            ModelVersionWarning,
            stacklevel=2,
        )
    try:
        model = joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as exc:  # a class that moved or went since it was pickled
        raise ModelIntegrityError(
            f"{path} was pickled by an older version of this project's code ({exc}): retrain it with `dvc repro`"
        ) from None
    return LoadedModel(model=model, manifest=manifest)


@dataclass(frozen=True)
class PortableModel:
    """A verified models/model.onnx, its bytes and the manifest: no pickle is read."""

    content: bytes  # the bytes that were hashed: what the session is made of, so the file cannot change in between
    manifest: Manifest
    file: str  # the ONNX file's name, beside the manifest
    sha256: str  # the ONNX file's, as verified


def onnx_unavailable(manifest: Manifest) -> str | None:
    """Why the manifest offers no checked ONNX model (None when train's check passed)."""
    check = manifest.get("onnx")
    if check is None:
        return "the manifest has no ONNX section: the model was trained before ONNX export (retrain with `dvc repro`)"
    if check["status"] != "passed":
        return f"train did not export a checked ONNX model: {check.get('reason') or 'no reason recorded'}"
    return None


def load_portable(path: Path = MODEL_PATH) -> PortableModel:
    """Read the ONNX model beside `path` only if its sha256 matches the manifest; the pickle is never read."""
    manifest = read_manifest(path)
    if reason := onnx_unavailable(manifest):
        raise ModelIntegrityError(reason)
    name = str(manifest["onnx"]["file"])
    content = verified_bytes(path.parent / name, manifest)
    return PortableModel(content=content, manifest=manifest, file=name, sha256=hashlib.sha256(content).hexdigest())


def verified_bytes(file: Path, manifest: Manifest) -> bytes:
    """The content of a model file beside the manifest, only if its sha256 is the one the manifest pins."""
    if not file.is_file():
        raise ModelIntegrityError(f"no model file at {file}: run `dvc repro` (or `dvc pull`) to get it")
    content = file.read_bytes()
    actual, pinned = hashlib.sha256(content).hexdigest(), str(manifest.get("files", {}).get(file.name))
    if actual != pinned:
        raise ModelIntegrityError(
            f"{file} has sha256 {actual[:12]}... but its manifest pins {pinned[:12]}...: "
            "refusing to load it (restore it with `git checkout`/`dvc checkout`, or retrain with `dvc repro`)"
        )
    return content


def onnx_session(content: bytes, threads: int = 1) -> "InferenceSession":
    """An onnxruntime session of a verified model, on `threads` intra- and inter-op threads.

    onnxruntime is imported here, not at the top: a process that imported it and then forks
    (a web server's master that preloads the app) leaves children that hang when they exit.
    """
    from onnxruntime import GraphOptimizationLevel, InferenceSession, SessionOptions

    options = SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = threads
    options.graph_optimization_level = GraphOptimizationLevel.ORT_ENABLE_ALL
    return InferenceSession(content, options, providers=["CPUExecutionProvider"])

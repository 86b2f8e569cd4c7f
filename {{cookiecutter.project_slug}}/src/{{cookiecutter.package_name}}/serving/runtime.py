"""The runtime that answers: the served model's kind loads it (its runtime.py), verified, as SERVING_RUNTIME asks.

SERVING_RUNTIME chooses for a table model: `auto` (the default) serves the ONNX model when the
manifest says it passed its check and the pickle otherwise; `onnx` refuses a model without a
checked ONNX file; `sklearn` serves the pickle. A recommender serves its arrays and a tagger
crfsuite's file, whatever it says: never a pickle.
"""

from pathlib import Path

from .. import kinds
from ..errors import ModelIntegrityError
from ..registry.artifacts import read_manifest
from ..registry.runtime import Runtime

__all__ = ["RUNTIMES", "Runtime", "load_runtime"]

RUNTIMES = ("auto", "onnx", "sklearn")


def load_runtime(path: Path, choice: str = "auto") -> Runtime:
    """The runtime of the model at `path`, from its kind; ModelIntegrityError says why there is none."""
    if choice not in RUNTIMES:
        raise ModelIntegrityError(f"SERVING_RUNTIME must be one of {', '.join(RUNTIMES)}, not {choice!r}")
    runtime: Runtime = kinds.part(kinds.for_task(read_manifest(path).get("task")), "runtime").load(path, choice)
    return runtime

"""The table kind's runtimes: onnxruntime over models/model.onnx when train's check passed, else the verified pickle.

SERVING_RUNTIME chooses: `auto` (the default) serves the ONNX model when the manifest says it
passed its check and the pickle otherwise; `onnx` refuses a model without a checked ONNX file;
`sklearn` serves the pickle. Under ONNX the pickle is never read, and scikit-learn never imported.
"""

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelIntegrityError
from ..registry.artifacts import load_portable, onnx_session, onnx_unavailable, read_manifest
from ..registry.manifest import Row
from ..registry.runtime import Runtime
from .modeling.portable import FeedPlan, feed_plan, onnx_feed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnnxRunner(Runtime):
    """models/model.onnx, verified, in one onnxruntime session per process; inputs straight from the values.

    The session is made in the process that predicts, never before a fork: gunicorn's master
    verifies the file at start-up and each worker opens its session (gunicorn.conf.py's post_fork).
    """

    content: bytes = b""
    plan: FeedPlan = field(default_factory=list)  # the graph's inputs and the features they read
    outputs: list[str] = field(default_factory=list)  # the probabilities of a classifier, else the label
    classes: np.ndarray | None = None  # a classifier's labels, in the order of its probabilities
    sessions: dict[int, Any] = field(default_factory=dict)  # by process id: one per process
    lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self) -> Any:
        """This process's session, made on first use."""
        session = self.sessions.get(os.getpid())
        if session is None:
            with self.lock:
                if os.getpid() not in self.sessions:
                    self.sessions[os.getpid()] = onnx_session(self.content)
                session = self.sessions[os.getpid()]
        return session

    def open(self) -> None:
        """Make this process's session now rather than at its first request."""
        self.session()

    def close(self) -> None:
        """Drop this process's session (a worker on its way out); the next request would open another."""
        with self.lock:
            self.sessions.pop(os.getpid(), None)

    def predict(self, rows: list[Row]) -> tuple[np.ndarray, np.ndarray | None]:
        """Run the graph; a classifier's prediction is its most probable class, as the pickle's predict_once."""
        feed = onnx_feed(self.plan, rows)
        (output,) = self.session().run(self.outputs, feed)
        if self.classes is not None:
            return self.classes[output.argmax(axis=1)], output
        if output.dtype == np.float32:  # float32's shortest decimals (151.2345), not its float64 expansion
            return output.ravel().astype(str).astype(float), None
        return output.ravel(), None


def onnx_runner(path: Path) -> OnnxRunner:
    """The ONNX model beside `path`, verified by its sha256, in a one-thread session."""
    portable = load_portable(path)
    check = portable.manifest["onnx"]
    outputs = check["outputs"] or {"label": "label", "probabilities": None}
    probabilities = outputs["probabilities"] if portable.manifest["task"] == "classification" else None
    return OnnxRunner(
        name="onnx",
        manifest=portable.manifest,
        file=portable.file,
        sha256=portable.sha256,
        content=portable.content,
        plan=feed_plan(check["inputs"], portable.manifest["features"]),
        outputs=[outputs["label"] if probabilities is None else probabilities],
        classes=None if probabilities is None else np.asarray(portable.manifest["classes"], dtype=object),
    )


def load(path: Path, choice: str) -> Runtime:
    """The runtime SERVING_RUNTIME chooses for the table model at `path`; ModelIntegrityError says why there is none."""
    if choice != "sklearn":
        reason = onnx_unavailable(read_manifest(path))
        if reason is None:
            return onnx_runner(path)
        if choice == "onnx":
            raise ModelIntegrityError(f"SERVING_RUNTIME is onnx but {reason}")
        log.info("serving the pickle: %s", reason)
    from .pickled import sklearn_runner  # here: the pickle needs pandas and scikit-learn, which the slim image lacks

    return sklearn_runner(path)

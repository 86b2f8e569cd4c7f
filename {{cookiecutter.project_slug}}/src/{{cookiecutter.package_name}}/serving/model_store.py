"""The model of this process: loaded once (runtime.load_runtime: ONNX, else the pickle), shared by all threads."""

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from ..errors import ModelIntegrityError
from ..paths import PREDICTIONS_REFERENCE_PATH
from ..registry.artifacts import manifest_path
from ..registry.manifest import Manifest
from . import conf, metrics
from .release import release_of
from .runtime import Runtime, load_runtime
from .schemas import PredictRequest, request_model

log = logging.getLogger(__name__)


class ModelUnavailable(Exception):
    """No verified model to serve; the message says why."""


@dataclass(frozen=True)
class Served:
    """A verified model in its runtime, with the request schema built from its manifest."""

    loaded: Runtime
    request_model: type[PredictRequest]


class ModelStore:
    """Loads the model on first use (or at start-up) and keeps it; a failure is kept until the files change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._served: Served | None = None
        self._failure: tuple[tuple, str] | None = None
        # Told of each model loaded: the app's ready() adds the database's record of it (records.py), so
        # this cache needs no import of the ORM code that imports it back.
        self.on_load: list[Callable[[Manifest], None]] = []

    @staticmethod
    def model_path() -> Path:
        """The model file SERVING_MODEL_PATH names; ImproperlyConfigured when it is not set."""
        return conf.model_path()

    def _signature(self) -> tuple:
        """What identifies the files on disk: a change means a new load attempt is worth it."""
        path = self.model_path()
        files = (path, manifest_path(path), path.with_suffix(".onnx"), path.with_suffix(".npz"),
                 path.with_suffix(".crfsuite"))  # fmt: skip
        stats = [(p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None for p in files]
        return (str(path), conf.setting("SERVING_RUNTIME"), *stats)

    def get(self) -> Served:
        """The served model, loading it if needed; ModelUnavailable with the reason otherwise."""
        if self._served is not None:
            return self._served
        with self._lock:
            if self._served is not None:
                return self._served
            try:
                signature = self._signature()
            except ImproperlyConfigured as exc:  # a host site that has not set SERVING_MODEL_PATH yet
                raise ModelUnavailable(str(exc)) from None
            if self._failure and self._failure[0] == signature:
                raise ModelUnavailable(self._failure[1])
            try:
                loaded = load_runtime(self.model_path(), conf.setting("SERVING_RUNTIME"))
            except ModelIntegrityError as exc:
                self._failure = (signature, str(exc))
                log.error("model not served: %s", exc)
                metrics.model_unavailable()
                raise ModelUnavailable(str(exc)) from None
            # Answers name the release (model@v0.0.3) when git history knows it, else the sha256 prefix.
            release = release_of(loaded.manifest, self.model_path().resolve().parent.parent)
            loaded = replace(loaded, manifest=loaded.manifest | {"version": release["version"]})
            limits = conf.setting("SERVING_MAX_ROWS"), conf.setting("SERVING_MAX_TEXT_CHARS")
            self._served = Served(loaded, request_model(loaded.manifest["features"], *limits))
            self._failure = None
        for listener in self.on_load:  # the app's ready() adds records.register_on_startup: the ORM is set up
            listener(loaded.manifest)
        metrics.model_served(loaded.manifest, loaded.name)
        metrics.test_shares(test_answers(self.model_path()), loaded.manifest)
        return self._served

    def reset(self) -> None:
        """Forget the loaded model (tests, or a reload after a redeploy of the files)."""
        with self._lock:
            self._served, self._failure = None, None


def test_answers(model_path: Path) -> dict[str, Any] | None:
    """evaluate's binned answers on the test set, beside the model's folder; None where they are not (an image)."""
    path = model_path.resolve().parent.parent / PREDICTIONS_REFERENCE_PATH
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


store = ModelStore()

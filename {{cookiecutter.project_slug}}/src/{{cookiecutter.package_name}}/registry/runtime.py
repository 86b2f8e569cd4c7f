"""A verified model ready to answer, whatever its kind: the runtime each kind's runtime.py builds."""

from dataclasses import dataclass

import numpy as np

from .manifest import Manifest, Row


@dataclass(frozen=True)
class Runtime:
    """A verified model ready to answer: which runtime, the file it serves and that file's sha256."""

    name: str
    manifest: Manifest
    file: str
    sha256: str

    def predict(self, rows: list[Row]) -> tuple[np.ndarray, np.ndarray | None]:
        """The predictions and, for a classifier, the class probabilities of validated rows."""
        raise NotImplementedError

    def open(self) -> None:
        """Ready this process to answer (the pickle is ready once loaded)."""

    def close(self) -> None:
        """Release what this process opened to answer (nothing, for the pickle)."""

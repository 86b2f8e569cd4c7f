"""The entities kind's runtime: its verified crfsuite file (models/model.crfsuite), whatever SERVING_RUNTIME says."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelIntegrityError
from ..registry.manifest import Row
from ..registry.runtime import Runtime
from .artifact import load_tagger
from .tagger import EntityTagger


@dataclass(frozen=True)
class TaggerRunner(Runtime):
    """An entity tagger's verified crfsuite file (models/model.crfsuite): it finds entities in texts, not rows."""

    tagger: EntityTagger | None = None

    def predict(self, rows: list[Row]) -> tuple[np.ndarray, np.ndarray | None]:
        raise ModelIntegrityError('an entity tagger reads texts: POST {"texts": [...]} to /api/entities')

    def close(self) -> None:
        """Nothing to release: each thread's crfsuite tagger goes with its thread."""


def load(path: Path, choice: str) -> Runtime:
    """The tagger's crfsuite file beside `path`, verified: never the pickle, whatever `choice` says."""
    tagged = load_tagger(path)
    return TaggerRunner("crfsuite", tagged.manifest, tagged.file, tagged.sha256, tagged.tagger)

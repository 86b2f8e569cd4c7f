"""How the example app uses an entity tagger: it tags a record's text, as POST /api/entities does."""

from typing import TYPE_CHECKING, Any

from ..errors import DataError
from ..serving import conf
from ..serving.model_store import Served
from .answers import entities_answer

if TYPE_CHECKING:
    from ..autolabel.models import Record


def answer(served: Served, record: "Record") -> dict[str, Any]:
    """The entities of the record's text, found by the served tagger as POST /api/entities finds them."""
    if len(record.text) > (most := conf.setting("SERVING_MAX_TEXT_CHARS")):  # the API's limit, for a public form too
        raise DataError(f"text: {len(record.text):,} characters, over the {most:,} the tagger reads")
    answer = entities_answer([record.text], "autolabel")
    found = answer["entities"][0]
    labels = sorted({entity["label"] for entity in found})
    confidence = min((entity["confidence"] for entity in found), default=None)
    return {"predictions": [", ".join(labels)], "entities": found, "confidence": confidence, "model": answer["model"]}

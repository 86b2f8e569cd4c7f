"""The one place the autolabel app talks to the model: a record's inputs in, its label out, in this process.

It goes through the serving app's model store and predictor, as the API does: the same verified
model, the same request schema built from the manifest, the same answer, counted in the metrics
and kept in the prediction log (source "autolabel") like an API call, so the monitor watches it too.
"""

import io
import logging
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from pydantic import ValidationError

from ..data.reference import image_aspects
from ..data.schema import image_feature
from ..errors import DataError
from ..registry.manifest import Feature
from ..serving.model_store import ModelUnavailable, Served, store
from ..serving.predictor import predict_rows
from ..serving.schemas import field_errors

if TYPE_CHECKING:
    from .models import Record

log = logging.getLogger(__name__)


class Unlabelable(Exception):
    """The record lacks what the model needs; the message says what."""


def row_inputs(record: "Record", features: list[Feature]) -> dict[str, Any]:
    """The record's table inputs; its text goes to the model's text feature when there is exactly one."""
    if not isinstance(record.row, dict):
        raise Unlabelable('row must be a JSON object: {"feature": value, ...}')
    row = dict(record.row)
    texts = [feature["name"] for feature in features if feature["kind"] == "text"]
    if len(texts) == 1 and record.text:
        row[texts[0]] = record.text
    return row


def predict_row(served: Served, record: "Record") -> dict[str, Any]:
    """Validate the record's row against the served request schema, as the API does, then predict it."""
    row = row_inputs(record, served.loaded.manifest["features"])
    try:
        rows = served.request_model.model_validate({"instances": [row]}).instances
    except ValidationError as exc:
        problems = [f"{item['field'].removeprefix('instances[0].')}: {item['message']}" for item in field_errors(exc)]
        raise Unlabelable("; ".join(problems)) from None
    from ..serving.records import answered  # the log's ORM, ready once the apps are

    return answered(served, rows, predict_rows(served.loaded, rows), "autolabel")


def predict_image(served: Served, record: "Record", feature: Feature) -> dict[str, Any]:
    """Read the record's image as the model's image feature was trained (size, color), then predict it."""
    from ..data.images import load_image, spec_of  # image projects only
    from ..serving import conf
    from ..serving.predictor import predict_images
    from ..serving.records import answered

    if not record.image:
        raise Unlabelable("image: no file: this model labels images")
    # Read through chunks(): a file just uploaded is not in storage yet, and must stay open for the save.
    source = io.BytesIO(b"".join(record.image.chunks()))
    # the API's limit too: a record saved from a public form must not decode an image of any size
    pixels = load_image(source, spec_of(feature), record.image.name, conf.setting("SERVING_MAX_IMAGE_PIXELS"))
    logged = [{"file": record.image.name, **image_aspects(pixels)}]  # what the monitor compares, as the API logs it
    return answered(served, logged, predict_images(served.loaded, [pixels]), "autolabel")


def tag_text(served: Served, record: "Record") -> dict[str, Any]:
    """The entities of the record's text, found by the served tagger as POST /api/entities finds them."""
    from ..serving import conf
    from ..serving.entities import entities_answer

    if len(record.text) > (most := conf.setting("SERVING_MAX_TEXT_CHARS")):  # the API's limit, for a public form too
        raise Unlabelable(f"text: {len(record.text):,} characters, over the {most:,} the tagger reads")
    answer = entities_answer([record.text], "autolabel")
    found = answer["entities"][0]
    labels = sorted({entity["label"] for entity in found})
    confidence = min((entity["confidence"] for entity in found), default=None)
    return {"predictions": [", ".join(labels)], "entities": found, "confidence": confidence, "model": answer["model"]}


def predict(record: "Record") -> dict[str, Any]:
    """The served model's answer for the record, by the kinds of the manifest's features."""
    served = store.get()
    if served.loaded.manifest["task"] == "recommend":
        raise Unlabelable("the served model is a recommender: it ranks items (the you_may_also_like tag), not records")
    if served.loaded.manifest["task"] == "entities":
        return tag_text(served, record)
    features = served.loaded.manifest["features"]
    image = image_feature(features)
    return predict_image(served, record, image) if image else predict_row(served, record)


def label(record: "Record") -> None:
    """Label the record in place; when the model cannot, leave the label empty and say why in label_error."""
    try:
        answer = predict(record)
    except (ModelUnavailable, Unlabelable, DataError) as exc:
        reason = f"model unavailable: {exc}" if isinstance(exc, ModelUnavailable) else str(exc)
        log.warning("record %s not labelled: %s", record.pk or "(new)", reason)
        record.label, record.confidence, record.model_version, record.labelled_at = "", None, "", None
        record.entities, record.label_error = [], reason
        return
    record.label = str(answer["predictions"][0])[:255]
    record.entities = answer.get("entities", [])
    if "entities" in answer:
        record.confidence = answer["confidence"]
    else:
        record.confidence = max(answer["probabilities"][0]) if answer.get("probabilities") else None
    record.model_version = answer["model"]["version"]
    record.labelled_at = timezone.now()
    record.label_error = ""

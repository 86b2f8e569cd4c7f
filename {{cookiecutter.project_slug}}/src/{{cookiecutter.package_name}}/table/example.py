"""How the example app uses a table model: a record's row, text or image in, its label out, as the API answers."""

import io
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..data.bins import image_aspects
from ..errors import DataError
from ..registry.manifest import Feature, image_feature
from ..serving.model_store import Served
from ..serving.predictor import predict_rows
from ..serving.schemas import field_errors

if TYPE_CHECKING:
    from ..autolabel.models import Record


def answer(served: Served, record: "Record") -> dict[str, Any]:
    """The answer for the record: its image when the model reads images, else its row (and text)."""
    image = image_feature(served.loaded.manifest["features"])
    return predict_image(served, record, image) if image else predict_row(served, record)


def row_inputs(record: "Record", features: list[Feature]) -> dict[str, Any]:
    """The record's table inputs; its text goes to the model's text feature when there is exactly one."""
    if not isinstance(record.row, dict):
        raise DataError('row must be a JSON object: {"feature": value, ...}')
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
        raise DataError("; ".join(problems)) from None
    from ..serving.records import answered  # the log's ORM, ready once the apps are

    return answered(served, rows, predict_rows(served.loaded, rows), "autolabel")


def predict_image(served: Served, record: "Record", feature: Feature) -> dict[str, Any]:
    """Read the record's image as the model's image feature was trained (size, color), then predict it."""
    from ..data.images import load_image, spec_of  # image projects only
    from ..serving import conf
    from ..serving.predictor import predict_images
    from ..serving.records import answered

    if not record.image:
        raise DataError("image: no file: this model labels images")
    # Read through chunks(): a file just uploaded is not in storage yet, and must stay open for the save.
    source = io.BytesIO(b"".join(record.image.chunks()))
    # the API's limit too: a record saved from a public form must not decode an image of any size
    pixels = load_image(source, spec_of(feature), record.image.name, conf.setting("SERVING_MAX_IMAGE_PIXELS"))
    logged = [{"file": record.image.name, **image_aspects(pixels)}]  # what the monitor compares, as the API logs it
    return answered(served, logged, predict_images(served.loaded, [pixels]), "autolabel")

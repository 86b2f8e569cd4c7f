"""Request and response schemas; the request's fields are built from the model manifest's features."""

import re
from datetime import datetime
from typing import Annotated, Any, NotRequired

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model, with_config
from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

from ..data.date_parts import ISO_DATE
from ..registry.manifest import Feature

ISO_DATE_PATTERN = re.compile(ISO_DATE)


def iso_date(value: str) -> str:
    """Refuse a text that is not in an ISO 8601 form training reads, or that is no real date or time (2024-02-30)."""
    if not ISO_DATE_PATTERN.fullmatch(value):  # its ValueError becomes a 422 naming the field
        raise ValueError("expected an ISO 8601 date or date and time, such as 2024-03-01 or 2024-03-01T09:30+01:00")
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a real date: {exc}") from None
    return value


# A date feature: the ISO 8601 forms training reads (data.dates.ISO_DATE), checked to be real dates;
# the schema shows the pattern, the check says in words what is wrong.
IsoDate = Annotated[str, Field(json_schema_extra={"pattern": f"^{ISO_DATE}$"}), AfterValidator(iso_date)]
KINDS = {"number": float, "category": str, "date": IsoDate, "text": str}


class ModelInfo(BaseModel):
    """Which model answered."""

    version: str
    sha256: str


class PredictResponse(BaseModel):
    """Predictions in the order of the instances; class probabilities for classifiers."""

    predictions: list[Any]
    probabilities: list[list[float]] | None = None
    prediction_ids: list[str] | None = Field(None, description="with the prediction log on: for POST /api/feedback")
    model: ModelInfo


class ImagePredictResponse(PredictResponse):
    """Predictions for uploaded images, in upload order, with the files' names."""

    files: list[str]


class HealthResponse(BaseModel):
    """ok with the served model and the runtime that answers, onnx or sklearn (200); else the reason (503)."""

    status: str
    model: ModelInfo | None = None
    runtime: str | None = None
    reason: str | None = None


class PredictRequest(BaseModel):
    """The shape every request model shares: request_model() types the instances by the manifest's features."""

    model_config = ConfigDict(extra="forbid")

    instances: list[dict[str, Any]]


class ErrorResponse(BaseModel):
    """A 4xx/5xx answer: what went wrong and, for a bad body, each bad field."""

    detail: str
    errors: list[dict[str, str]] = []


def bounded(kind: Any, feature: Feature, max_text_chars: int) -> Any:
    """A number within the manifest's bounds (what the model's arithmetic holds), a text within its length."""
    if feature["kind"] == "text":
        return Annotated[kind, Field(max_length=max_text_chars)]
    if feature.get("minimum") is None and feature.get("maximum") is None:
        return kind
    return Annotated[kind, Field(ge=feature.get("minimum"), le=feature.get("maximum"))]


def request_model(features: list[Feature], max_rows: int, max_text_chars: int) -> type[PredictRequest]:
    """The model of {"instances": [...]}, each instance a TypedDict with the features' real names as keys.

    Strict types (no "1" for 1), no NaN or infinity, numbers within the bounds that keep the model
    finite, texts of at most `max_text_chars` characters, no unknown fields; null, or the field left
    out, only for features that had missing values in training (a missing text is sent as "").
    Validated instances are plain dicts, the rows the runtime reads: no model objects to dump.
    """
    fields: dict[str, Any] = {}
    for feature in features:
        if feature["kind"] == "image":  # images come as files to /api/predict/image, never as JSON
            continue
        kind = bounded(KINDS[feature["kind"]], feature, max_text_chars)
        # may be null or left out: missing, as in training
        fields[feature["name"]] = NotRequired[kind | None] if feature.get("nullable") else kind
    config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    # The functional form, so that any feature name is a key; mypy types only a literal dict of fields.
    instance = with_config(config)(TypedDict("Instance", fields))  # type: ignore[operator]
    return create_model(
        "PredictRequest",
        __base__=PredictRequest,
        instances=(list[instance], Field(min_length=1, max_length=max_rows)),  # type: ignore[valid-type]
    )


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Each validation error as {"field": "instances[0].age", "message": ...}."""
    errors = []
    for item in error.errors(include_url=False):
        path = ""
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        errors.append({"field": path or "body", "message": item["msg"]})
    return errors


def row_reasons(error: ValidationError) -> list[str]:
    """Why each refused row was refused: its first error's type (missing, less_than_equal, ...), for the metrics.

    An error outside any row (a body that is not JSON, no instances) counts once, as its own type.
    """
    reasons: dict[Any, str] = {}
    for item in error.errors(include_url=False):
        loc = item["loc"]
        row = loc[1] if len(loc) > 1 and loc[0] == "instances" and isinstance(loc[1], int) else "body"
        reasons.setdefault(row, item["type"])
    return list(reasons.values())

"""Request and response schemas; the request's fields are built from the model manifest's features."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

KINDS = {"number": float, "category": str}


class ModelInfo(BaseModel):
    """Which model answered."""

    version: str
    sha256: str


class PredictResponse(BaseModel):
    """Predictions in the order of the instances; class probabilities for classifiers."""

    predictions: list[Any]
    probabilities: list[list[float]] | None = None
    model: ModelInfo


class ErrorResponse(BaseModel):
    """A 4xx/5xx answer: what went wrong and, for a bad body, each bad field."""

    detail: str
    errors: list[dict[str, str]] = []


def request_model(features: list[dict[str, Any]], max_rows: int) -> type[BaseModel]:
    """A plain pydantic model of {"instances": [...]}: fast to validate, with the real field names.

    Strict types (no "1" for 1), no NaN or infinity, no unknown or missing fields; null only for
    features that had missing values in training.
    """
    fields: dict[str, Any] = {}
    for index, feature in enumerate(features):
        kind = KINDS[feature["kind"]]
        annotation = kind | None if feature.get("nullable") else kind
        fields[f"f{index}"] = (annotation, Field(alias=feature["name"]))
    instance = create_model(
        "Instance",
        __config__=ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, populate_by_name=False),
        **fields,
    )
    return create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        instances=(list[instance], Field(min_length=1, max_length=max_rows)),
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

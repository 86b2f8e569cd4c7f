"""The HTTP API (django-ninja): POST /api/predict, GET /api/model, GET /api/health, /api/openapi.json."""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from ninja import NinjaAPI
from pydantic import ValidationError

from .model_store import ModelUnavailable, store
from .predictor import model_info, predict_rows
from .records import log_prediction
from .release import release_of
from .schemas import ErrorResponse, HealthResponse, PredictResponse, field_errors


class ModelAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document shows the request fields of the model being served."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        schema = super().get_openapi_schema(*args, **kwargs)
        try:
            body = store.get().request_model.model_json_schema(ref_template="#/components/schemas/{model}")
        except ModelUnavailable:
            return schema
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(body.pop("$defs", {}))
        components["PredictRequest"] = body
        for path, operations in schema["paths"].items():
            if path.endswith("/predict"):
                operations["post"]["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}},
                }
        return schema


log = logging.getLogger(__name__)
api = ModelAPI(title="{{ cookiecutter.project_name }} model API", version="1", urls_namespace="api")


def error(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> JsonResponse:
    """A JSON error answer."""
    return JsonResponse({"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> JsonResponse:
    """Never a traceback: an unexpected failure is a short JSON 500 (the details go to the log)."""
    log.exception("unexpected error on %s", request.path)
    return error(500, "internal error: see the server log")


@api.post(
    "/predict",
    response={200: PredictResponse, 400: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse,
              422: ErrorResponse, 500: ErrorResponse, 503: ErrorResponse},
    summary="Predict for a batch of instances",
)  # fmt: skip
def predict_endpoint(request: HttpRequest) -> JsonResponse:
    """Validate {"instances": [{feature: value, ...}]} against the model's features and predict."""
    if request.content_type != "application/json":
        return error(415, f"content type must be application/json, not {request.content_type or 'none'!r}")
    try:
        served = store.get()
    except ModelUnavailable as exc:
        return error(503, f"model unavailable: {exc}")
    try:
        body = request.body
    except RequestDataTooBig:
        return error(413, "request body too large: send fewer instances per request")
    try:
        payload = served.request_model.model_validate_json(body)
    except ValidationError as exc:
        if any(item["type"] == "json_invalid" for item in exc.errors()):
            return error(400, "request body is not valid JSON", field_errors(exc))
        return error(422, "invalid instances: each bad field is listed in errors", field_errors(exc))
    rows = [row.model_dump(by_alias=True) for row in payload.instances]
    result = predict_rows(served.loaded, rows)
    log_prediction(served.loaded.manifest["sha256"], rows, result)
    return JsonResponse(result)


@api.get("/model", response={200: dict[str, Any], 500: ErrorResponse, 503: ErrorResponse},
         summary="The served model's manifest")  # fmt: skip
def model_endpoint(request: HttpRequest) -> JsonResponse:
    """The manifest of the served model with its release: version, stage, sha256, metrics, features, params."""
    try:
        manifest = store.get().loaded.manifest
    except ModelUnavailable as exc:
        return error(503, f"model unavailable: {exc}")
    release = release_of(manifest, store.model_path().resolve().parent.parent)  # a promotion shows at once
    return JsonResponse({**manifest, **model_info(manifest), **release})


@api.get(
    "/health",
    response={200: HealthResponse, 500: ErrorResponse, 503: HealthResponse},
    summary="200 when the model is loaded and verified, 503 with the reason otherwise",
)
def health_endpoint(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness in one: is a verified model loaded?"""
    try:
        manifest = store.get().loaded.manifest
    except ModelUnavailable as exc:
        return JsonResponse({"status": "unavailable", "reason": str(exc)}, status=503)
    return JsonResponse({"status": "ok", "model": model_info(manifest)})

"""The HTTP API (django-ninja): GET /api/model, GET /api/health, POST /api/feedback, OpenAPI; and each kind's router.

The kinds this project holds add their endpoints (kinds.py: each kind's router.py): a table's
POST /api/predict and /api/predict/image, a recommender's GET /api/items/{item}/similar and
POST /api/recommend, an entity tagger's POST /api/entities.
"""

import logging
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema

from .. import kinds
from . import conf, metrics
from .feedback import FeedbackRequest, FeedbackResponse, NotYet, record_feedback
from .http import STATUSES, Refusal, error
from .model_store import ModelUnavailable, store
from .predictor import model_info
from .release import release_of
from .schemas import ErrorResponse, HealthResponse


class ModelAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document shows the request fields of the model being served."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> OpenAPISchema:
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


@api.exception_handler(Refusal)
def refused(request: HttpRequest, exc: Refusal) -> JsonResponse:
    """A refused request's JSON error."""
    return error(exc.status, exc.detail)


@api.exception_handler(NinjaValidationError)
def invalid_body(request: HttpRequest, exc: NinjaValidationError) -> JsonResponse:
    """A body or query django-ninja refused (feedback, recommend, similar) answers as the others do: fields named."""
    errors = []
    for item in exc.errors:
        location = tuple(item.get("loc", ()))  # ("body", <parameter>, field...) or ("query", <parameter>)
        parts = list(location[2:] if location[:1] == ("body",) else location[1:])
        field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts).lstrip(".")
        errors.append({"field": field or "body", "message": item.get("msg", "invalid")})
    where = "query" if all(tuple(item.get("loc", ()))[:1] == ("query",) for item in exc.errors) else "body"
    return error(422, f"invalid {where}: each bad field is listed in errors", errors)


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> JsonResponse:
    """Never a traceback: an unexpected failure is a short JSON 500 (the details go to the log)."""
    log.exception("unexpected error on %s", request.path)
    return error(500, "internal error: see the server log")


@api.post("/feedback", response={200: FeedbackResponse, **STATUSES}, summary="Record the true labels of predictions")
def feedback_endpoint(request: HttpRequest, body: FeedbackRequest) -> JsonResponse:
    """Record {"feedback": [{"prediction_id", "label"}]}: the truth for logged predictions (a value for regression)."""
    try:
        manifest = store.get().loaded.manifest
    except ModelUnavailable as exc:
        return error(503, f"model unavailable: {exc}")
    if request.content_type != "application/json":  # as /api/predict answers
        return error(415, f"content type must be application/json, not {request.content_type or 'none'!r}")
    if not conf.setting("SERVING_PREDICTION_LOG"):
        return error(409, "feedback needs the prediction log: set SERVING_PREDICTION_LOG=on, then predict")
    try:
        recorded, errors = record_feedback(manifest, body.feedback, body.replace)
    except NotYet as exc:  # the database is down, or the rows are still spooled: the client sends it again
        answer = error(503, exc.detail, exc.errors)
        answer["Retry-After"] = str(exc.retry_after)
        return answer
    if errors:
        return error(422, "feedback refused, nothing recorded: each bad entry is listed in errors", errors)
    metrics.feedback_recorded(recorded)
    return JsonResponse({"recorded": recorded})


@api.get("/model", response={200: dict[str, Any], 500: ErrorResponse, 503: ErrorResponse},
         summary="The served model's manifest")  # fmt: skip
def model_endpoint(request: HttpRequest) -> JsonResponse:
    """The served model's manifest and release (version, stage, sha256, metrics, features), and what answers.

    `runtime` is onnx or sklearn; `served_file` and `served_sha256` name the file that runtime reads;
    `prediction_log` says whether answers are logged for the monitor.
    """
    try:
        loaded = store.get().loaded
    except ModelUnavailable as exc:
        return error(503, f"model unavailable: {exc}")
    manifest = loaded.manifest
    release = release_of(manifest, store.model_path().resolve().parent.parent)  # a promotion shows at once
    runtime = {
        "runtime": loaded.name,
        "served_file": loaded.file,
        "served_sha256": loaded.sha256,
        "prediction_log": bool(conf.setting("SERVING_PREDICTION_LOG")),  # the monitor asks: is it on?
    }
    return JsonResponse({**manifest, **model_info(manifest), **release, **runtime})


@api.get(
    "/health",
    response={200: HealthResponse, 500: ErrorResponse, 503: HealthResponse},
    summary="200 when the model is loaded and verified, 503 with the reason otherwise",
)
def health_endpoint(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness in one: is a verified model loaded?"""
    try:
        loaded = store.get().loaded
    except ModelUnavailable as exc:
        return JsonResponse({"status": "unavailable", "reason": str(exc)}, status=503)
    return JsonResponse({"status": "ok", "model": model_info(loaded.manifest), "runtime": loaded.name})


# Each kind this project holds adds its endpoints; a bake holds one kind, so OpenAPI lists only its own.
for kind in kinds.kinds():
    api.add_router("", kinds.part(kind, "router").router)

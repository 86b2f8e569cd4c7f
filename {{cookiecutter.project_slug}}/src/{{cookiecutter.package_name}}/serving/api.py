"""The HTTP API (django-ninja): POST /api/predict, POST /api/feedback, GET /api/model, GET /api/health, OpenAPI.

A recommender answers GET /api/items/{item}/similar and POST /api/recommend instead of the predict endpoints,
an entity tagger POST /api/entities.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Query
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from pydantic import ValidationError

from ..data.images import ImageError, load_image, spec_of
from ..data.reference import image_aspects
from ..data.schema import image_feature
from . import conf, metrics
from .entities import EntitiesRequest, EntitiesResponse, NotATagger, entities_answer
from .feedback import FeedbackRequest, FeedbackResponse, NotYet, record_feedback
from .model_store import ModelUnavailable, Served, store
from .predictor import NotFinite, model_info, predict_images, predict_rows
from .recommend import MAX_K, NotARecommender, RankedResponse, RecommendRequest, recommend_answer, similar_answer
from .records import answered
from .release import release_of
from .runtime import RecommenderRunner, TaggerRunner
from .schemas import ErrorResponse, HealthResponse, ImagePredictResponse, PredictResponse, field_errors, row_reasons

# The multipart field of POST /api/predict/image that holds the images, one file each.
IMAGE_FIELD = "image"
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [IMAGE_FIELD],
                "properties": {
                    IMAGE_FIELD: {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "one or more image files in any format Pillow reads, predicted in this order",
                    }
                },
            }
        }
    },
}
STATUSES = {400: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 422: ErrorResponse, 500: ErrorResponse,
            503: ErrorResponse}  # fmt: skip


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


def error(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> JsonResponse:
    """A JSON error answer."""
    return JsonResponse({"detail": detail, "errors": errors or []}, status=status)


class Refusal(Exception):
    """A request the API refuses: `refused` answers it as a JSON error with this status and detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


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


def served_for(request: HttpRequest, content_type: str, images: bool) -> Served:
    """The served model, for a request of `content_type` that sends images or rows; Refusal (503, 422, 415) if not.

    The wrong endpoint for the model is named before the content type: a file sent to /api/predict
    is pointed to /api/predict/image, not told to send JSON.
    """
    try:
        served = store.get()
    except ModelUnavailable as exc:
        raise Refusal(503, f"model unavailable: {exc}") from None
    if isinstance(served.loaded, RecommenderRunner):
        raise Refusal(422, "this model recommends items: POST {\"user\": id} or {\"items\": [ids]} to /api/recommend, "
                           "or GET /api/items/{item}/similar")  # fmt: skip
    if isinstance(served.loaded, TaggerRunner):
        raise Refusal(422, 'this model tags entities in text: POST {"texts": ["..."]} to /api/entities')
    reads_images = image_feature(served.loaded.manifest["features"]) is not None
    if images and not reads_images:
        raise Refusal(422, "this model reads tables, not images: POST JSON instances to /api/predict")
    if reads_images and not images:
        raise Refusal(422, f"this model reads images: POST them as multipart/form-data, field {IMAGE_FIELD!r}, "
                           "to /api/predict/image")  # fmt: skip
    if request.content_type != content_type:
        raise Refusal(415, f"content type must be {content_type}, not {request.content_type or 'none'!r}")
    return served


@api.post("/predict", response={200: PredictResponse, **STATUSES}, summary="Predict for a batch of instances")
def predict_endpoint(request: HttpRequest) -> JsonResponse:
    """Validate {"instances": [{feature: value, ...}]} against the model's features and predict."""
    served = served_for(request, "application/json", images=False)
    try:
        body = request.body
    except RequestDataTooBig:
        return error(413, "request body too large: send fewer instances per request")
    try:
        rows = served.request_model.model_validate_json(body).instances
    except ValidationError as exc:
        metrics.refused(row_reasons(exc))
        if any(item["type"] == "json_invalid" for item in exc.errors()):
            return error(400, "request body is not valid JSON", field_errors(exc))
        return error(422, "invalid instances: each bad field is listed in errors", field_errors(exc))
    try:
        result = predict_rows(served.loaded, rows)
    except NotFinite as exc:  # within each bound, but too large together for the float32 arithmetic
        metrics.refused(["not_finite"] * len(exc.rows))
        return error(422, "instances the model cannot compute: each is listed in errors",
                     [{"field": f"instances[{row}]", "message": str(exc)} for row in exc.rows])  # fmt: skip
    return JsonResponse(answered(served, rows, result, "api"))


@api.post(
    "/predict/image",
    response={200: ImagePredictResponse, **STATUSES},
    summary="Predict for uploaded images",
    openapi_extra={"requestBody": UPLOAD_BODY},
)
def predict_image_endpoint(request: HttpRequest) -> JsonResponse:
    """Read each file of the multipart field `image` as the model's images and predict them, in upload order."""
    served = served_for(request, "multipart/form-data", images=True)
    limit = conf.setting("SERVING_MAX_UPLOAD_BYTES")
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:  # refused before the body is read
        return error(413, f"request body over {limit:,} bytes: send fewer or smaller images per request")
    try:
        uploads = request.FILES.getlist(IMAGE_FIELD)
    except TooManyFilesSent:
        return error(413, f"too many files: send at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} per request")
    except RequestDataTooBig:  # the form's text fields, not its files
        return error(413, f"form fields over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes: send images as files "
                          f"in the field {IMAGE_FIELD!r}")  # fmt: skip
    except MultiPartParserError as exc:
        return error(400, f"malformed multipart body: {exc}")
    if not uploads:
        sent = f" (files came in: {', '.join(sorted(request.FILES))})" if request.FILES else ""
        return error(400, f"no file in the field {IMAGE_FIELD!r}{sent}")
    if len(uploads) > (most := conf.setting("SERVING_MAX_ROWS")):
        return error(413, f"{len(uploads)} images: send at most {most} per request")
    spec, max_pixels = spec_of(served.loaded.manifest["features"][0]), conf.setting("SERVING_MAX_IMAGE_PIXELS")
    images, errors = [], []
    for index, upload in enumerate(uploads):
        try:
            images.append(load_image(upload, spec, upload.name, max_pixels))
        except ImageError as exc:
            errors.append({"field": f"{IMAGE_FIELD}[{index}]", "message": str(exc)})
    if errors:
        metrics.refused(["unreadable_image"] * len(errors))
        return error(422, "unreadable images: each is listed in errors", errors)
    files = [upload.name or f"{IMAGE_FIELD}[{index}]" for index, upload in enumerate(uploads)]
    try:
        result = predict_images(served.loaded, images)
    except NotFinite as exc:
        metrics.refused(["not_finite"] * len(exc.rows))
        return error(422, "images the model cannot compute: each is listed in errors",
                     [{"field": f"{IMAGE_FIELD}[{row}]", "message": str(exc)} for row in exc.rows])  # fmt: skip
    # The log keeps what the monitor compares with training: each image's brightness and contrast.
    logged = [{"file": name, **image_aspects(image)} for name, image in zip(files, images, strict=True)]
    return JsonResponse({"files": files, **answered(served, logged, result, "image")})


def ranked(answer: Any) -> JsonResponse:
    """A recommender's answer, or the Refusal of a model that is not one; fallbacks counted for /metrics."""
    try:
        result = answer()
    except ModelUnavailable as exc:
        raise Refusal(503, f"model unavailable: {exc}") from None
    except NotARecommender as exc:
        raise Refusal(422, str(exc)) from None
    metrics.recommended(len(result["items"]), result["fallback"])
    return JsonResponse(result)


@api.get("/items/{item}/similar", response={200: RankedResponse, **STATUSES}, summary="Items similar to one item")
def similar_endpoint(request: HttpRequest, item: str, k: int = Query(10, ge=1, le=MAX_K)) -> JsonResponse:
    """The k items most like `item` ("you may also like"); an unknown item gets the popular ones, fallback named."""
    return ranked(lambda: similar_answer(item, k))


@api.post("/recommend", response={200: RankedResponse, **STATUSES}, summary="Items for a user or a visitor")
def recommend_endpoint(request: HttpRequest, body: RecommendRequest) -> JsonResponse:
    """{"user": id} or {"items": [ids seen]}, and k: ranked items not yet seen; unknown ids get the popular ones."""
    return ranked(lambda: recommend_answer(body.k, user=body.user, items=body.items))


@api.post("/entities", response={200: EntitiesResponse, **STATUSES}, summary="Entities in texts")
def entities_endpoint(request: HttpRequest, body: EntitiesRequest) -> JsonResponse:
    """{"texts": [...]}: per text, its entities with start and end (character offsets), label, text and confidence."""
    try:
        return JsonResponse(entities_answer(body.texts))
    except ModelUnavailable as exc:
        raise Refusal(503, f"model unavailable: {exc}") from None
    except NotATagger as exc:
        raise Refusal(422, f"{exc}: POST /api/predict") from None


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

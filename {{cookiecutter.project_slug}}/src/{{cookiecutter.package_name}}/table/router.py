"""The table kind's endpoints: POST /api/predict (JSON rows) and POST /api/predict/image (uploaded images)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Router
from pydantic import ValidationError

from ..data.bins import image_aspects
from ..data.images import ImageError, load_image, spec_of
from ..registry.manifest import image_feature
from ..serving import conf, metrics
from ..serving.http import STATUSES, Refusal, error, served_kind
from ..serving.model_store import Served
from ..serving.predictor import NotFinite, predict_images, predict_rows
from ..serving.records import answered
from ..serving.schemas import ImagePredictResponse, PredictResponse, field_errors, row_reasons
from . import TASKS

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
router = Router(tags=["predict"])


def served_for(request: HttpRequest, content_type: str, images: bool) -> Served:
    """The served model, for a request of `content_type` that sends images or rows; Refusal (503, 422, 415) if not.

    The wrong endpoint for the model is named before the content type: a file sent to /api/predict
    is pointed to /api/predict/image, not told to send JSON.
    """
    served = served_kind(TASKS, "predicts rows or images")
    reads_images = image_feature(served.loaded.manifest["features"]) is not None
    if images and not reads_images:
        raise Refusal(422, "this model reads tables, not images: POST JSON instances to /api/predict")
    if reads_images and not images:
        raise Refusal(422, f"this model reads images: POST them as multipart/form-data, field {IMAGE_FIELD!r}, "
                           "to /api/predict/image")  # fmt: skip
    if request.content_type != content_type:
        raise Refusal(415, f"content type must be {content_type}, not {request.content_type or 'none'!r}")
    return served


@router.post("/predict", response={200: PredictResponse, **STATUSES}, summary="Predict for a batch of instances")
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


@router.post(
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

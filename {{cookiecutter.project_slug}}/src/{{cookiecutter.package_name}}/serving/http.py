"""What every endpoint answers alike: a JSON error, a refusal, the statuses OpenAPI lists, the served model."""

from django.http import JsonResponse

from .model_store import ModelUnavailable, Served, store
from .schemas import ErrorResponse

STATUSES = {400: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 422: ErrorResponse, 500: ErrorResponse,
            503: ErrorResponse}  # fmt: skip


def error(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> JsonResponse:
    """A JSON error answer."""
    return JsonResponse({"detail": detail, "errors": errors or []}, status=status)


class Refusal(Exception):
    """A request the API refuses: serving/api.py answers it as a JSON error with this status and detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def served_model() -> Served:
    """The served model; a 503 Refusal, with the reason, when there is none."""
    try:
        return store.get()
    except ModelUnavailable as exc:
        raise Refusal(503, f"model unavailable: {exc}") from None


def served_kind(tasks: tuple[str, ...], endpoints: str) -> Served:
    """The served model when a kind of `tasks` answers this endpoint; a 422 naming the model's own otherwise.

    A project normally holds one kind, so this only happens when a model of another kind is served.
    """
    served = served_model()
    if (task := served.loaded.manifest["task"]) not in tasks:
        raise Refusal(422, f"the served model is a {task} model, not one that {endpoints}: see /api/docs")
    return served

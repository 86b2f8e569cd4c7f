"""The entities kind's endpoint: POST /api/entities."""

from django.http import HttpRequest, JsonResponse
from ninja import Router

from ..serving.http import STATUSES, served_kind
from . import TASKS
from .answers import EntitiesRequest, EntitiesResponse, entities_answer

router = Router(tags=["entities"])


@router.post("/entities", response={200: EntitiesResponse, **STATUSES}, summary="Entities in texts")
def entities_endpoint(request: HttpRequest, body: EntitiesRequest) -> JsonResponse:
    """{"texts": [...]}: per text, its entities with start and end (character offsets), label, text and confidence."""
    served_kind(TASKS, "tags entities")
    return JsonResponse(entities_answer(body.texts))

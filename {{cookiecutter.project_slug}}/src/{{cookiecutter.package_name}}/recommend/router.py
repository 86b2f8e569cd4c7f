"""The recommend kind's endpoints: GET /api/items/{item}/similar and POST /api/recommend."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Query, Router

from ..serving import metrics
from ..serving.http import STATUSES, served_kind
from . import TASKS
from .answers import MAX_K, RankedResponse, RecommendRequest, recommend_answer, similar_answer

router = Router(tags=["recommend"])


def ranked(answer: Callable[[], dict[str, Any]]) -> JsonResponse:
    """A recommender's answer, or the Refusal of a model that is not one; fallbacks counted for /metrics."""
    served_kind(TASKS, "recommends items")
    result = answer()
    metrics.recommended(len(result["items"]), result["fallback"])
    return JsonResponse(result)


@router.get("/items/{item}/similar", response={200: RankedResponse, **STATUSES}, summary="Items similar to one item")
def similar_endpoint(request: HttpRequest, item: str, k: int = Query(10, ge=1, le=MAX_K)) -> JsonResponse:
    """The k items most like `item` ("you may also like"); an unknown item gets the popular ones, fallback named."""
    return ranked(lambda: similar_answer(item, k))


@router.post("/recommend", response={200: RankedResponse, **STATUSES}, summary="Items for a user or a visitor")
def recommend_endpoint(request: HttpRequest, body: RecommendRequest) -> JsonResponse:
    """{"user": id} or {"items": [ids seen]}, and k: ranked items not yet seen; unknown ids get the popular ones."""
    return ranked(lambda: recommend_answer(body.k, user=body.user, items=body.items))

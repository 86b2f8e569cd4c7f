"""A recommender's answers: similar items, and items for a visitor, for the API, the template tag and predict_file."""

from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from ..serving.model_store import Served, store
from ..serving.predictor import model_info
from .ranking import Recommender
from .runtime import RecommenderRunner

MAX_K = 100  # items per answer: a bound on the work and the size of one answer


def plain_id(value: Any) -> Any:
    """An id as the data has it, 42 or "sku-42": never 4.2, true or a list."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"an id is an integer or a string, not {value!r}")
    return value


Id = Annotated[int | str, BeforeValidator(plain_id)]


class RankedItem(Schema):
    """One recommended item: its id, its score (higher is better) and its metadata (data.items) when given."""

    item: Id
    score: float

    model_config = ConfigDict(extra="allow")  # the metadata's columns: title, ...


class RankedResponse(Schema):
    """Ranked items; `fallback` is "popularity" when the answer could not use what it was asked about."""

    items: list[RankedItem]
    fallback: str | None
    model: dict[str, str]


class RecommendRequest(Schema):
    """Either a training user's id, or the item ids a visitor has seen (a session, a basket); k items back."""

    user: Id | None = None
    items: list[Id] | None = Field(default=None, max_length=1000)
    k: int = Field(default=10, ge=1, le=MAX_K)

    @model_validator(mode="after")
    def one_of(self) -> "RecommendRequest":
        if (self.user is None) == (self.items is None):
            raise ValueError('send either "user" (an id) or "items" (a list of item ids), not both or neither')
        return self


class NotARecommender(Exception):
    """The served model predicts rows: it has no items to rank."""


def served_recommender() -> tuple[Served, Recommender]:
    """The served model and its recommender; ModelUnavailable, or NotARecommender for a classifier or regressor."""
    served = store.get()
    if not isinstance(served.loaded, RecommenderRunner) or served.loaded.recommender is None:
        raise NotARecommender(f"the served model is a {served.loaded.manifest['task']} model: POST /api/predict")
    return served, served.loaded.recommender


def similar_answer(item: Any, k: int) -> dict[str, Any]:
    """The k items most like `item`; popular items, and the fallback named, for an unknown item."""
    served, recommender = served_recommender()
    (positions, scores), fallback = recommender.similar_to(item, k)
    return answer(served, recommender, positions, scores, fallback)


def recommend_answer(k: int, user: Any = None, items: list[Any] | None = None) -> dict[str, Any]:
    """The k items for a training user, or for a visitor's seen items; popular ones, named, when nothing is known."""
    served, recommender = served_recommender()
    (positions, scores), fallback = recommender.for_visitor(k, user=user, seen=items)
    return answer(served, recommender, positions, scores, fallback)


def answer(served: Served, recommender: Recommender, positions: Any, scores: Any, fallback: str | None) -> dict:
    """The JSON answer: ranked items with metadata, the fallback, the model."""
    return {
        "items": recommender.ranked(positions, scores),
        "fallback": fallback,
        "model": model_info(served.loaded.manifest),
    }

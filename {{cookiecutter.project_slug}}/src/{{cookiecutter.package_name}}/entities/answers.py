"""An entity tagger's answers: the entities of each text, for the API, the example app and predict_file."""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from ..serving import conf, metrics
from ..serving.model_store import store
from ..serving.predictor import model_info
from .runtime import TaggerRunner
from .tagger import Entity, EntityTagger


def within_length(text: str) -> str:
    """Refuse a text longer than SERVING_MAX_TEXT_CHARS: a bound on one request's work."""
    if len(text) > (most := conf.setting("SERVING_MAX_TEXT_CHARS")):
        raise ValueError(f"{len(text):,} characters: at most {most:,} per text (SERVING_MAX_TEXT_CHARS)")
    return text


class EntitiesRequest(BaseModel):
    """Texts to tag: at most SERVING_MAX_ROWS of them, each at most SERVING_MAX_TEXT_CHARS characters."""

    model_config = ConfigDict(extra="forbid")

    texts: list[Annotated[str, AfterValidator(within_length)]] = Field(
        min_length=1, description="the texts, tagged in this order (an empty text has no entities)"
    )

    @field_validator("texts")
    @classmethod
    def not_too_many(cls, texts: list[str]) -> list[str]:
        if len(texts) > (most := conf.setting("SERVING_MAX_ROWS")):
            raise ValueError(f"{len(texts):,} texts: send at most {most:,} per request (SERVING_MAX_ROWS)")
        return texts


class FoundEntity(BaseModel):
    """One entity: its character offsets in the text (end exclusive), label, covered text and confidence."""

    start: int
    end: int
    label: str
    text: str
    confidence: float = Field(description="the lowest marginal probability of its tokens' tags, 0 to 1")


class EntitiesResponse(BaseModel):
    """The entities of each text, in the order of the texts."""

    entities: list[list[FoundEntity]]
    model: dict[str, str]


def served_tagger() -> tuple[TaggerRunner, EntityTagger]:
    """The served tagger (or ModelUnavailable): its router and example.py are handed a tagger's model only."""
    loaded = store.get().loaded
    assert isinstance(loaded, TaggerRunner) and loaded.tagger is not None  # kinds.py chose this kind by its task
    return loaded, loaded.tagger


def entities_answer(texts: list[str], source: str = "api") -> dict[str, Any]:
    """The JSON answer for validated texts: each one's entities, and the model that found them."""
    loaded, tagger = served_tagger()
    found: list[list[Entity]] = tagger.tag_texts(texts)
    metrics.tagged(found, source)  # type: ignore[arg-type]
    return {"entities": found, "model": model_info(loaded.manifest)}

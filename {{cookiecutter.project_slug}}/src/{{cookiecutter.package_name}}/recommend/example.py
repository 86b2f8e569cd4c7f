"""How the example app uses a recommender: not to label records, but in pages, by the you_may_also_like tag."""

from typing import TYPE_CHECKING, Any

from ..errors import DataError
from ..serving.model_store import Served

if TYPE_CHECKING:
    from ..autolabel.models import Record


def answer(served: Served, record: "Record") -> dict[str, Any]:
    """A recommender labels no record: say so, and where it is used instead."""
    raise DataError("the served model is a recommender: it ranks items (the you_may_also_like tag), not records")

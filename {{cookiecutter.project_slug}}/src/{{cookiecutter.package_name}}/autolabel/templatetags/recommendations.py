"""`{% raw %}{% you_may_also_like item %}{% endraw %}`: the served recommender's similar items, rendered in process.

Load it in a template with `{% raw %}{% load recommendations %}{% endraw %}`, then pass an item id, or an object
whose primary key is the item's id (a Product of your shop): `{% raw %}{% you_may_also_like product k=4 %}{% endraw %}`.
The answer is the one GET /api/items/{item}/similar gives, from the same verified model, with no HTTP in between.
"""

import logging
from typing import Any

from django import template

from ...recommend.answers import MAX_K, NotARecommender, similar_answer
from ...serving.model_store import ModelUnavailable

register = template.Library()
log = logging.getLogger(__name__)


@register.inclusion_tag("autolabel/you_may_also_like.html")
def you_may_also_like(item: Any, k: int = 5) -> dict[str, Any]:
    """The k items most like `item`, each with a label (its first metadata column, else its id); none on failure.

    A page never fails for its recommendations: without a served recommender the box is left out
    and the reason logged.
    """
    try:
        answer = similar_answer(getattr(item, "pk", item), max(1, min(int(k), MAX_K)))
    except (ModelUnavailable, NotARecommender) as exc:
        log.warning("no recommendations for %r: %s", item, exc)
        return {"items": [], "fallback": None}
    for entry in answer["items"]:
        extra = [value for key, value in entry.items() if key not in ("item", "score") and value]
        entry["label"] = extra[0] if extra else str(entry["item"])
    return {"items": answer["items"], "fallback": answer["fallback"]}

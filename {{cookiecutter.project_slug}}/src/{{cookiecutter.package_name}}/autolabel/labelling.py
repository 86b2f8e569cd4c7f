"""The one place the autolabel app talks to the model: a record's inputs in, its label out, in this process.

It goes through the serving app's model store, as the API does, and the served model's kind
answers (its example.py): the same verified model, the same request schema built from the
manifest, the same answer, counted in the metrics and kept in the prediction log (source
"autolabel") like an API call, so the monitor watches it too.
"""

import logging
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from .. import kinds
from ..errors import DataError
from ..serving.model_store import ModelUnavailable, store

if TYPE_CHECKING:
    from .models import Record

log = logging.getLogger(__name__)


def predict(record: "Record") -> dict[str, Any]:
    """The served model's answer for the record, from its kind's example.py (a DataError says what is missing)."""
    served = store.get()
    example = kinds.part(kinds.for_task(served.loaded.manifest["task"]), "example")
    answer: dict[str, Any] = example.answer(served, record)
    return answer


def label(record: "Record") -> None:
    """Label the record in place; when the model cannot, leave the label empty and say why in label_error."""
    try:
        answer = predict(record)
    except (ModelUnavailable, DataError) as exc:
        reason = f"model unavailable: {exc}" if isinstance(exc, ModelUnavailable) else str(exc)
        log.warning("record %s not labelled: %s", record.pk or "(new)", reason)
        record.label, record.confidence, record.model_version, record.labelled_at = "", None, "", None
{%- if cookiecutter.__kind == "entities" %}
        record.entities, record.label_error = [], reason
        return
    record.label = str(answer["predictions"][0])[:255]
    record.entities, record.confidence = answer["entities"], answer["confidence"]  # its least sure find
{%- else %}
        record.label_error = reason
        return
    record.label = str(answer["predictions"][0])[:255]
    record.confidence = max(answer["probabilities"][0]) if answer.get("probabilities") else None
{%- endif %}
    record.model_version = answer["model"]["version"]
    record.labelled_at = timezone.now()
    record.label_error = ""

"""The entities kind: an entity tagger (people, places, ...) learnt from annotated texts.

annotations.py reads them (JSONL or CoNLL BIO); tokens.py is the one tokenizer; tagger.py is the
CRF; metrics.py scores it against a most-frequent-label baseline; prepare.py, train.py and
evaluate.py do the stages' work; artifact.py reads crfsuite's own file (never a pickle); runtime.py,
answers.py and router.py serve it; batch.py scores files; pages.py draws its site pages;
example.py tags the example app's records.
"""

from typing import Any

from ..errors import PipelineError

TASKS = ("entities",)
MODELS = ("crf",)
MONITORED = False  # texts and spans, not features: nothing for the drift monitor to compare
NOT_MONITORED = (
    "the served model is an entity tagger: it reads free text, not features to compare with training; "
    "watch model_entities_found_total by label against model_texts_tagged_total in /metrics instead"
)
CLAIMS: dict[str, Any] = {
    "data": {"entities": None},
    "prepare": dict.fromkeys(("split", "min_examples")),
}


def claims(params: dict[str, Any]) -> bool:
    """Whether the pipeline trains an entity tagger: data.entities is set (train.task auto or entities)."""
    entities, task = (params.get("data") or {}).get("entities"), (params.get("train") or {}).get("task", "auto")
    if task == "entities" and not entities:
        raise PipelineError("train.task entities needs data.entities: the JSONL or CoNLL file of annotated texts")
    if entities and task not in ("auto", "entities"):
        raise PipelineError(f"data.entities is set, so train.task must be auto or entities, not {task!r}")
    return bool(entities)

"""An entity tagger: a CRF over token features (python-crfsuite), its model in crfsuite's own file format.

Tokens get BIO tags (B-PER begins a person, I-PER continues one, O is outside every entity); the
CRF learns them from each token's features (features/tokens.py) and the tags around it. Serving
opens the model file's bytes, verified by its sha256, with crfsuite: nothing is unpickled.
"""

import os
import tempfile
import threading
from pathlib import Path
from typing import Any, TypedDict

import pycrfsuite

from ..formatting import DECIMALS
from .annotations import Annotated, Span
from .tokens import sequence_features, tokenize

OUTSIDE = "O"
DEFAULTS = {"c1": 0.1, "c2": 0.05, "max_iterations": 100, "all_possible_transitions": True}
TAGGERS = {"crf": DEFAULTS}  # train.model: its hyperparameters (L1 and L2 penalties, L-BFGS steps) and defaults


class Entity(TypedDict):
    """An entity found in a text: its character span, label, the text it covers and the tagger's confidence."""

    start: int
    end: int
    label: str
    text: str
    confidence: float


def bio_tags(text: Annotated, tokens: list[tuple[int, int]]) -> list[str]:
    """The BIO tag of each token of an annotated text (its spans fall on token edges: data/annotations.py)."""
    tags = [OUTSIDE] * len(tokens)
    position = {start: index for index, (start, _) in enumerate(tokens)}
    for start, end, label in text.entities:
        index = position[start]
        tags[index] = f"B-{label}"
        while index + 1 < len(tokens) and tokens[index + 1][1] <= end:
            index += 1
            tags[index] = f"I-{label}"
    return tags


def spans_of(tags: list[str], tokens: list[tuple[int, int]]) -> list[tuple[int, int, str, int, int]]:
    """(start, end, label, first token, last token) of each entity the tags mark; an I- without its B- begins one."""
    spans: list[tuple[int, int, str, int, int]] = []
    for index, tag in enumerate(tags):
        if tag == OUTSIDE:
            continue
        prefix, label = tag[0], tag[2:]
        if prefix == "I" and spans and spans[-1][2] == label and spans[-1][4] == index - 1:
            start, _, _, first, _ = spans[-1]
            spans[-1] = (start, tokens[index][1], label, first, index)
        else:
            spans.append((tokens[index][0], tokens[index][1], label, index, index))
    return spans


class EntityTagger:
    """crfsuite's model file and the labels it tags: finds entities in texts, one crfsuite Tagger per thread."""

    def __init__(self, model: bytes, labels: list[str]) -> None:
        self.model, self.labels = model, labels
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:  # model.joblib: the bytes and labels, not the open tagger
        return {"model": self.model, "labels": self.labels}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["model"], state["labels"])  # type: ignore[misc]

    def tagger(self) -> pycrfsuite.Tagger:
        """This thread's crfsuite tagger over the model's bytes (a tagger is not shared between threads)."""
        tagger = getattr(self._local, "tagger", None)
        if tagger is None or self._local.pid != os.getpid():
            tagger = pycrfsuite.Tagger()
            tagger.open_inmemory(self.model)
            self._local.tagger, self._local.pid = tagger, os.getpid()
        return tagger

    def tags(self, words: list[str]) -> list[str]:
        """The most likely BIO tag of each word."""
        return self.tagger().tag(sequence_features(words)) if words else []

    def entities(self, text: str) -> list[Entity]:
        """The entities of one text, each with the lowest marginal probability of its tokens' tags as confidence."""
        tokens = tokenize(text)
        if not tokens:
            return []
        tagger = self.tagger()
        tags = tagger.tag(sequence_features([text[start:end] for start, end in tokens]))
        found = []
        for start, end, label, first, last in spans_of(tags, tokens):
            confidence = min(tagger.marginal(tags[i], i) for i in range(first, last + 1))  # after tag(): its lattice
            confidence = round(confidence, DECIMALS)
            found.append(Entity(start=start, end=end, label=label, text=text[start:end], confidence=confidence))
        return found

    def tag_texts(self, texts: list[str]) -> list[list[Entity]]:
        """The entities of each text, in order."""
        return [self.entities(text) for text in texts]


def train_tagger(texts: list[Annotated], hyperparams: dict[str, Any]) -> EntityTagger:
    """Fit a CRF on the annotated texts with L-BFGS; the same texts and hyperparameters give the same model bytes."""
    options = DEFAULTS | hyperparams
    trainer = pycrfsuite.Trainer(verbose=False)
    trainer.set_params(
        {
            "c1": float(options["c1"]),
            "c2": float(options["c2"]),
            "max_iterations": int(options["max_iterations"]),
            "feature.possible_transitions": bool(options["all_possible_transitions"]),
        }
    )
    labels: set[str] = set()
    for text in texts:
        tokens = tokenize(text.text)
        if tokens:
            trainer.append(sequence_features([text.text[s:e] for s, e in tokens]), bio_tags(text, tokens))
        labels.update(label for _, _, label in text.entities)
    with tempfile.TemporaryDirectory() as folder:  # crfsuite writes its model to a file
        path = Path(folder) / "model.crfsuite"
        trainer.train(str(path))
        return EntityTagger(path.read_bytes(), sorted(labels))


def entity_spans(entities: list[Entity]) -> list[Span]:
    """Found entities as (start, end, label) spans, to compare with annotations."""
    return [(entity["start"], entity["end"], entity["label"]) for entity in entities]

"""Annotated texts for an entity tagger, as annotation tools export them, read and checked.

`data.entities` names the file:
- JSON lines (or a JSON list) of `{"text": ..., "label": [[start, end, "PER"], ...]}`: doccano's
  export (its relation export's `entities` of `start_offset`, `end_offset` and `label` too).
  The spans may also be under `labels`, `entities` (spaCy's training tuples) or `spans`
  (spaCy's and Prodigy's `{"start", "end", "label"}`), or be Label Studio's JSON-MIN
  `{"start", "end", "labels": ["PER"]}`; a full Label Studio task (`data.text` and
  `annotations[0].result`) is read too.
- CoNLL-style BIO (.conll, .bio, .iob, .txt, .tsv): a token and its tag per line (the tag in the
  last column), a blank line between sentences; each sentence becomes a text, tokens joined by spaces.

Every span must lie inside its text, overlap no other and start and end on token edges
(features/tokens.py): what the tagger can learn is what it is checked against.
"""

import json
import random
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import DataError
from .tokens import tokenize

if TYPE_CHECKING:  # the serving image, which imports this module's types, holds no pandas
    import pandas as pd

CONLL_SUFFIXES = (".conll", ".bio", ".iob", ".txt", ".tsv")
SPAN_KEYS = ("label", "labels", "entities", "spans")
Span = tuple[int, int, str]


class Annotated(NamedTuple):
    """One text and its entities: (start, end, label) character spans, sorted."""

    text: str
    entities: list[Span]


def read_annotations(path: Path) -> list[Annotated]:
    """Every annotated text of the file, checked; DataError naming the text and characters of a bad span."""
    if not path.is_file():
        raise DataError(f"data.entities {path} does not exist: point it at a JSONL or CoNLL export of annotations")
    raw = path.read_text(encoding="utf-8-sig")
    if not raw.strip():
        raise DataError(f"{path} is empty: it holds no annotated texts")
    records = conll_records(raw, path) if path.suffix.lower() in CONLL_SUFFIXES else json_records(raw, path)
    texts = [checked(text, spans, f"{path} {where}") for where, text, spans in records]
    if not texts:
        raise DataError(f"{path} holds no annotated texts")
    return texts


def json_records(raw: str, path: Path) -> list[tuple[str, Any, Any]]:
    """(where, text, spans) of each JSON object: a line of JSONL, or an item of a JSON list."""
    if raw.lstrip().startswith("["):
        try:
            items = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not valid JSON: {exc}") from None
        located = [(f"item {number}", item) for number, item in enumerate(items, 1)]
    else:
        located = []
        for number, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                located.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path} line {number} is not valid JSON: {exc}") from None
    return [(where, *text_and_spans(item, f"{path} {where}")) for where, item in located]


def text_and_spans(item: Any, where: str) -> tuple[Any, Any]:
    """An exported object's text and its raw spans, whichever tool wrote it."""
    if not isinstance(item, dict):
        raise DataError(f"{where}: expected an object with a text and its spans: " + '{"text": ..., "label": [...]}')
    if isinstance(item.get("data"), dict) and "annotations" in item:  # a full Label Studio task
        annotations = item["annotations"] or [{}]
        results = annotations[0].get("result") or []
        return item["data"].get("text"), [result.get("value") for result in results if isinstance(result, dict)]
    key = next((key for key in SPAN_KEYS if key in item), None)
    return item.get("text"), (item.get(key) or []) if key else []


def span_of(raw: Any, where: str) -> Span:
    """A span as (start, end, label) from [start, end, label] or {"start", "end", "label" | "labels"}.

    doccano's relation export names the offsets start_offset and end_offset.
    """
    if isinstance(raw, dict):
        labels = raw.get("labels")
        label = raw.get("label", labels[0] if isinstance(labels, list) and labels else None)
        start, end = raw.get("start", raw.get("start_offset")), raw.get("end", raw.get("end_offset"))
    elif isinstance(raw, list | tuple) and len(raw) == 3:
        start, end, label = raw
    else:
        raise DataError(f"{where}: span {raw!r} is neither [start, end, label] nor an object of start, end and label")
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (start, end)):
        raise DataError(f"{where}: span {raw!r} needs whole-number start and end character offsets")
    if not isinstance(label, str) or not label:
        raise DataError(f"{where}: span {raw!r} has no label (a non-empty string)")
    return int(start), int(end), label  # type: ignore[arg-type]  # both checked to be whole numbers above


def checked(text: Any, raw_spans: Any, where: str) -> Annotated:
    """The text and its spans after every check: inside the text, not overlapping, on token edges."""
    if not isinstance(text, str):
        raise DataError(f'{where}: "text" must be a string, not {type(text).__name__}')
    if not isinstance(raw_spans, list):
        raise DataError(f"{where}: the spans must be a list of [start, end, label]")
    spans = sorted(span_of(raw, where) for raw in raw_spans)
    starts, ends = set(), set()
    for start, end in tokenize(text):
        starts.add(start)
        ends.add(end)
    for index, (start, end, label) in enumerate(spans):
        if not 0 <= start < end <= len(text):
            raise DataError(
                f"{where}: span [{start}, {end}, {label!r}] lies outside the text ({len(text)} characters) or is empty"
            )
        if index and start < spans[index - 1][1]:
            before = spans[index - 1]
            raise DataError(
                f"{where}: spans [{before[0]}, {before[1]}, {before[2]!r}] {text[before[0] : before[1]]!r} and "
                f"[{start}, {end}, {label!r}] {text[start:end]!r} overlap: a token has one entity"
            )
        if start not in starts or end not in ends:
            edge = start if start not in starts else end
            raise DataError(
                f"{where}: span [{start}, {end}, {label!r}] {text[start:end]!r} does not fall on token edges "
                f"(character {edge} is inside the word {word_at(text, edge)!r}): tokens are runs of letters and "
                "digits or single punctuation marks, so fix the span to cover whole words"
            )
    return Annotated(text, spans)


def word_at(text: str, position: int) -> str:
    """The token that contains character `position`, for an error message."""
    return next((text[start:end] for start, end in tokenize(text) if start <= position < end), text[position:][:20])


def conll_records(raw: str, path: Path) -> list[tuple[str, Any, Any]]:
    """(where, text, spans) of each sentence of a BIO file: B-X begins an entity, I-X continues it (or begins one)."""
    records: list[tuple[str, Any, Any]] = []
    words: list[str] = []
    tags: list[str] = []
    first = 0
    for number, line in enumerate([*raw.splitlines(), ""], 1):
        parts = line.split()
        if parts and parts[0] == "-DOCSTART-":
            continue
        if not parts:
            if words:
                records.append((f"sentence at line {first}", *bio_spans(words, tags, f"{path} line {first}")))
            words, tags = [], []
            continue
        if len(parts) < 2:
            raise DataError(f"{path} line {number}: expected a token and its tag, found {line.strip()!r}")
        first = first if words else number
        words.append(parts[0])
        tags.append(parts[-1])
    return records


def bio_spans(words: list[str], tags: list[str], where: str) -> tuple[str, list[Any]]:
    """A sentence's tokens joined by spaces, and its BIO tags as character spans of that text."""
    spans: list[list[Any]] = []
    offset = 0
    for word, tag in zip(words, tags, strict=True):
        start, end = offset, offset + len(word)
        offset = end + 1
        if tag == "O":
            continue
        prefix, _, label = tag.partition("-")
        if prefix not in ("B", "I") or not label:
            raise DataError(f"{where}: tag {tag!r} of {word!r} is not O, B-<label> or I-<label>")
        if prefix == "I" and spans and spans[-1][2] == label and spans[-1][1] == start - 1:
            spans[-1][1] = end  # continues the entity before it
        else:
            spans.append([start, end, label])
    return " ".join(words), spans


def label_counts(texts: list[Annotated]) -> Counter[str]:
    """How many entities of each label the texts hold."""
    return Counter(label for text in texts for _, _, label in text.entities)


def require_examples(texts: list[Annotated], minimum: int, path: Path) -> Counter[str]:
    """The label counts; DataError naming each label with fewer than `minimum` entities (too few to evaluate)."""
    counts = label_counts(texts)
    if not counts:
        raise DataError(f"{path}: no text has an entity: annotate some spans to train a tagger")
    rare = {label: count for label, count in sorted(counts.items()) if count < minimum}
    if rare:
        listed = ", ".join(f"{label} ({count})" for label, count in rare.items())
        raise DataError(
            f"{path}: too few entities to train and evaluate: {listed}; each label needs at least {minimum} "
            "(prepare.min_examples): annotate more, or merge or drop the label"
        )
    return counts


def as_frame(texts: list[Annotated]) -> "pd.DataFrame":
    """Texts as the prepared table: the text, and its entities as JSON [[start, end, label], ...]."""
    import pandas as pd

    return pd.DataFrame({"text": [t.text for t in texts], "entities": [json.dumps(t.entities) for t in texts]})


def from_frame(frame: "pd.DataFrame") -> list[Annotated]:
    """The prepared table's texts and entities again."""
    return [
        Annotated(text, [(start, end, label) for start, end, label in json.loads(entities)])
        for text, entities in zip(frame["text"], frame["entities"], strict=True)
    ]


def prepare_entities(data: dict[str, Any], prepare: dict[str, Any]) -> tuple["pd.DataFrame", "pd.DataFrame", dict]:
    """The annotated texts of data.entities, split into train and held-out texts, and their profile."""
    path = Path(data["entities"])
    texts = read_annotations(path)
    counts = require_examples(texts, int(prepare.get("min_examples", 10)), path)
    order = list(range(len(texts)))
    random.Random(prepare["seed"]).shuffle(order)
    held_out = max(1, round(len(texts) * prepare["split"]))
    if held_out >= len(texts):
        raise DataError(f"{path}: {len(texts)} texts cannot be split with prepare.split={prepare['split']}")
    test, train = [texts[i] for i in order[:held_out]], [texts[i] for i in order[held_out:]]
    missing = sorted(set(counts) - set(label_counts(test)))
    if missing:
        raise DataError(
            f"{path}: no held-out text has an entity labelled {', '.join(missing)}: annotate more texts with it, "
            "or raise prepare.split"
        )
    tokens = sum(len(tokenize(text.text)) for text in texts)
    profile = {
        "task": "entities",
        "texts": len(texts),
        "train_texts": len(train),
        "test_texts": len(test),
        "tokens": tokens,
        "entities": dict(sorted(counts.items())),
        "test_entities": dict(sorted(label_counts(test).items())),
        "source": str(path),
    }
    return as_frame(train), as_frame(test), profile

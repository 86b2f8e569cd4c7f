"""Entity-level scores (exact span and label) with seqeval, and the baseline every tagger is measured against.

The baseline tags each word with the tag it had most often in training (O for a word never seen):
what a lookup of known names finds. A tagger earns its place by beating it.
"""

from collections import Counter, defaultdict
from typing import Any

from seqeval.metrics import classification_report

from ..formatting import DECIMALS, table
from .annotations import Annotated
from .tagger import OUTSIDE, EntityTagger, bio_tags
from .tokens import tokenize

SCORES = ("precision", "recall", "f1")


def words_and_tags(texts: list[Annotated]) -> list[tuple[list[str], list[str]]]:
    """Each text's words and their true BIO tags."""
    pairs = []
    for text in texts:
        tokens = tokenize(text.text)
        pairs.append(([text.text[start:end] for start, end in tokens], bio_tags(text, tokens)))
    return pairs


def scores(true: list[list[str]], predicted: list[list[str]], prefix: str = "") -> dict[str, float]:
    """Micro-averaged precision, recall and F1 of whole entities, then each label's, as flat metric names."""
    report: dict[str, Any] = classification_report(true, predicted, output_dict=True, zero_division=0)
    result = {f"{prefix}{name}": round(float(report["micro avg"][key]), DECIMALS)
              for name, key in zip(SCORES, ("precision", "recall", "f1-score"), strict=True)}  # fmt: skip
    for label, row in sorted(report.items()):
        if label.endswith(" avg"):
            continue
        for name, key in zip(SCORES, ("precision", "recall", "f1-score"), strict=True):
            result[f"{prefix}{name}_{label}"] = round(float(row[key]), DECIMALS)
    return result


def most_frequent_tags(texts: list[Annotated]) -> dict[str, str]:
    """The baseline's lookup: each training word's most frequent BIO tag."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for words, tags in words_and_tags(texts):
        for word, tag in zip(words, tags, strict=True):
            counts[word][tag] += 1
    return {word: tally.most_common(1)[0][0] for word, tally in counts.items()}


def entity_metrics(tagger: EntityTagger, train: list[Annotated], test: list[Annotated]) -> dict[str, float]:
    """The tagger's entity scores on the held-out texts, then the baseline's (named baseline_...)."""
    pairs = words_and_tags(test)
    true = [tags for _, tags in pairs]
    lookup = most_frequent_tags(train)
    baseline = [[lookup.get(word, OUTSIDE) for word in words] for words, _ in pairs]
    return scores(true, [tagger.tags(words) for words, _ in pairs]) | scores(true, baseline, "baseline_")


def baseline_table(metrics: dict[str, float | None]) -> str | None:
    """A tagger's entity F1, micro and per label, beside the baseline's and the gain; None for other metrics."""
    if "baseline_f1" not in metrics:
        return None
    labels = sorted(name.removeprefix("baseline_f1_") for name in metrics if name.startswith("baseline_f1_"))
    rows = []
    for name in ("f1", *(f"f1_{label}" for label in labels)):
        model, baseline = metrics.get(name), metrics.get(f"baseline_{name}")
        gain = f"{model - baseline:+.3f}" if model is not None and baseline is not None else ""
        rows.append([name.replace("f1_", "F1 ").replace("f1", "F1 (micro)"), model, baseline, gain])
    return table(["entity score", "model", "most-frequent-tag baseline", "gain"], rows)

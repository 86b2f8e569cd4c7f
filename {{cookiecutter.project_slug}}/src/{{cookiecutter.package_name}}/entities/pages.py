"""An entity tagger's pages: its model card, per-label scores against the baseline, held-out texts highlighted."""

import html
import json
from pathlib import Path
from typing import Any

from ..formatting import table
from ..paths import ENTITY_EXAMPLES_PATH
from ..registry.manifest import Manifest
from ..registry.versions import History
from ..report.cards import current_version
from .metrics import baseline_table

PAGE = "entities.md"


def site(
    root: Path, manifest: Manifest, profile: dict | None, history: History, limitations: str
) -> dict[str, str | bytes]:
    """The model card and the Entities page."""
    card = tagger_card(manifest, profile, history, limitations)
    return {"index.md": card, PAGE: entities_page(root, manifest, profile)}


def own_page(manifest: Manifest) -> tuple[str, str] | None:
    """The Entities page: per-label scores and held-out texts highlighted."""
    return ("Entities", PAGE)


def metrics_note(manifest: Manifest) -> str:
    """Nothing to add to the Metrics page: the entity scores are on the card and the Entities page."""
    return ""


def pr_tables(metrics: dict[str, Any]) -> list[str]:
    """The PR report's baseline table: does the tagger find more than a lookup of known words?"""
    scores = baseline_table(metrics)
    return [f"### Against the most-frequent-tag baseline (this branch)\n\n{scores}"] if scores else []


def data_page(profile: dict | None) -> str:
    """The Data page: the annotated texts, or a note before the first run."""
    return annotations_page(profile) if profile else "# Data\n\nNo data profile yet: run `dvc repro`.\n"


def scores_table(metrics: dict[str, Any], labels: list[str], support: dict[str, int] | None = None) -> str:
    """Precision, recall and F1 of whole entities, micro-averaged and per label, beside the baseline's F1."""
    if "f1" not in metrics:
        return "No entity scores yet: run `dvc repro`.\n"
    rows = []
    for label, suffix in [("all (micro average)", ""), *[(f"`{label}`", f"_{label}") for label in labels]]:
        name = label.strip("`")
        rows.append([
            label, (support or {}).get(name, sum((support or {}).values()) if not suffix else ""),
            *(metrics.get(f"{score}{suffix}") for score in ("precision", "recall", "f1")),
            metrics.get(f"baseline_f1{suffix}"),
        ])  # fmt: skip
    return table(["label", "held-out entities", "precision", "recall", "F1", "baseline F1"], rows)


def marked(text: str, spans: list[tuple[int, int, str]], right: set[tuple[int, int, str]]) -> str:
    """The text as HTML with each span marked by its label, green where it is in `right`, red where not."""
    parts, position = [], 0
    for start, end, label in sorted(spans):
        kind = "entity-hit" if (start, end, label) in right else "entity-miss"
        parts += [
            html.escape(text[position:start]),
            f'<mark class="{kind}">{html.escape(text[start:end])} <sup>{html.escape(label)}</sup></mark>',
        ]
        position = end
    return "".join([*parts, html.escape(text[position:])])


def examples_section(root: Path) -> str:
    """A few held-out texts, their annotated entities above what the model found (reports/entity_examples.json)."""
    path = root / ENTITY_EXAMPLES_PATH
    if not path.is_file():
        return "No held-out examples yet: run `dvc repro` (evaluate writes them).\n"
    lines = ["Green: the model found the annotated entity exactly (span and label). Red: an annotated entity it "
             "missed, or one it found that is not annotated.\n"]  # fmt: skip
    for number, example in enumerate(json.loads(path.read_text()), 1):
        true: set[tuple[int, int, str]] = {(start, end, label) for start, end, label in example["true"]}
        found = {(e["start"], e["end"], e["label"]) for e in example["found"]}
        lines += [
            f"**Text {number}**\n",
            f'<p class="entity-text"><em>annotated</em><br>{marked(example["text"], sorted(true), found)}</p>\n',
            f'<p class="entity-text"><em>found</em><br>{marked(example["text"], sorted(found), true)}</p>\n',
        ]
    return "\n".join(lines)


def entities_page(root: Path, manifest: Manifest, profile: dict | None) -> str:
    """Per-label scores against the baseline, then held-out texts with their true and found entities."""
    labels = manifest["tagger"]["labels"]
    return "\n".join([
        "# Entities\n",
        "Scores count whole entities: one is right only when both its span and its label match the annotation "
        "(seqeval). The baseline tags each word with the tag it had most often in training: a model is worth "
        "serving only where it beats it.\n",
        scores_table(manifest.get("metrics", {}), labels, (profile or {}).get("test_entities")),
        "## Held-out texts\n",
        examples_section(root),
    ])  # fmt: skip


def tagger_card(manifest: Manifest, profile: dict | None, history: History, limitations: str) -> str:
    """The home page of an entity tagger: what it finds, from what, how well against the baseline, how to call it."""
    settings, metrics = manifest["tagger"], manifest.get("metrics", {})
    labels = ", ".join(f"`{label}`" for label in settings["labels"])
    package = __package__.split(".")[0]
    example = "Ada Lovelace wrote to Charles Babbage from London."
    return "\n".join([
        "# Model card\n",
        f"A conditional random field (`train.model: {settings['model']}`, python-crfsuite) that finds entities in "
        f"text and labels each one: {labels}. It learnt from {manifest['data']['train_rows']:,} annotated texts; "
        f"on the held-out ones its entity F1 is {metrics.get('f1')} against the baseline's "
        f"{metrics.get('baseline_f1')}.\n",
        "## Current version\n",
        current_version(manifest, history, "python-crfsuite", settings["file"]),
        "## Scores\n",
        scores_table(metrics, settings["labels"], (profile or {}).get("test_entities")),
        f"See [Entities]({PAGE}) for held-out texts with their entities, and [History](history.md) for every "
        "version.\n",
        "## Data\n",
        annotations_summary(profile),
        "## Use the model\n",
        "```python\n"
        f"from {package}.entities.artifact import load_tagger\n\n"
        "tagger = load_tagger().tagger  # refuses a model.crfsuite whose sha256 differs from models/model.json\n"
        f"tagger.entities({json.dumps(example)})\n"
        "```\n",
{%- if cookiecutter.use_django == "yes" %}
        "## Call the API\n",
        "Served by the Django app (`make api` locally) from `models/model.crfsuite`, never unpickled:\n",
        "```bash\n"
        "curl -s -X POST http://127.0.0.1:8000/api/entities -H 'Content-Type: application/json' \\\n"
        f"     -d '{json.dumps({'texts': [example]})}'\n"
        "```\n",
{%- endif %}
        "## Limitations\n",
        limitations,
    ])  # fmt: skip


def annotations_summary(profile: dict | None) -> str:
    """The annotated texts in one paragraph."""
    if profile is None:
        return "No data profile yet: run `dvc repro`.\n"
    counts = ", ".join(f"{count:,} `{label}`" for label, count in profile["entities"].items())
    return (
        f"{profile['texts']:,} annotated texts ({profile['tokens']:,} tokens) with {counts}; "
        f"{profile['test_texts']:,} texts held out to evaluate. Details on the [Data](data.md) page.\n"
    )


def annotations_page(profile: dict) -> str:
    """The Data page of an entity tagger: texts, tokens and entities per label, in training and held out."""
    rows: list[list[Any]] = [
        ["source", f"`{profile['source']}`"], ["texts", profile["texts"]], ["train texts", profile["train_texts"]],
        ["held-out texts", profile["test_texts"]], ["tokens", profile["tokens"]],
    ]  # fmt: skip
    labels = table(
        ["label", "entities", "held out"],
        [[f"`{label}`", count, profile["test_entities"].get(label, 0)] for label, count in profile["entities"].items()],
    )
    return "\n".join([
        "# Data\n",
        "The annotated texts the tagger learnt from (`reports/data_profile.json`, written by the `prepare` stage).\n",
        table(["", "value"], rows),
        "## Entities by label\n",
        labels,
    ])  # fmt: skip

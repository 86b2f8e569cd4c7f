"""A recommender's pages: its model card, the ranking metrics against the popularity baseline, sample neighbours."""

import json
from pathlib import Path
from typing import Any

from ..errors import ModelIntegrityError
from ..formatting import table
from ..paths import MODEL_PATH
from ..registry.manifest import Manifest
from ..registry.versions import History
from ..report.cards import current_version
from .artifact import load_recommender
from .ranking import Recommender
from .ranking_metrics import lift_table

PAGE = "recommendations.md"
SAMPLE_ITEMS = 5  # the most popular items, each shown with its neighbours
SAMPLE_NEIGHBOURS = 5


def site(
    root: Path, manifest: Manifest, profile: dict | None, history: History, limitations: str
) -> dict[str, str | bytes]:
    """The model card and the Recommendations page."""
    card = recommender_card(manifest, profile, history, limitations)
    return {"index.md": card, PAGE: recommendations_page(root, manifest)}


def own_page(manifest: Manifest) -> tuple[str, str] | None:
    """The Recommendations page: the lift over popularity and sample neighbours."""
    return ("Recommendations", PAGE)


def metrics_note(manifest: Manifest) -> str:
    """Nothing to add to the Metrics page: the ranking metrics are on the card and the Recommendations page."""
    return ""


def pr_tables(metrics: dict[str, Any]) -> list[str]:
    """The PR report's lift table: is the model still worth more than the most popular items?"""
    return [f"### Against the popularity baseline (this branch)\n\n{lift}"] if (lift := lift_table(metrics)) else []


def data_page(profile: dict | None) -> str:
    """The Data page: the interactions, or a note before the first run."""
    return interactions_page(profile) if profile else "# Data\n\nNo data profile yet: run `dvc repro`.\n"


def against_baseline(manifest: Manifest) -> str:
    """The ranking metrics at k of the model beside the popularity baseline's, and the lift."""
    return lift_table(manifest.get("metrics", {})) or "No ranking metrics yet: run `dvc repro`.\n"


def title_of(recommender: Recommender, position: int) -> str:
    """An item's id and, when data.items gave metadata, its first column (a name or title)."""
    item = recommender.items[position].item()
    if recommender.metadata is None or not recommender.metadata.shape[1]:
        return f"`{item}`"
    return f"{recommender.metadata[position][0]} (`{item}`)"


def neighbours_table(recommender: Recommender) -> str:
    """The most popular items, each with its most similar items and their scores."""
    popular, _ = recommender.popular(SAMPLE_ITEMS)
    rows = []
    for position in popular.tolist():
        found, scores = recommender.similar(position, SAMPLE_NEIGHBOURS)
        pairs = zip(found.tolist(), scores.tolist(), strict=True)
        similar = ", ".join(f"{title_of(recommender, neighbour)} {score:.2f}" for neighbour, score in pairs)
        rows.append([title_of(recommender, position), similar or "none (the popularity model keeps no similarities)"])
    return table(["item", f"most similar items (cosine), {SAMPLE_NEIGHBOURS} at most"], rows)


def recommendations_page(root: Path, manifest: Manifest) -> str:
    """The ranking metrics against the baseline, then a few items and their neighbours."""
    k = manifest["recommender"]["k"]
    lines = [
        "# Recommendations\n",
        f"Each user with held-out interactions gets {k} items from their training history (never one they "
        "had); the held-out items are the right answers. The popularity baseline recommends the most "
        "interacted-with items to everyone: a model is worth serving only where it beats it.\n",
        against_baseline(manifest),
        f"{manifest['metrics'].get('users_evaluated')} users evaluated. Coverage: the share of the catalogue that "
        "appears in at least one list.\n",
        "## Sample items and their neighbours\n",
    ]
    try:
        recommender = load_recommender(root / MODEL_PATH).recommender
    except (ModelIntegrityError, OSError) as exc:
        return "\n".join([*lines, f"The model's arrays cannot be read: {exc}\n"])
    return "\n".join([*lines, "What `GET /api/items/{item}/similar` answers for the most popular items:\n",
                      neighbours_table(recommender)])  # fmt: skip


def recommender_card(manifest: Manifest, profile: dict | None, history: History, limitations: str) -> str:
    """The home page of a recommender: what it ranks, from what, how well against the baseline, how to call it."""
    settings, data = manifest["recommender"], manifest["data"]
    example = (profile or {}).get("top_item", 1)  # the most interacted-with item, for the examples
    package = __package__.split(".")[0]
    return "\n".join([
        "# Model card\n",
        f"A `{manifest['estimator']}` (`train.model: {settings['model']}`) that recommends items: for an item, the "
        f"items most like it; for a user or a visitor, {settings['k']} items they have not had. It learnt from "
        f"{data['train_rows']:,} interactions of {data['users']:,} users with {data['items']:,} items.\n",
        "## Current version\n",
        current_version(manifest, history, "implicit", settings["file"]),
        "## Against the popularity baseline\n",
        against_baseline(manifest),
        f"See [Recommendations]({PAGE}) for sample neighbours and [History](history.md) for every version.\n",
        "## Data\n",
        interactions_summary(profile),
        "## Use the model\n",
        "```python\n"
        f"from {package}.recommend.artifact import load_recommender\n\n"
        "recommender = load_recommender().recommender  # refuses arrays whose sha256 differs from models/model.json\n"
        f"(items, scores), fallback = recommender.similar_to({json.dumps(example)}, k=5)\n"
        "recommender.ranked(items, scores)\n"
        "```\n",
{%- if cookiecutter.use_django == "yes" %}
        "## Call the API\n",
        "Served by the Django app (`make api` locally) from `models/model.npz`, never unpickled:\n",
        "```bash\n"
        f"curl -s 'http://127.0.0.1:8000/api/items/{example}/similar?k=5'\n"
        "curl -s -X POST http://127.0.0.1:8000/api/recommend -H 'Content-Type: application/json' \\\n"
        f"     -d '{json.dumps({'items': [example], 'k': 5})}'\n"
        "```\n",
        "An unknown user or item gets the popular items, with `\"fallback\": \"popularity\"` in the answer.\n",
{%- endif %}
        "## Limitations\n",
        limitations,
    ])  # fmt: skip


def interactions_summary(profile: dict | None) -> str:
    """The interactions in one paragraph."""
    if profile is None:
        return "No data profile yet: run `dvc repro`.\n"
    return (
        f"{profile['rows']:,} interactions of {profile['users']:,} users with {profile['items']:,} items "
        f"(density {profile['density']:.2%}); {profile['test_rows']:,} held out from {profile['test_users']:,} users "
        "to evaluate. Details on the [Data](data.md) page.\n"
    )


def interactions_page(profile: dict) -> str:
    """The Data page of a recommender: counts and spreads of the interactions."""
    rows: list[list[Any]] = [
        ["interactions", profile["rows"]], ["users", profile["users"]], ["items", profile["items"]],
        ["density", f"{profile['density']:.2%}"], ["train interactions", profile["train_rows"]],
        ["held-out interactions", profile["test_rows"]], ["users with held-out interactions", profile["test_users"]],
    ]  # fmt: skip
    for name in ("per_user", "per_item"):
        spread = profile[name]
        rows.append([f"interactions {name.replace('_', ' ')}", f"{spread['min']} / {spread['median']} / {spread['max']}"
                     " (min / median / max)"])  # fmt: skip
    for name in ("rating", "time"):
        if name in profile:
            rows.append([name, ", ".join(f"{key} {value}" for key, value in profile[name].items())])
    if profile.get("metadata"):
        rows.append(["item metadata", ", ".join(f"`{column}`" for column in profile["metadata"])])
    return "\n".join([
        "# Data\n",
        "The interactions the recommender learnt from (`reports/data_profile.json`, written by the `prepare` stage).\n",
        table(["", "value"], rows),
    ])  # fmt: skip

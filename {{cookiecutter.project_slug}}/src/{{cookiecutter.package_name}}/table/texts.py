"""The model card's text section: the text columns, the terms that weigh most per class, misclassified texts."""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..data.schema import split_xy
from ..errors import ModelIntegrityError
from ..formatting import excerpt
from ..paths import MODEL_PATH, TEST_PATH
from ..registry.artifacts import load_model
from ..registry.manifest import Manifest

TOP_TERMS = 10  # per class
MISCLASSIFIED_ROWS = 20


def text_columns(manifest: Manifest) -> list[str]:
    """The names of the manifest's text features (data.text)."""
    return [f["name"] for f in manifest["features"] if f["kind"] == "text"]


def text_section(root: Path, manifest: Manifest) -> list[str]:
    """Markdown for a text project: its columns and, for a linear classifier, its top terms and its mistakes."""
    columns = text_columns(manifest)
    if not columns:
        return []
    lines = ["## Text\n", "Input kind: text. Text columns: " + ", ".join(f"`{name}`" for name in columns) + ".\n"]
    if manifest["task"] != "classification" or not (root / TEST_PATH).is_file():
        return lines
    try:
        model = load_model(root / MODEL_PATH).model
    except (ModelIntegrityError, OSError):
        return lines  # the model card says elsewhere that the model is missing or stale
    if hasattr(model[-1], "coef_"):
        assert manifest["classes"] is not None  # a classifier's manifest lists its classes
        lines += ["### Terms that weigh most for each class\n", top_terms(model, manifest["classes"])]
    features, labels = split_xy(pd.read_parquet(root / TEST_PATH), manifest["target"])
    lines += ["### Misclassified test examples\n", misclassified(model, features, labels, columns)]
    return lines


def top_terms(model: Pipeline, classes: list) -> str:
    """For each class, the TEXT terms with the largest positive weights of the linear model."""
    names = model[:-1].get_feature_names_out()
    text = np.array([name.startswith("text_") for name in names])
    terms = np.array([name.split("__", 1)[1] for name in names], dtype=object)
    weights = model[-1].coef_
    if len(weights) == 1:  # binary: one row of weights, for the second class; the first's are its negatives
        weights = np.vstack([-weights[0], weights[0]])
    rows = []
    for label, row in zip(classes, weights, strict=True):
        order = [i for i in np.argsort(-row) if text[i]][:TOP_TERMS]
        rows.append(f"| {label} | " + ", ".join(f"{terms[i]} ({row[i]:.2f})" for i in order) + " |")
    return "\n".join(["| class | terms (weight) |", "|---|---|", *rows]) + "\n"


def misclassified(model: Pipeline, features: pd.DataFrame, labels: pd.Series, columns: list[str]) -> str:
    """The test rows the model gets wrong (the first MISCLASSIFIED_ROWS), their text cut to EXCERPT_CHARS."""
    predicted = model.predict(features)
    wrong = np.flatnonzero(predicted != labels.to_numpy())
    if not len(wrong):
        return "None: the model classifies every test example right.\n"
    lines = [f"{len(wrong)} of {len(labels)} test examples.\n"]
    lines += ["| " + " | ".join([*columns, "true", "predicted"]) + " |", "|" + "---|" * (len(columns) + 2)]
    for index in wrong[:MISCLASSIFIED_ROWS]:
        texts = [excerpt(str(features[name].iloc[index])) for name in columns]
        lines.append("| " + " | ".join([*texts, str(labels.iloc[index]), str(predicted[index])]) + " |")
    return "\n".join(lines) + "\n"

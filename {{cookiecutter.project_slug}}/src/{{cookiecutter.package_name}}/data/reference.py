"""What the monitor compares served data with: each feature's training distribution, binned (reports/reference.json).

A feature is watched through its aspects: a number's or a category's values, a date's month and
weekday, a text's length and share of words unseen in training, an image's brightness and
contrast. Each aspect is binned once here, from the training rows; the monitor bins served rows
with the same `bin_counts`, so both sides are counted alike.
"""

import re
from collections import Counter
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..formatting import DECIMALS, rounded
from ..registry.manifest import Feature
from .bins import IMAGE_ASPECTS, OUTSIDE, Check
from .schema import feature_schema

BINS = 10  # a number's bins: the training deciles
TOP_CATEGORIES = 20  # a category's most frequent values get a bin each; the rest share "other"
VOCABULARY = 20_000  # a text feature's most frequent training words; the others count as unknown
WORDS = re.compile(r"(?u)\b\w\w+\b")  # TfidfVectorizer's default tokens


def words(text: Any) -> list[str]:
    """The lower-cased words of a text, as TF-IDF reads them."""
    return WORDS.findall(str(text).lower()) if isinstance(text, str) else []


def vocabulary(texts: pd.Series) -> set[str]:
    """The VOCABULARY most frequent words of training texts."""
    counts = Counter(word for text in texts for word in words(text))
    return {word for word, _ in counts.most_common(VOCABULARY)}


def unknown_share(texts: pd.Series, known: set[str]) -> pd.Series:
    """Per text, the share of its words outside `known` (NaN for a text without words)."""
    shares = [np.mean([word not in known for word in found]) if (found := words(text)) else np.nan for text in texts]
    return pd.Series(shares, index=texts.index, dtype=float)


def aspects(rows: pd.DataFrame, features: list[Feature], known_words: dict[str, set[str]]) -> dict[str, pd.Series]:
    """Each watched aspect of `rows` (a table, or an image's brightness and contrast columns), by check name.

    A column left out of `rows` (a feature no served row sent) counts as missing.
    """

    def column(name: str) -> pd.Series:
        return rows[name] if name in rows else pd.Series(np.nan, index=rows.index, dtype=object)

    found: dict[str, pd.Series] = {}
    for feature in features:
        name, kind = feature["name"], feature["kind"]
        if kind == "image":
            for aspect in IMAGE_ASPECTS:
                found[f"{name} ({aspect})"] = pd.to_numeric(column(aspect), errors="coerce")
        elif kind == "number":
            found[name] = pd.to_numeric(column(name), errors="coerce")
        elif kind == "category":
            values = column(name)
            found[name] = values.astype(str).where(values.notna())
        elif kind == "date":
            dates = pd.to_datetime(column(name), format="ISO8601", errors="coerce", utc=True)
            found[f"{name} (month)"] = dates.dt.month_name().where(dates.notna())
            found[f"{name} (weekday)"] = dates.dt.day_name().where(dates.notna())
        elif kind == "text":
            texts = column(name)
            found[f"{name} (length)"] = texts.map(lambda text: len(text) if isinstance(text, str) else np.nan)
            found[f"{name} (unknown words)"] = unknown_share(texts, known_words.get(name, set()))
    return found


def check_kind(feature: Feature, aspect: str) -> Literal["number", "category"]:
    """Whether an aspect is binned as numbers or counted as categories."""
    return "category" if feature["kind"] == "category" or aspect in ("month", "weekday") else "number"


def bin_counts(check: Check, values: pd.Series) -> np.ndarray:
    """How many of `values` fall in each of the check's bins, "missing" last."""
    missing = values.isna().to_numpy()
    if check["kind"] == "category":
        index = {value: position for position, value in enumerate(check["values"])}
        other = len(index)
        positions = np.array([index.get(value, other) for value in values[~missing]], dtype=int)
        bins = len(index) + 1
    else:
        numbers = values[~missing].to_numpy(dtype=float)
        positions, bins = np.searchsorted(np.asarray(check["edges"]), numbers, side="right"), len(check["edges"]) + 1
    return np.append(np.bincount(positions, minlength=bins), missing.sum())


def number_edges(values: pd.Series) -> list[float]:
    """Edges at the deciles of `values` (none that would leave a bin empty), and at the ends of their range.

    The lowest and highest training values get a bin each ('<= min', '>= max'), which served values
    at or beyond training's extremes join: a new value is as likely as a training one to be the
    lowest of all, so both samples fill these bins alike when nothing changed (a bin training left
    empty would make every served value past its range look like drift). The ends lie a hair
    inside the range, so a float32 training value sent back as JSON falls in the same bin. A
    constant (a text's unknown words, all 0) gets 'below', 'equal' and 'above' instead: any change shows.
    """
    present = values.dropna().to_numpy(dtype=float)
    if not len(present):
        return []
    deciles = sorted({float(edge) for edge in np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1])})
    counts = np.bincount(np.searchsorted(deciles, present, side="right"), minlength=len(deciles) + 1)
    filled = [edge for position, edge in enumerate(deciles) if counts[position] and counts[position + 1]]
    inner = [round(edge, DECIMALS) for edge in filled]
    low, high = float(present.min()), float(present.max())
    margin = OUTSIDE * max(abs(low), abs(high), 1.0)
    if high - low <= 2 * margin:  # a constant
        return [low - margin, high + margin]
    return [low + margin, *[edge for edge in inner if low + margin < edge < high - margin], high - margin]


def summary(values: pd.Series, kind: str) -> str:
    """A line describing values: 'mean 14.1, sd 3.52, 0% missing', or the most frequent category."""
    missing = f"{values.isna().mean():.0%} missing"
    present = values.dropna()
    if not len(present):
        return missing
    if kind == "category":
        top = present.value_counts()
        return f"{top.iloc[0] / len(present):.0%} {str(top.index[0])!r} (of {len(top)} values), {missing}"
    return f"mean {present.mean():.4g}, sd {present.std(ddof=0):.4g}, {missing}"


def reference_check(name: str, feature: str, aspect: str, kind: Literal["number", "category"], values: pd.Series
                    ) -> Check:  # fmt: skip
    """The training distribution of one aspect."""
    top = values.dropna().value_counts().head(TOP_CATEGORIES).index if kind == "category" else []
    check: Check = {"name": name, "feature": feature, "aspect": aspect, "kind": kind,
                    "edges": number_edges(values) if kind == "number" else [], "values": [str(v) for v in top],
                    "counts": [], "summary": summary(values, kind)}  # fmt: skip
    check["counts"] = bin_counts(check, values).tolist()
    return check


def reference(train: pd.DataFrame, test: pd.DataFrame, features: list[Feature]) -> dict[str, Any]:
    """Every feature's checks from the training rows; a text's unknown words measured on the test rows.

    The test rows are new to the training vocabulary as served texts are, so their unknown-word
    share is what served texts should show; the training rows themselves would show almost none.
    """
    known = {f["name"]: vocabulary(train[f["name"]]) for f in features if f["kind"] == "text"}
    checks = []
    for name, values in aspects(train, features, known).items():
        feature = next(f for f in features if name == f["name"] or name.startswith(f"{f['name']} ("))
        aspect = name[len(feature["name"]) + 2 : -1] if name != feature["name"] else "value"
        if aspect == "unknown words":
            values = aspects(test, [feature], known)[name]
        checks.append(reference_check(name, feature["name"], aspect, check_kind(feature, aspect), values))
    return {"rows": len(train), "checks": checks, "vocabulary": {name: sorted(words) for name, words in known.items()}}


def image_table(pixels: pd.DataFrame) -> pd.DataFrame:
    """An image table's pixel columns as its images' brightness and contrast, the aspects the monitor watches."""
    values = pixels.to_numpy(dtype=np.float32)
    return pd.DataFrame({"brightness": values.mean(axis=1), "contrast": values.std(axis=1)}, index=pixels.index)


def training_reference(
    train: pd.DataFrame, test: pd.DataFrame, target: str, image: Feature | None, text: tuple[str, ...]
) -> dict[str, Any]:
    """The reference of prepare's split: the features of an image table watched as brightness and contrast."""
    train_x, test_x = train.drop(columns=[target]), test.drop(columns=[target])
    if image is not None:
        return reference(image_table(train_x), image_table(test_x), [image])
    return reference(train_x, test_x, feature_schema(train_x, text))


def predictions_reference(predictions: np.ndarray, task: str, sha256: str) -> dict[str, Any]:
    """The model's answers on the test rows, binned like a feature: served answers should look alike."""
    if task == "classification":
        check = reference_check("prediction", "prediction", "class", "category", pd.Series(predictions).astype(str))
    else:
        check = reference_check("prediction", "prediction", "value", "number", pd.Series(predictions, dtype=float))
    return {"model_sha256": sha256, "rows": len(predictions), "check": check}


def served_ranges(features: pd.DataFrame, labels: pd.Series, schema: list[Feature], task: str) -> dict[str, Any]:
    """For the manifest: each number feature's training range, and a regression target's deciles (serving's metrics)."""
    ranges = {
        spec["name"]: [rounded(features[spec["name"]].min()), rounded(features[spec["name"]].max())]
        for spec in schema
        if spec["kind"] == "number"
    }
    deciles = []
    if task == "regression":
        deciles = np.quantile(labels.to_numpy(dtype=float), np.linspace(0, 1, BINS + 1)).tolist()
    return {"ranges": ranges, "target_deciles": sorted({float(rounded(value)) for value in deciles})}  # type: ignore[arg-type]

"""A watched aspect's bins, as the monitor and the server's /metrics both name them, with numpy alone.

The serving image holds no pandas: what the server needs of the training reference lives here.
"""

from itertools import pairwise
from typing import Literal, TypedDict

import numpy as np

OUTSIDE = 1e-6  # how far (relative) inside the training range its end edges lie: more than float32's rounding
MISSING, OTHER = "missing", "other"
IMAGE_ASPECTS = ("brightness", "contrast")


class Check(TypedDict):
    """One watched aspect of a feature and its training distribution."""

    name: str  # the feature, or "feature (aspect)"
    feature: str
    aspect: str
    kind: Literal["number", "category"]
    edges: list[float]  # number: the training range's ends around the deciles; a value goes right of each it reaches
    values: list[str]  # category: the values with a bin of their own
    counts: list[int]  # training rows per bin (bins(), then "missing")
    summary: str


def image_aspects(pixels: np.ndarray) -> dict[str, float]:
    """An image's brightness (mean pixel) and contrast (their standard deviation), as the model sees it."""
    return {"brightness": round(float(np.mean(pixels)), 6), "contrast": round(float(np.std(pixels)), 6)}


def bin_labels(check: Check) -> list[str]:
    """The bins' names, for reports: '<= 6.98' (training's lowest), '6.98 to 11.7', ..., '>= 28.1'; or categories."""
    if check["kind"] == "category":
        return [*check["values"], OTHER, MISSING]
    edges = [f"{0.0 if abs(edge) < 10 * OUTSIDE else edge:.4g}" for edge in check["edges"]]  # 0, not 1e-06
    if not edges:
        return ["any", MISSING]
    if len(edges) == 2 and check["edges"][0] < check["edges"][1] and edges[0] == edges[1]:  # a constant
        return [f"< {edges[0]}", f"= {edges[0]}", f"> {edges[0]}", MISSING]
    inner = [f"{low} to {high}" for low, high in pairwise(edges)]
    return [f"<= {edges[0]}", *inner, f">= {edges[-1]}", MISSING]

"""Is a served aspect distributed as in training? A chi-square test on the reference's bins, and a distance.

Each check bins the served values as its training values were binned (data/reference.py) and asks
two questions: could both samples come from one distribution (the chi-square test of homogeneity
on their counts, its p-value corrected for the number of checks: Bonferroni), and are their shares
far apart (Jensen-Shannon distance, 0 to 1)? The test weighs both samples' chance variation: the
training shares are an estimate too, and taking them as exact would alarm on a small training set.
Its p-value comes from random tables with the same margins (see RESAMPLES), not the chi-square
distribution, which is wrong for bins with few rows.
A check drifts only when both say so: the test keeps a run of many checks from alarming by chance,
and the distance keeps a large window from alarming on a shift too small to matter.
"""

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import MonteCarloMethod, chi2_contingency

from ..data.bins import Check, bin_labels
from ..data.reference import bin_counts, summary
from ..formatting import rounded

# The chi-square's p-value is found by drawing at least this many random tables with the same margins
# (SciPy's Monte Carlo method; more with many checks: see resamples()): the textbook chi-square
# distribution alarms too often on sparse bins, such as the ones beyond the training range that a
# few served values reach. Seeded: a rerun gives the same verdict.
RESAMPLES = 9_999
SEED = 0
# How a check's numbers are shown: two digits say enough of a p-value.
FORMATS = {"statistic": ".4g", "p_value": ".2g", "p_adjusted": ".2g", "distance": ".2f"}


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts as shares of their total (all zero for no counts)."""
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def resamples(checks: int, p_value: float) -> int:
    """Random tables per test: enough to resolve p-values 20 times under the Bonferroni threshold."""
    return max(RESAMPLES, math.ceil(20 * checks / p_value))


def chi_square(training: np.ndarray, served: np.ndarray, draws: int = RESAMPLES) -> tuple[float, float]:
    """The statistic and p-value of the two samples' counts, over the bins either holds (a new category too)."""
    used = (training > 0) | (served > 0)
    if used.sum() < 2 or not served.sum():  # one bin holds everything on both sides: nothing to compare
        return 0.0, 1.0
    table = np.vstack([training[used], served[used]]).astype(int)
    resampling = MonteCarloMethod(n_resamples=draws, rng=np.random.default_rng(SEED))
    result = chi2_contingency(table, correction=False, method=resampling)
    return float(result.statistic), float(result.pvalue)


def compare(check: Check, values: pd.Series, checks: int, p_value: float, distance: float) -> dict[str, Any]:
    """One check's verdict on the served values, with both distributions for the report."""
    training, served = np.asarray(check["counts"], dtype=float), bin_counts(check, values).astype(float)
    statistic, p = chi_square(training, served, resamples(checks, p_value))
    apart = float(jensenshannon(shares(training), shares(served), base=2)) if served.sum() else 0.0
    adjusted = min(1.0, p * checks)
    return {
        "feature": check["feature"],
        "aspect": check["aspect"],
        "name": check["name"],
        "kind": check["kind"],
        "test": "chi-square",
        "reference": "training",  # the answers' check compares with the test set's answers instead
        "statistic": rounded(statistic),
        "p_value": float(f"{p:.3g}"),
        "p_adjusted": float(f"{adjusted:.3g}"),
        "distance": rounded(apart),
        "drifted": bool(adjusted < p_value and apart >= distance),
        "bins": bin_labels(check),
        "training": [rounded(share) for share in shares(training)],
        "served": [rounded(share) for share in shares(served)],
        "summary": {"training": check["summary"], "served": summary(values, check["kind"])},
    }


def numbers(check: dict[str, Any]) -> dict[str, str]:
    """A check's statistic, p-values and distance as text (empty when the monitor could not compute one)."""
    return {key: "" if check.get(key) is None else format(check[key], spec) for key, spec in FORMATS.items()}


def line(result: dict[str, Any]) -> str:
    """A drifted check in one line: name, test, statistic, p-value, distance, served vs its reference."""
    shown = numbers(result)
    return (
        f"drift: {result['name']}: {result['test']} {shown['statistic']}, p {shown['p_value']} "
        f"(adjusted {shown['p_adjusted']}), Jensen-Shannon distance {shown['distance']}: "
        f"served {result['summary']['served']}; {result.get('reference', 'training')} {result['summary']['training']}"
    )

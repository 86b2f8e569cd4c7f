"""Has the served model's quality fallen? Its live metric on the labelled rows against its test-set figure.

A bare difference would alarm on noise: 20 labels at a true accuracy of 0.89 come out below 0.80
one time in nine. So each metric gets a one-sided test that knows the sample size, and alarms only
when the live figure is worse than the test figure by more than the tolerance (`monitor:` in
params.yaml), at the monitor's p-value:
- accuracy: the binomial test of the right answers against test accuracy minus `max_drop`;
- macro F1: a seeded bootstrap of the labelled rows, against test F1 minus `max_drop`;
- mean absolute error: a one-sample t-test of the absolute errors against test MAE x (1 + `max_mae_increase`).
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest, ttest_1samp

from ..formatting import counted, rounded

BOOTSTRAPS = 2_000
SEED = 0


@dataclass(frozen=True)
class QualityLimits:
    """The quality part of params.yaml's `monitor:` section."""

    metric: str  # accuracy or f1_macro for a classifier; a regressor is judged by mae
    min_labels: int
    max_drop: float
    max_mae_increase: float
    p_value: float


def metric_of(task: str, limits: QualityLimits) -> str:
    """The metric judged for the task: mae for a regressor, else the chosen classifier metric."""
    return "mae" if task == "regression" else limits.metric


def macro_f1(cells: np.ndarray) -> np.ndarray:
    """Macro F1 of confusion matrices (..., true class, predicted class), over the classes either side names."""
    right = np.diagonal(cells, axis1=-2, axis2=-1)
    named = cells.sum(axis=-1) + cells.sum(axis=-2)  # a class's true rows plus its predicted rows
    scores = np.divide(2 * right, named, out=np.zeros(named.shape), where=named > 0)
    return scores.sum(axis=-1) / np.maximum((named > 0).sum(axis=-1), 1)


def bootstrap_f1(truth: np.ndarray, predicted: np.ndarray, floor: float) -> tuple[float, float]:
    """Macro F1, and the share of bootstrap samples reaching `floor`: a one-sided p-value of 'below floor'.

    A bootstrap sample of the rows is a multinomial draw of the confusion matrix's cells: the same
    test at any number of rows, in the memory of BOOTSTRAPS small matrices.
    """
    classes, codes = np.unique(np.concatenate([truth, predicted]), return_inverse=True)
    size = len(classes)
    cells = np.bincount(codes[: len(truth)] * size + codes[len(truth) :], minlength=size * size)
    draws = np.random.default_rng(SEED).multinomial(len(truth), cells / cells.sum(), size=BOOTSTRAPS)
    scores = macro_f1(draws.reshape(BOOTSTRAPS, size, size))
    return float(macro_f1(cells.reshape(size, size))), float((np.sum(scores >= floor) + 1) / (BOOTSTRAPS + 1))


def judged(metric: str, labelled: pd.DataFrame, test: float, limits: QualityLimits) -> tuple[float, float, float]:
    """The live value, the alarm bound and the one-sided p-value that the model is worse than the bound."""
    truth, predicted = labelled["label"], labelled["prediction"]
    if metric == "mae":
        errors = (truth.astype(float) - predicted.astype(float)).abs().to_numpy()
        bound = test * (1 + limits.max_mae_increase)
        if np.ptp(errors) == 0:  # every error the same: no spread for a t-test, the answer is plain
            return float(errors[0]), bound, 0.0 if errors[0] > bound else 1.0
        return float(errors.mean()), bound, float(ttest_1samp(errors, bound, alternative="greater").pvalue)
    truth, predicted = truth.astype(str).to_numpy(), predicted.astype(str).to_numpy()
    bound = max(test - limits.max_drop, 0.0)
    if metric == "accuracy":
        right = int((truth == predicted).sum())
        return right / len(truth), bound, float(binomtest(right, len(truth), bound, alternative="less").pvalue)
    live, p = bootstrap_f1(truth, predicted, bound)
    return live, bound, p


def quality_verdict(labelled: pd.DataFrame, task: str, test_metrics: dict[str, Any], limits: QualityLimits) -> dict:
    """The quality check of the report: judged or why not, the live and test values, and whether it alarms.

    `labelled` holds the served rows whose true label came back (columns prediction, label).
    """
    metric = metric_of(task, limits)
    test = test_metrics.get(metric)
    check: dict[str, Any] = {
        "metric": metric,
        "test": test,
        "labelled": len(labelled),
        "min_labels": limits.min_labels,
        "live": None,
        "bound": None,
        "p_value": None,
        "judged": False,
        "dropped": False,
    }
    if test is None:
        return check | {"reason": f"the model's metrics.json has no test {metric} to compare with"}
    if len(labelled) < limits.min_labels:
        return check | {"reason": f"{counted(len(labelled), 'labelled row')}: too few to judge "
                                  f"(monitor.min_labels is {limits.min_labels})"}  # fmt: skip
    live, bound, p = judged(metric, labelled, float(test), limits)
    dropped = p < limits.p_value
    return check | {"live": rounded(live), "bound": rounded(bound), "p_value": float(f"{p:.3g}"), "judged": True,
                    "dropped": dropped, "reason": None}  # fmt: skip


def quality_line(check: dict[str, Any]) -> str:
    """The quality check in one line: the metric live and on the test set, the bound and the p-value."""
    worse = "above" if check["metric"] == "mae" else "below"
    return (
        f"quality: {check['metric']} {check['live']:.4g} on {counted(check['labelled'], 'labelled row')} against "
        f"{check['test']:.4g} on the test set: {worse} {check['bound']:.4g} with p {check['p_value']:.2g}"
    )

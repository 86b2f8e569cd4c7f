"""Static SVG charts (matplotlib) of the plot data that evaluate writes, of metrics over versions, of monitoring."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from ..formatting import Rows

# Same input, same SVG bytes: no random ids, no timestamp.
plt.rcParams.update({"svg.hashsalt": "report", "svg.fonttype": "none", "figure.dpi": 100})
# The monitoring charts' colours: training in grey, served in the site's blue, or red when it drifted.
TRAINING, SERVED, DRIFTED = "#90a4ae", "#1e88e5", "#e53935"
LABEL_CHARS = 24  # a longer bin name (a category) is cut short on the axis


def to_svg(figure: plt.Figure) -> str:
    """Serialise a figure as SVG text and free it."""
    buffer = io.StringIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    return buffer.getvalue()


def line_chart(rows: Rows, x: str, y: str, title: str, diagonal: bool = False) -> str:
    """A curve such as ROC (with the chance diagonal) or precision-recall."""
    figure, axes = plt.subplots(figsize=(5, 4))
    axes.plot([row[x] for row in rows], [row[y] for row in rows], color="#1e88e5")
    if diagonal:
        axes.plot([0, 1], [0, 1], linestyle="--", color="#999")
    axes.set(title=title, xlabel=x, ylabel=y, xlim=(0, 1), ylim=(0, 1.02))
    return to_svg(figure)


def scatter_chart(rows: Rows, x: str, y: str, title: str, reference: str) -> str:
    """Points such as predicted vs actual (with y = x) or residuals (with y = 0)."""
    figure, axes = plt.subplots(figsize=(5, 4))
    xs, ys = [row[x] for row in rows], [row[y] for row in rows]
    axes.scatter(xs, ys, s=12, alpha=0.6, color="#1e88e5")
    low, high = min(xs), max(xs)
    axes.plot([low, high], [low, high] if reference == "identity" else [0, 0], linestyle="--", color="#999")
    axes.set(title=title, xlabel=x, ylabel=y)
    return to_svg(figure)


def confusion_chart(rows: Rows) -> str:
    """The confusion matrix as a heat map with counts."""
    table = pd.crosstab(pd.Series([r["actual"] for r in rows], name="actual"), [r["predicted"] for r in rows])
    labels = sorted(set(table.index) | set(table.columns))
    table = table.reindex(index=labels, columns=labels, fill_value=0)
    figure, axes = plt.subplots(figsize=(1.2 * len(labels) + 2.5, 1.0 * len(labels) + 2))
    axes.imshow(table.to_numpy(), cmap="Blues")
    for (i, j), count in pd.DataFrame(table.to_numpy()).stack().items():
        color = "white" if count > table.to_numpy().max() / 2 else "black"
        axes.text(j, i, str(count), ha="center", va="center", color=color)
    axes.set_xticks(range(len(labels)), labels)
    axes.set_yticks(range(len(labels)), labels)
    axes.set(title="Confusion matrix", xlabel="predicted", ylabel="actual")
    return to_svg(figure)


def importance_chart(rows: Rows, top: int = 15) -> str:
    """Permutation importance of the most important features, largest on top."""
    shown = rows[:top][::-1]
    figure, axes = plt.subplots(figsize=(6, 0.3 * len(shown) + 1.2))
    axes.barh([row["feature"] for row in shown], [row["importance"] for row in shown], color="#1e88e5")
    axes.set(title="Feature importance (permutation, on the test set)", xlabel="drop in score when shuffled")
    return to_svg(figure)


def metrics_over_versions(labels: list[str], metrics: dict[str, list[float | None]]) -> str:
    """One small line chart per metric across model versions."""
    figure, axes_list = plt.subplots(len(metrics), 1, figsize=(7, 1.8 * len(metrics) + 0.4), squeeze=False)
    positions = list(range(len(labels)))
    step = max(1, len(labels) // 12)  # readable tick labels even with hundreds of versions
    for axes, (name, values) in zip(axes_list[:, 0], metrics.items(), strict=True):
        axes.plot(positions, [float("nan") if v is None else v for v in values], marker="o", markersize=3)
        axes.set_ylabel(name)
        axes.set_xticks(positions[::step], labels[::step], rotation=30, ha="right", fontsize=8)
    axes_list[0, 0].set_title("Metrics across model versions")
    return to_svg(figure)


def distribution_chart(
    bins: list[str], training: list[float], served: list[float], title: str, drifted: bool, reference: str = "training"
) -> str:
    """Each bin's share of the reference (training) rows and of the served rows, side by side."""
    figure, axes = plt.subplots(figsize=(min(10.0, max(5.0, 0.4 * len(bins) + 1.5)), 2.8))
    positions = np.arange(len(bins))
    axes.bar(positions - 0.2, training, width=0.4, color=TRAINING, label=reference)
    axes.bar(positions + 0.2, served, width=0.4, color=DRIFTED if drifted else SERVED, label="served")
    labels = [label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…" for label in bins]
    axes.set_xticks(positions, labels, rotation=30, ha="right", fontsize=8)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.set(title=title, ylabel="share of rows")
    axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))  # beside the bars, not on them
    return to_svg(figure)


def live_chart(rows: Rows, metric: str, test: float | None) -> str:
    """A served model's metric by day (rows of day, metric), with the test set's value as a dashed line."""
    figure, axes = plt.subplots(figsize=(6, 2.8))
    days, values = [row["day"] for row in rows], [row.get(metric) for row in rows]
    positions = list(range(len(days)))
    step = max(1, len(days) // 12)  # readable dates even over months
    axes.plot(positions, [float("nan") if v is None else v for v in values], marker="o", color=SERVED, label="served")
    if test is not None:
        axes.axhline(test, linestyle="--", color="#999", label="test set")
    axes.set_xticks(positions[::step], days[::step], rotation=30, ha="right", fontsize=8)
    axes.margins(y=0.15)  # room between the frame and a test value at the top or bottom
    axes.set(title=f"{metric} of the served predictions, by day", ylabel=metric)
    axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
    return to_svg(figure)


def history_chart(runs: Rows) -> str:
    """The monitor's runs over time: drifted checks (bars) and the live quality metric against its test value."""
    figure, (drift, quality) = plt.subplots(2, 1, figsize=(6, 4.4), sharex=True)
    positions = list(range(len(runs)))
    labels = [run["created"][:16].replace("T", " ") for run in runs]
    colours = [DRIFTED if run["status"] in ("drift", "quality") else "#bbb" if run["status"] != "ok" else SERVED
               for run in runs]  # fmt: skip
    drifted = [run.get("drifted") or 0 for run in runs]
    drift.bar(positions, drifted, color=colours)
    drift.scatter(positions, [0] * len(runs), color=colours, marker="s", zorder=3, clip_on=False)  # each verdict
    drift.set_ylim(0, max(1, *drifted) * 1.15)
    drift.yaxis.get_major_locator().set_params(integer=True)
    drift.set(title="Monitor runs: drifted checks (red: an alarm; grey: blind)", ylabel="drifted checks")
    metric = next((run["metric"] for run in reversed(runs) if run.get("metric")), "quality")
    live = [float("nan") if run.get("live") is None else run["live"] for run in runs]
    test = [float("nan") if run.get("test") is None else run["test"] for run in runs]
    quality.plot(positions, live, marker="o", color=SERVED, label="served")
    quality.plot(positions, test, linestyle="--", color="#999", label="test set")
    quality.set(title=f"Live {metric} on the labelled rows", ylabel=metric)
    quality.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
    step = max(1, len(runs) // 12)
    quality.set_xticks(positions[::step], labels[::step], rotation=30, ha="right", fontsize=8)
    quality.margins(y=0.15)
    return to_svg(figure)


PLOT_CHARTS = {
    "roc": ("ROC curve", lambda rows: line_chart(rows, "fpr", "tpr", "ROC curve", diagonal=True)),
    "precision_recall": ("Precision-recall", lambda rows: line_chart(rows, "recall", "precision", "Precision-recall")),
    "confusion": ("Confusion matrix", confusion_chart),
    "predictions": (
        "Predicted vs actual",
        lambda rows: scatter_chart(rows, "actual", "predicted", "Predicted vs actual", "identity"),
    ),
    "residuals": ("Residuals", lambda rows: scatter_chart(rows, "predicted", "residual", "Residuals", "zero")),
    "feature_importance": ("Feature importance", importance_chart),
}

"""`make pr-report`: rerun the pipeline and write a Markdown report of what changed against the base branch."""

import argparse
from pathlib import Path
from typing import Any

from dvc.repo import Repo

from ..atomic import atomic_path
from ..errors import run_stage
from .commands import repro

MARKER = "<!-- model-report -->"  # lets the PR comment be found and updated on later pushes


def cell(value: Any) -> str:
    """A table cell: numbers rounded, nothing as a dash."""
    if value is None:
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def signed(value: Any) -> str:
    """A change with its sign."""
    return f"{value:+.6g}" if isinstance(value, int | float) else cell(value)


def metrics_table(diff: dict[str, dict[str, dict[str, Any]]], base: str) -> str:
    """Each metric at the base, in this branch, and the change."""
    rows = [
        f"| `{name}` | {cell(values.get('old'))} | {cell(values.get('new'))} | {signed(values.get('diff'))} |"
        for metrics in diff.values()
        for name, values in sorted(metrics.items())
    ]
    if not rows:
        return "No metric changed.\n"
    return "\n".join([f"| metric | {base} | this branch | change |", "|---|---|---|---|", *rows]) + "\n"


def params_table(diff: dict[str, dict[str, dict[str, Any]]], base: str) -> str:
    """Each parameter whose value differs from the base."""
    rows = [
        f"| `{name}` | {cell(values.get('old'))} | {cell(values.get('new'))} |"
        for params in diff.values()
        for name, values in sorted(params.items())
    ]
    if not rows:
        return "No parameter changed.\n"
    return "\n".join([f"| param | {base} | this branch |", "|---|---|---|", *rows]) + "\n"


def build_report(base: str, ran: list[str]) -> str:
    """The Markdown report: stages that ran, metrics diff, params diff."""
    with Repo(".") as repo:
        metrics = repo.metrics.diff(a_rev=base).get("diff", {})
        params = repo.params.diff(a_rev=base).get("diff", {})
    stages = ", ".join(f"`{name}`" for name in ran) if ran else "none (the pipeline was up to date)"
    return "\n".join(
        [
            MARKER,
            "## Model report",
            "",
            f"Stages that ran: {stages}.",
            "",
            f"### Metrics against `{base}`",
            "",
            metrics_table(metrics, base),
            f"### Parameters against `{base}`",
            "",
            params_table(params, base),
        ]
    )


def main() -> None:
    """Rerun the pipeline, then write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="origin/main", help="the git revision to compare with")
    parser.add_argument("--output", type=Path, default=Path("report.md"))
    args = parser.parse_args()
    report = build_report(args.base, repro())
    with atomic_path(args.output) as tmp:
        tmp.write_text(report)
    print(report)


if __name__ == "__main__":
    run_stage(main)

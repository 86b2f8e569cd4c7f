"""`make pr-report`: rerun the pipeline and write a Markdown report of what changed against the base branch."""

import argparse
from pathlib import Path
from typing import Any

from dvc.repo import Repo

from .. import kinds
from ..atomic import atomic_path
from ..errors import run_main
from ..formatting import cell
from .commands import repro

MARKER = "<!-- model-report -->"  # lets the PR comment be found and updated on later pushes


def signed(value: Any) -> str:
    """A change with its sign."""
    return f"{value:+.6g}" if isinstance(value, int | float) else cell(value, missing="-")


def diff_table(diff: dict[str, dict[str, dict[str, Any]]], kind: str, base: str, change: bool) -> str:
    """A Markdown table of DVC's metrics or params diff: the base's value, this branch's, and the change."""
    rows = [
        [f"`{name}`", cell(values.get("old"), missing="-"), cell(values.get("new"), missing="-")]
        + ([signed(values.get("diff"))] * change)
        for entries in diff.values()
        for name, values in sorted(entries.items())
    ]
    if not rows:
        return f"No {kind} changed.\n"
    headers = [kind, base, "this branch", *(["change"] if change else [])]
    lines = [headers, ["---"] * len(headers), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines) + "\n"


def build_report(base: str, ran: list[str]) -> str:
    """The Markdown report: stages that ran, every metric against the base, the params that changed."""
    with Repo(".") as repo:
        metrics = repo.metrics.diff(a_rev=base, all=True).get("diff", {})  # unchanged ones too: the whole picture
        params = repo.params.diff(a_rev=base).get("diff", {})
    current = {name: values.get("new") for entries in metrics.values() for name, values in entries.items()}
    # A kind's own tables: a recommender's lift over popularity, a tagger's gain over its baseline.
    own = [section for kind in kinds.kinds() for section in kinds.part(kind, "pages").pr_tables(current)]
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
            diff_table(metrics, "metric", base, change=True),
            *own,
            f"### Parameters against `{base}`",
            "",
            diff_table(params, "param", base, change=False),
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
    run_main(main)

"""Time `mkdocs build --strict` of the report site with 1 and with 200 model versions in git history.

The 199 extra versions are generated commits of models/model.json (metrics and params nudged each
time), not real retrains: the history page's cost is reading git, not training.
Run with `make bench`; writes results/site.{json,md} and quotes the table in README.md.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import BIN, MACHINE, Runner, bake, median_of, write_figures

VERSIONS = 200
REPEATS = 3


def add_versions(project: Path, run: Runner, count: int) -> None:
    """Commit `count` more versions of the manifest, each with other metrics and params."""
    manifest_file = project / "models" / "model.json"
    manifest = json.loads(manifest_file.read_text())
    for number in range(count):
        manifest["metrics"] = {
            name: round(value * (1 - 0.0001 * number), 6) for name, value in manifest["metrics"].items()
        }
        manifest["params"]["train"]["hyperparams"]["random_forest"]["n_estimators"] = 100 + number
        manifest["sha256"] = f"{number:064x}"
        manifest_file.write_text(json.dumps(manifest, indent=2) + "\n")
        run("git", "commit", "-qam", f"Model version {number + 2}")


def main() -> None:
    """Bake, train and commit once; time the build; add versions; time it again."""
    with tempfile.TemporaryDirectory() as scratch:
        project = bake(Path(scratch))
        run = Runner(project)
        run(str(BIN / "dvc"), "repro")
        run("git", "add", "-A")
        run("git", "commit", "-qm", "First model")
        build = lambda: run(str(BIN / "mkdocs"), "build", "--strict")  # noqa: E731
        one = median_of(build, REPEATS)
        add_versions(project, run, VERSIONS - 1)
        many = median_of(build, REPEATS)
        listed = (project / "site" / "history" / "index.html").read_text().count("Model version ")

    figures = {
        "machine": MACHINE,
        "build_1_version_s": round(one, 3),
        f"build_{VERSIONS}_versions_s": round(many, 3),
        "ratio": round(many / one, 2),
        "versions_listed": listed + 1,
        "goal": {"ratio": "<= 2.0"},
    }
    table = "\n".join(
        [
            f"`mkdocs build --strict` of the default bake's report site, {MACHINE}; medians of {REPEATS}.",
            "",
            "| model versions in history | seconds | goal |",
            "|---|---|---|",
            f"| 1 | {figures['build_1_version_s']} | |",
            f"| {VERSIONS} | {figures[f'build_{VERSIONS}_versions_s']} | <= 2x the 1-version build |",
            f"| ratio | {figures['ratio']}x | <= 2x |",
        ]
    )
    write_figures("site", figures, table)


if __name__ == "__main__":
    main()

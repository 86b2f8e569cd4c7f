"""Time `make retrain` in a fresh clone after a `train` param change, beside a plain `dvc repro` of it.

Both start from a fresh clone of a local bare origin (no data cache), so both rerun prepare, train
and evaluate; retrain adds the fetch, commit, tag and atomic push. Medians of alternating rounds.
Run with `make bench`; writes results/gitops.{json,md} and quotes the table in README.md.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from pathlib import Path

import yaml
from common import BIN, MACHINE, Runner, bake, timed, write_figures

ROUNDS = 3


def main() -> None:
    """Bake and push to a bare origin; then per round: change a param, push, time both in fresh clones."""
    scratch = Path(tempfile.mkdtemp())
    project = bake(scratch, use_django="no")
    run = Runner(project)
    run(str(BIN / "dvc"), "repro")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "First model")
    origin = scratch / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    run("git", "remote", "add", "origin", str(origin))
    run("git", "push", "-q", "-u", "origin", "main")

    retrain_times, repro_times = [], []
    for number in range(ROUNDS):
        run("git", "pull", "-q", "origin", "main")
        params = yaml.safe_load((project / "params.yaml").read_text())
        params["train"]["hyperparams"]["random_forest"]["n_estimators"] = 110 + number
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        run("git", "commit", "-qam", f"Use {110 + number} trees")
        run("git", "push", "-q", "origin", "main")
        plain, ci = scratch / f"plain{number}", scratch / f"ci{number}"
        for folder in (plain, ci):
            subprocess.run(["git", "clone", "-q", str(origin), str(folder)], check=True)
        repro_times.append(timed(lambda folder=plain: Runner(folder)(str(BIN / "dvc"), "repro")))
        retrain_times.append(timed(lambda folder=ci: Runner(folder)("make", "retrain", f"BIN={BIN}")))

    retrain, repro = statistics.median(retrain_times), statistics.median(repro_times)
    figures = {
        "machine": MACHINE,
        "retrain_s": round(retrain, 3),
        "plain_repro_s": round(repro, 3),
        "ratio": round(retrain / repro, 2),
    }
    table = "\n".join(
        [
            f"A `train` param change merged to main, in a fresh clone, {MACHINE}; medians of {ROUNDS} rounds.",
            "",
            "| step | seconds |",
            "|---|---|",
            f"| `dvc repro` | {figures['plain_repro_s']} |",
            f"| `make retrain` (fetch, repro, commit, tag, atomic push) | {figures['retrain_s']} |",
            f"| ratio | {figures['ratio']}x |",
        ]
    )
    write_figures("gitops", figures, table)


if __name__ == "__main__":
    main()

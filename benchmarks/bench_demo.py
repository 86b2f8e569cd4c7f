"""Time the README's first command on a fresh clone, in a plain shell, as a newcomer runs it.

A clone of the template (with this working tree's files on top) gets, in a shell whose PATH is
`/usr/bin:/bin` and whose HOME and pip cache are new: the template's install (`make .venv/.installed`,
every package downloaded), then `make demo` twice (the first run and a rerun). Then the choice the demo
makes for the baked project's `.venv`, measured both ways in the demo's own project: a full
`make install` (pip's cache now warm) against the demo's layered `.venv` plus `make install`.
Run with `make bench`; writes results/demo.{json,md} and quotes the table in README.md.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from common import MACHINE, TEMPLATE, timed, write_figures

IGNORED = shutil.ignore_patterns(".git", ".venv*", "node_modules", "build", "site", ".*_cache", "__pycache__")


def fresh_clone(scratch: Path) -> Path:
    """A clone of the template with the working tree's files on top (what a clone of this commit holds)."""
    clone = scratch / "template"
    subprocess.run(["git", "clone", "-q", str(TEMPLATE), str(clone)], check=True)
    shutil.copytree(TEMPLATE, clone, dirs_exist_ok=True, ignore=IGNORED)
    return clone


def main() -> None:
    scratch = Path(tempfile.mkdtemp())
    clone = fresh_clone(scratch)
    home = scratch / "home"
    home.mkdir()
    shell = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "PIP_CACHE_DIR": str(scratch / "pip")}

    def make(*targets: str, cwd: Path = clone) -> None:
        subprocess.run(["make", *targets], cwd=cwd, env=shell, check=True, capture_output=True)

    python3 = subprocess.run(["python3", "--version"], env=shell, capture_output=True, text=True, check=True).stdout
    install = timed(lambda: make(".venv/.installed"))
    demo = timed(lambda: make("demo"))
    rerun = timed(lambda: make("demo"))

    project = clone / "build" / "my-ml-project"
    shutil.rmtree(project / ".venv")
    full = timed(lambda: make("install", cwd=project))
    shutil.rmtree(project / ".venv")
    # scripts/demo.py's layer_venv, run by the clone's template Python, whose packages the layer shows.
    code = f"import sys, pathlib; sys.path[0] = 'scripts'; import demo; demo.layer_venv(pathlib.Path({str(project)!r}))"
    layer = [str(clone / ".venv" / "bin" / "python"), "-c", code]
    layered = timed(lambda: (subprocess.run(layer, cwd=clone, check=True), make("install", cwd=project)))

    figures = {
        "machine": MACHINE,
        "plain_shell_python": python3.strip(),
        "install_seconds": round(install, 1),
        "demo_seconds": round(demo, 1),
        "demo_rerun_seconds": round(rerun, 1),
        "full_make_install_seconds": round(full, 1),
        "layered_make_install_seconds": round(layered, 1),
    }
    table = "\n".join(
        [
            f"A fresh clone, plain shell (`PATH=/usr/bin:/bin`: {python3.strip()}; new HOME and pip cache), "
            f"{MACHINE.split(', Python')[0]}; one run each.",
            "",
            "| step | seconds | goal |",
            "|---|---|---|",
            f"| the template's install (`.venv`, every package downloaded), once | {install:.1f} | |",
            f"| `make demo`: bake, install, train, commit and register, site, one API call | {demo:.1f} | < 120 |",
            f"| `make demo` again (bakes anew) | {rerun:.1f} | < 120 |",
            f"| the baked project's `make install` into a new `.venv` (pip's cache warm) | {full:.1f} | |",
            f"| the demo's way: a `.venv` layered on the template's, then `make install` | {layered:.1f} | |",
        ]
    )
    write_figures("demo", figures, table)


if __name__ == "__main__":
    main()

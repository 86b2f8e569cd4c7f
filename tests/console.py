"""Run the shell sessions of a Markdown page (its ```console blocks) and compare their output.

In a block, a line starting with `$ ` is a command (a trailing backslash continues it on the next
line); the lines after it are its expected output. Expected lines must appear in the real output
in that order; `...` inside a line matches any text; blank lines and lines of `...` alone are skipped.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "@@console-exit@@"


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    output: str = ""


def parse(markdown: str) -> list[Step]:
    """The commands of every console block, in order, with their expected output."""
    steps: list[Step] = []
    for block in re.findall(r"^```console\n(.*?)^```", markdown, flags=re.S | re.M):
        continuing = False
        for line in block.splitlines():
            if continuing:
                steps[-1].command += "\n" + line
                continuing = line.endswith("\\")
            elif line.startswith("$ "):
                steps.append(Step(line[2:]))
                continuing = line.endswith("\\")
            elif steps:  # output of the last command; lines before a block's first command are prose
                steps[-1].expected.append(line)
    return steps


def run(steps: list[Step], cwd: Path, env: dict[str, str], timeout: float = 1800) -> None:
    """Run the commands in one bash session, stopping at the first failure; fill each step's output."""
    check = f"__rc=$?; echo '{MARKER}' $__rc; [ $__rc -eq 0 ] || exit $__rc"
    script = "exec 2>&1\n" + "".join(f"{step.command}\n{check}\n" for step in steps)  # stderr in order too
    result = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    chunks = re.split(rf"{MARKER} (\d+)\n", result.stdout)  # output without a final newline too
    for step, output, code in zip(steps, chunks[0::2], chunks[1::2], strict=False):
        step.output = output
        if code != "0":
            raise AssertionError(f"`{step.command}` exited {code}:\n{output}\n{result.stderr[-3000:]}")
    if len(chunks) // 2 < len(steps):
        raise AssertionError(f"the session stopped early:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def mismatch(step: Step) -> str | None:
    """None when the output shows every expected line in order, else the first missing line."""
    lines = iter(step.output.splitlines())
    for expected in step.expected:
        if expected.strip() in ("", "..."):
            continue
        pattern = re.compile(".*".join(map(re.escape, expected.strip().split("..."))))
        if not any(pattern.fullmatch(line.strip()) for line in lines):
            return expected
    return None


if __name__ == "__main__":  # print the real output of each command, to update a page by hand
    page, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    import os

    session = parse(page.read_text())
    try:
        run(session, workdir, dict(os.environ))
    finally:
        for step in session:
            print(f"$ {step.command}\n{step.output}")

"""Run git: the one helper that the model's versions, the GitOps steps and the report share."""

import subprocess
from pathlib import Path

from ..errors import PipelineError


def git(*args: str, root: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `root` (default: here); when `check`, a failure is a PipelineError with git's message."""
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise PipelineError(f"git {' '.join(args)} failed: {(result.stderr or result.stdout).strip()}")
    return result

"""Run DVC from the GitOps steps, with one clear error when it fails (git: registry.git)."""

import subprocess
import sys

from ..errors import PipelineError


def dvc_push() -> None:
    """Upload the DVC-cached outputs (the model, with model_storage=dvc-remote) to the default remote."""
    if subprocess.run([sys.executable, "-m", "dvc", "push"], check=False).returncode != 0:
        raise PipelineError("dvc push failed: the model was not uploaded, so nothing was committed")


def repro() -> list[str]:
    """Run `dvc repro` (output shown as it runs); return the stages that ran. A failure is a PipelineError."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    ran, errors = [], []
    for line in process.stdout or []:
        print(line, end="", flush=True)  # a CI log shows it as it comes, not when the buffer fills
        if line.startswith("Running stage '"):
            ran.append(line.split("'")[1])
        if line.lower().startswith("error"):
            errors.append(line.strip())
    if process.wait() != 0:  # the first error is the stage's own line; DVC's "failed to reproduce" repeats it
        reason = errors[0].removeprefix("error: ") if errors else "see the output above"
        raise PipelineError(f"dvc repro failed: {reason}")
    return ran

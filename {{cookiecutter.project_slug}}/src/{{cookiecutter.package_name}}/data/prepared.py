"""What every kind's prepare does alike: refuse untracked data, and write the prepared tables atomically."""

from pathlib import Path

import pandas as pd
import yaml

from ..atomic import atomic_path
from ..errors import PipelineError
from ..paths import DVC_FILE


def check_tracked(data_path: str | None, dvc_file: Path = DVC_FILE, key: str = "path") -> None:
    """Refuse data.path (or data.images) when not a dependency of this stage: `dvc repro` would miss its changes."""
    if not data_path or not Path(data_path).exists() or not dvc_file.is_file():
        return  # no data to track (loading names a missing one), or no pipeline file to check
    stage = ((yaml.safe_load(dvc_file.read_text()) or {}).get("stages") or {}).get("prepare")
    if not stage:
        return
    deps = [dep for dep in stage.get("deps") or [] if isinstance(dep, str)]
    path, placeholder = Path(data_path).resolve(), "${" + f"data.{key}" + "}"  # as dvc.yaml writes it
    if placeholder in deps or any(path.is_relative_to((dvc_file.parent / dep).resolve()) for dep in deps):
        return
    raise PipelineError(
        f"data.{key} {data_path} is not a dependency of the prepare stage, so dvc repro would not see it change: "
        f"add '- {placeholder}' to stages.prepare.deps in dvc.yaml"
    )


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame to Parquet atomically; the index only when it is named (an image table's files)."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=frame.index.name is not None, engine="pyarrow")

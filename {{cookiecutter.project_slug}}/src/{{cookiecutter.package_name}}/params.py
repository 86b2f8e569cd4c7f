"""Read the pipeline parameters that DVC tracks in params.yaml."""

from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = Path("params.yaml")


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Return params.yaml as a dict."""
    return yaml.safe_load(path.read_text())

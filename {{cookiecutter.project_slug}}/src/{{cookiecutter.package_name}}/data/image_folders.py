"""The training images: a folder of one subfolder per class (torchvision's ImageFolder layout), read as a table."""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, PipelineError
from ..formatting import counted
from ..progress import progress
from .images import FILE_INDEX, ImageError, ImageSpec, load_image, pixel_columns


def image_folder(data: dict[str, Any]) -> Path:
    """data.images, the folder of one subfolder per class; refused beside data.path, which names a table."""
    if data.get("path"):
        raise PipelineError("data.path and data.images are both set: a model learns from a table or from images")
    return Path(data["images"])


# Files that Windows writes into image folders by itself: never a user's image.
SYSTEM_FILES = {"thumbs.db", "desktop.ini"}


def visible(path: Path, root: Path) -> bool:
    """Not hidden, nor inside a hidden folder, below `root` (.DS_Store, .gitkeep, .ipynb_checkpoints), nor Thumbs.db."""
    parts = path.relative_to(root).parts
    return not any(part.startswith(".") for part in parts) and path.name.lower() not in SYSTEM_FILES


def image_files(folder: Path, root: Path | None = None) -> list[Path]:
    """The files below `folder`, in subfolders too, sorted; hidden ones left out."""
    return sorted(path for path in folder.rglob("*") if path.is_file() and visible(path, root or folder))


def class_folders(root: Path) -> dict[str, list[Path]]:
    """Each class folder's name and image files; DataError when the layout cannot train a classifier."""
    if not root.is_dir():
        raise DataError(f"image folder not found: {root} (set data.images in params.yaml)")
    folders = sorted(path for path in root.iterdir() if path.is_dir() and visible(path, root))
    if not folders:
        raise DataError(f"{root} has no class folders: put each class's images in a subfolder named for the class")
    classes = {}
    for folder in folders:
        files = image_files(folder, root)
        if not files:
            raise DataError(f"class folder {folder} has no images: add some, or remove the folder")
        classes[folder.name] = files
    if len(classes) < 2:
        raise DataError(f"{root} has one class folder ({folders[0].name}): a classifier needs at least two")
    return classes


def read_image_folder(root: Path, spec: ImageSpec, target: str) -> pd.DataFrame:
    """The images of a folder per class as a table: one column per pixel, the class in `target`."""
    classes = class_folders(root)
    files = [path for paths in classes.values() for path in paths]
    pixels = np.empty((len(files), spec.pixels), dtype=np.float32)
    unreadable: list[tuple[Path, ImageError]] = []
    with progress(len(files), f"prepare: read {root}", unit="images") as bar:
        for i, path in enumerate(files):
            try:
                pixels[i] = load_image(path, spec, path.as_posix())
            except ImageError as exc:  # read on: one run names every bad file
                unreadable.append((path, exc))
            bar.update(1)
    if unreadable:  # the first one's problem, then the others' paths
        others = [path.as_posix() for path, _ in unreadable[1:]]
        listed = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        more = f"; {counted(len(others), 'more unreadable file')}: {listed}" if others else ""
        raise ImageError(f"{unreadable[0][1]}{more}")
    frame = pd.DataFrame(pixels, columns=pixel_columns(spec.pixels))
    frame.index = pd.Index([path.as_posix() for path in files], name=FILE_INDEX)
    frame[target] = np.array([label for label, paths in classes.items() for _ in paths], dtype=object)
    return frame

"""Image features (data.images): the digits demo and the images sample end to end; bad images refused by name."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import Project
from onnx_checks import checked

pytestmark = pytest.mark.xdist_group("images")  # one worker: its module fixtures train each project once

SAMPLE = Path("data/raw/images")  # the images sample: circle/, square/, triangle/, 16 JPEG and PNG files each
SAMPLE_FILES = 48
TRAINED: dict[str, str] = {}  # what the first `dvc repro` of each module project printed, by data set


@pytest.fixture(scope="module")
def digits(digits_demo: tuple[Project, str]) -> Project:
    """The digits demo, trained once (shared with tests/test_image_report.py): read it, never change it."""
    project, TRAINED["digits"] = digits_demo
    return project


@pytest.fixture(scope="module")
def shapes(bake_shared: Callable[..., Project]) -> Project:
    """The images sample, trained once: tests that change it work on a copy."""
    project = bake_shared(project_name="Shapes", dataset="images", use_django="no")
    TRAINED["images"] = project.dvc("repro").stdout
    return project


@pytest.fixture
def shapes_copy(shapes: Project, tmp_path: Path) -> Project:
    """A private copy of the trained images sample."""
    return shapes.copy(tmp_path / "shapes")


def prepared(project: Project) -> pd.DataFrame:
    """The prepared train and test rows together, indexed by each image's file."""
    folder = project.path / "data" / "prepared"
    return pd.concat([pd.read_parquet(folder / "train.parquet"), pd.read_parquet(folder / "test.parquet")])


def output_hashes(project: Project) -> dict[str, str]:
    """The SHA-256 of every file the stages write: prepared data, model, manifest, metrics, plots, profile."""
    files = [path for name in ("data/prepared", "models", "metrics", "plots", "reports") for path in
             (project.path / name).rglob("*") if path.is_file()]  # fmt: skip
    return {str(path.relative_to(project.path)): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def png(image: Image.Image) -> bytes:
    """An image as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (its IHDR patched, with a valid CRC)."""
    data = bytearray(png(Image.new("L", (4, 4))))
    data[16:24] = struct.pack(">II", width, height)  # IHDR's data starts at 16: width, height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # the CRC of its type and data
    return bytes(data)


def test_the_digits_demo_is_1797_png_files_in_a_folder_per_digit(digits: Project) -> None:
    raw = digits.path / "data" / "raw"
    assert sorted(path.name for path in (raw / "digits").iterdir()) == [str(digit) for digit in range(10)]
    files = [path for path in (raw / "digits").rglob("*") if path.is_file()]
    assert len(files) == 1797 and {path.suffix for path in files} == {".png"}
    sizes = set()
    for path in files:
        with Image.open(path) as image:
            sizes.add((image.format, image.size))
    assert sizes == {("PNG", (8, 8))}
    assert not (raw / "digits.zip").exists()  # the hook unpacked the archive and removed it
    assert "CC BY 4.0" in (raw / "digits.LICENSE").read_text()


def test_the_digits_demo_trains_an_svm_on_64_gray_pixels(digits: Project) -> None:
    manifest = digits.json("models/model.json")
    assert manifest["features"] == [
        {"name": "image", "dtype": "float32", "kind": "image", "nullable": False, "categories": None,
         "size": [8, 8], "color": "gray", "pixels": 64}
    ]  # fmt: skip
    assert (manifest["task"], manifest["estimator"]) == ("classification", "SVC")
    assert manifest["classes"] == [str(digit) for digit in range(10)]
    assert digits.json("metrics/metrics.json")["accuracy"] >= 0.97
    rows = prepared(digits)
    assert len(rows) == 1797 and rows.index.name == "file"
    assert rows.filter(like="pixel_").shape[1] == 64


@pytest.mark.parametrize("dataset", ["digits", "images"])
def test_each_dataset_option_is_checked_by_train(request: pytest.FixtureRequest, dataset: str) -> None:
    """Train's ONNX check on the image data sets, on the projects trained above (tests/test_onnx.py: the others)."""
    project = request.getfixturevalue({"digits": "digits", "images": "shapes"}[dataset])
    checked(project, TRAINED[dataset])
    assert project.dvc("status").stdout.strip().endswith("up to date.")


def test_the_images_sample_reads_jpeg_and_png_as_rgb_pixels(shapes: Project) -> None:
    feature = shapes.json("models/model.json")["features"]
    assert [(f["kind"], f["size"], f["color"], f["pixels"]) for f in feature] == [("image", [32, 32], "rgb", 3072)]
    rows = prepared(shapes)
    assert len(rows) == SAMPLE_FILES and {Path(file).suffix for file in rows.index} == {".jpg", ".png"}
    assert sorted(rows["label"].unique()) == ["circle", "square", "triangle"]
    pixels = rows.filter(like="pixel_").to_numpy()
    assert pixels.shape[1] == 3072 and pixels.min() >= 0 and pixels.max() <= 1
    assert shapes.json("metrics/metrics.json")["accuracy"] >= 0.9


def test_a_new_image_makes_dvc_rerun_prepare(shapes_copy: Project) -> None:
    project = shapes_copy
    assert "up to date" in project.dvc("status").stdout
    shutil.copy(project.path / SAMPLE / "circle" / "00.png", project.path / SAMPLE / "circle" / "new.png")
    status = project.dvc("status").stdout
    assert "prepare:" in status and re.search(rf"modified:\s+{SAMPLE.as_posix()}\n", status), status
    assert project.ran_stages(project.dvc("repro").stdout)[0] == "prepare"
    assert len(prepared(project)) == SAMPLE_FILES + 1
    (project.path / SAMPLE / "circle" / "new.png").unlink()  # removing it is a change too
    project.dvc("repro")
    assert len(prepared(project)) == SAMPLE_FILES and "up to date" in project.dvc("status").stdout


def test_a_new_image_size_retrains_on_that_many_pixels(shapes_copy: Project) -> None:
    project = shapes_copy
    project.set_params("prepare", image_size=[16, 8], color="gray")
    assert project.ran_stages(project.dvc("repro").stdout) == ["prepare", "train", "evaluate"]
    (feature,) = project.json("models/model.json")["features"]
    assert (feature["size"], feature["color"], feature["pixels"]) == ([16, 8], "gray", 128)
    assert prepared(project).filter(like="pixel_").shape[1] == 128


def write(relative: str, content: bytes) -> Callable[[Project], None]:
    """A change that writes a file into the project."""
    return lambda project: (project.path / relative).write_bytes(content)


def truncate(relative: str) -> Callable[[Project], None]:
    """A change that cuts a file of the project to half its bytes."""

    def change(project: Project) -> None:
        path = project.path / relative
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return change


def keep_one_class(project: Project) -> None:
    """Remove every class folder but circle."""
    shutil.rmtree(project.path / SAMPLE / "square")
    shutil.rmtree(project.path / SAMPLE / "triangle")


# Each bad input and the one line prepare prints for it.
BAD_INPUTS = {
    "empty-class-folder": (
        lambda project: (project.path / SAMPLE / "hexagon").mkdir(),
        "error: class folder data/raw/images/hexagon has no images: add some, or remove the folder",
    ),
    "text-named-png": (
        write(f"{SAMPLE}/circle/notes.png", b"not an image, just a note\n"),
        "error: data/raw/images/circle/notes.png: not an image (no format Pillow reads)",
    ),
    "one-class": (
        keep_one_class,
        "error: data/raw/images has one class folder (circle): a classifier needs at least two",
    ),
    "truncated-png": (
        truncate(f"{SAMPLE}/square/00.png"),
        "error: data/raw/images/square/00.png: damaged or truncated image",
    ),
    "bomb-over-the-limit": (  # Pillow only warns below twice its limit: the header check refuses it
        write(f"{SAMPLE}/circle/bomb.png", bomb(10_000, 10_000)),
        "error: data/raw/images/circle/bomb.png: 10000x10000 pixels is over the limit of 89,478,485",
    ),
    "bomb-twice-the-limit": (  # Pillow refuses it itself, before we see its size
        write(f"{SAMPLE}/circle/bomb.png", bomb(20_000, 20_000)),
        "error: data/raw/images/circle/bomb.png: more pixels than the limit of 89,478,485",
    ),
    "image-size-zero": (
        lambda project: project.set_params("prepare", image_size=[0, 32]),
        "error: prepare.image_size must be [width, height] in pixels (1 to 1024), not [0, 32]",
    ),
    "image-size-not-a-pair": (
        lambda project: project.set_params("prepare", image_size=32),
        "error: prepare.image_size must be [width, height] in pixels (1 to 1024), not 32",
    ),
    "color": (
        lambda project: project.set_params("prepare", color="cmyk"),
        "error: prepare.color must be one of gray, rgb, not 'cmyk'",
    ),
    "path-and-images": (
        lambda project: project.set_params("data", path="data/raw/data.csv"),
        "error: data.path and data.images are both set: a model learns from a table or from images",
    ),
}


@pytest.mark.parametrize(("change", "message"), list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_a_bad_input_is_one_line_and_keeps_the_outputs(
    shapes_copy: Project, change: Callable[[Project], None], message: str
) -> None:
    project = shapes_copy
    before = output_hashes(project)
    change(project)
    result = project.run("bin/python", "-m", f"{project.package}.prepare", check=False)  # as dvc.yaml runs it
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(message), result.stderr
    assert output_hashes(project) == before  # no output changed, and no temporary file left beside them


def test_dvc_repro_stops_at_a_bad_image_and_keeps_the_model(shapes_copy: Project) -> None:
    project = shapes_copy
    before = output_hashes(project)
    (project.path / SAMPLE / "triangle" / "notes.png").write_text("not an image\n")
    (project.path / SAMPLE / "circle" / "copy.png").write_bytes(b"\x89PNG\r\n")  # a copy cut short
    result = project.dvc("repro", check=False)
    assert result.returncode != 0 and "exited with 1" in result.stderr
    first = "error: data/raw/images/circle/copy.png: "  # every bad file in one run, in the files' order
    assert first in result.stderr and "; 1 more unreadable file: data/raw/images/triangle/notes.png" in result.stderr
    assert output_hashes(project) == before


def test_hidden_files_in_class_folders_are_ignored(shapes_copy: Project) -> None:
    project = shapes_copy
    (project.path / SAMPLE / "circle" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (project.path / SAMPLE / "square" / ".ipynb_checkpoints").mkdir()
    (project.path / SAMPLE / "square" / ".ipynb_checkpoints" / "00-checkpoint.png").write_text("not an image")
    (project.path / SAMPLE / "triangle" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")  # Windows' thumbnails
    assert "prepare" in project.ran_stages(project.dvc("repro").stdout)
    files = prepared(project).index
    assert len(files) == SAMPLE_FILES and not any("/." in file or "Thumbs" in file for file in files)
    (project.path / SAMPLE / "circle" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud2")  # Finder rewrites it
    (project.path / SAMPLE / "circle" / "desktop.ini").write_text("[.ShellClassInfo]\n")
    assert project.ran_stages(project.dvc("repro").stdout) == []  # .dvcignore: not data, nothing reruns


def unusual_images() -> dict[str, Image.Image]:
    """Modes a plain RGB conversion might get wrong: grey with alpha, a palette, 16 bits per pixel."""
    return {
        "grey-alpha.png": Image.fromarray(np.full((10, 12, 2), [128, 200], dtype=np.uint8), "LA"),
        "palette.gif": Image.new("RGB", (12, 10), (255, 0, 0)).convert("P", palette=Image.Palette.ADAPTIVE),
        "sixteen-bit.png": Image.fromarray(np.full((10, 12), 32768, dtype=np.uint16)),  # mid grey of 65535
    }


@pytest.mark.parametrize(
    ("color", "expected"),
    [
        ("rgb", {"grey-alpha.png": [0.502] * 3, "palette.gif": [1.0, 0.0, 0.0], "sixteen-bit.png": [0.5] * 3}),
        ("gray", {"grey-alpha.png": [0.502], "palette.gif": [0.299], "sixteen-bit.png": [0.5]}),
    ],
)
def test_grey_alpha_palette_and_16_bit_images_read_right(
    shapes_copy: Project, color: str, expected: dict[str, list[float]]
) -> None:
    project = shapes_copy
    for name, image in unusual_images().items():
        image.save(project.path / SAMPLE / "circle" / name)
    assert Image.open(project.path / SAMPLE / "circle" / "sixteen-bit.png").mode.startswith("I;16")
    project.set_params("prepare", color=color)
    project.dvc("repro", "prepare")
    rows = prepared(project)
    assert len(rows) == SAMPLE_FILES + 3
    for name, first_pixel in expected.items():
        pixels = rows.loc[f"{SAMPLE}/circle/{name}"].filter(like="pixel_").to_numpy(dtype=float)
        assert np.allclose(pixels, np.tile(first_pixel, len(pixels) // len(first_pixel)), atol=0.01), name

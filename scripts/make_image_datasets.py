"""Write the image demos: `digits.zip` (scikit-learn's 8x8 digits as PNGs) and the `images` sample folder.

Run once with the dev venv (`.venv/bin/python scripts/make_image_datasets.py`); the output is committed
in the template, so a bake needs neither scikit-learn nor Pillow: the bake hook unpacks the archive
with the standard library. Both are deterministic: a rerun writes the same bytes.
"""

import io
import random
import shutil
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from sklearn.datasets import load_digits

RAW = Path(__file__).resolve().parent.parent / "{{cookiecutter.project_slug}}" / "data" / "raw"
DIGITS_DATE = (2026, 1, 1, 0, 0, 0)  # a fixed timestamp in the archive: same bytes on every run
SHAPES = ("circle", "square", "triangle")
SAMPLES_PER_SHAPE = 16


def png_bytes(image: Image.Image) -> bytes:
    """An image as PNG file content."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def write_digits(archive: Path) -> int:
    """Each digit image as digits/<label>/<index>.png (gray, 0-16 scaled to 0-255) in one zip file."""
    digits = load_digits()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for index, (pixels, label) in enumerate(zip(digits.images, digits.target, strict=True)):
            image = Image.fromarray(np.round(pixels * 255 / 16).astype(np.uint8), mode="L")
            zf.writestr(zipfile.ZipInfo(f"digits/{label}/{index:04d}.png", DIGITS_DATE), png_bytes(image))
    return len(digits.target)


def shape_image(shape: str, rng: random.Random) -> Image.Image:
    """A dark shape of a random colour, size and place near the middle of a light canvas of random size."""
    side = rng.randrange(40, 97)
    colour = tuple(rng.randrange(0, 140) for _ in range(3))
    background = tuple(rng.randrange(190, 256) for _ in range(3))
    image = Image.new("RGB", (side, side), background)
    draw = ImageDraw.Draw(image)
    size = rng.randrange(side * 3 // 4, side - 1)
    left, top = rng.randrange(0, side - size + 1), rng.randrange(0, side - size + 1)
    box = (left, top, left + size - 1, top + size - 1)
    if shape == "circle":
        draw.ellipse(box, fill=colour)
    elif shape == "square":
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([(left + size // 2, top), (left, top + size - 1), (left + size - 1, top + size - 1)], fill=colour)
    return image


def write_shapes(folder: Path) -> int:
    """SAMPLES_PER_SHAPE images of each shape in folder/<shape>/, PNG and JPEG alternately (any format works)."""
    shutil.rmtree(folder, ignore_errors=True)
    rng = random.Random(42)
    for shape in SHAPES:
        (folder / shape).mkdir(parents=True)
        for index in range(SAMPLES_PER_SHAPE):
            image = shape_image(shape, rng)
            if index % 2:
                image.save(folder / shape / f"{index:02d}.jpg", quality=90)
            else:
                (folder / shape / f"{index:02d}.png").write_bytes(png_bytes(image))
    return len(SHAPES) * SAMPLES_PER_SHAPE


if __name__ == "__main__":
    print(f"{write_digits(RAW / 'digits.zip')} digits in {RAW / 'digits.zip'}")
    print(f"{write_shapes(RAW / 'images')} shapes in {RAW / 'images'}")

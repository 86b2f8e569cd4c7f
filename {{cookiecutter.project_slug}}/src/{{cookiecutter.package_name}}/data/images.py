"""Images: one load_image() for prepare and serving (image_folders.py reads a training folder).

An image becomes a fixed number of pixels: resized to prepare.image_size and converted to
prepare.color, values scaled to [0, 1]. A prepared image table has one column per pixel and is
indexed by each image's path, the row's identity rather than a feature.
"""

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DataError, PipelineError
from ..registry.manifest import Feature

IMAGE_FEATURE = "image"
FILE_INDEX = "file"
COLORS = {"gray": "L", "rgb": "RGB"}  # prepare.color -> Pillow's mode
CHANNELS = {"gray": 1, "rgb": 3}
MAX_SIDE = 1024  # prepare.image_size beyond this would make millions of pixel features per image
# Pillow's own decompression-bomb limit (about 89 million pixels): a larger image is refused, not decoded.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
# Pillow warns of an image over its limit while opening it; load_image refuses it in one line instead.
# A process-wide filter, as catch_warnings() is not thread-safe in a threaded server.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class ImageError(DataError):
    """An image that cannot be read: the message names the file and the problem."""


@dataclass(frozen=True)
class ImageSpec:
    """What the model sees of an image: its size in pixels (width, height) and its colour."""

    size: tuple[int, int]
    color: str

    @property
    def pixels(self) -> int:
        """The number of values an image becomes: one per pixel and channel."""
        return self.size[0] * self.size[1] * CHANNELS[self.color]

    def feature(self) -> Feature:
        """The manifest's one feature of an image model."""
        return {
            "name": IMAGE_FEATURE,
            "dtype": "float32",
            "kind": "image",
            "nullable": False,
            "categories": None,
            "size": list(self.size),
            "color": self.color,
            "pixels": self.pixels,
        }


def image_spec(prepare: dict[str, Any]) -> ImageSpec:
    """prepare.image_size and prepare.color, checked."""
    size, color = prepare.get("image_size", [32, 32]), prepare.get("color", "gray")
    valid = isinstance(size, list) and len(size) == 2 and all(type(side) is int for side in size)
    if not valid or not all(1 <= side <= MAX_SIDE for side in size):
        raise PipelineError(f"prepare.image_size must be [width, height] in pixels (1 to {MAX_SIDE}), not {size!r}")
    if color not in COLORS:
        raise PipelineError(f"prepare.color must be one of {', '.join(COLORS)}, not {color!r}")
    return ImageSpec((size[0], size[1]), color)


def spec_of(feature: Feature) -> ImageSpec:
    """The ImageSpec of a manifest's image feature."""
    width, height = feature["size"]
    return ImageSpec((width, height), feature["color"])


def pixel_columns(count: int) -> list[str]:
    """The names of an image table's pixel columns: pixel_00000, pixel_00001, ..."""
    return [f"pixel_{i:05d}" for i in range(count)]


def eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit greyscale image (mode I;16, or I) scaled to 8 bits: Pillow's convert() clips it, mid grey to white."""
    if not image.mode.startswith("I"):
        return image
    values = np.asarray(image, dtype=np.float64) / 257  # 0..65535 onto 0..255
    return Image.fromarray(values.clip(0, 255).round().astype(np.uint8))


def load_image(
    source: Path | BinaryIO, spec: ImageSpec, name: str | None = None, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """An image file as `spec.pixels` float32 values in [0, 1]; ImageError names `name` and what is wrong."""
    name, limit = name or str(source), min(max_pixels, MAX_PIXELS)
    try:
        with Image.open(source) as image:
            if image.width * image.height > limit:  # read from the header, before decoding
                raise ImageError(f"{name}: {image.width}x{image.height} pixels is over the limit of {limit:,}")
            upright = eight_bit(ImageOps.exif_transpose(image))  # as a phone's photo is shown, not as stored
            pixels = upright.convert(COLORS[spec.color]).resize(spec.size, Image.Resampling.BILINEAR)
    except Image.DecompressionBombError:  # Pillow refuses twice its limit itself, while opening
        raise ImageError(f"{name}: more pixels than the limit of {limit:,} (a decompression bomb?)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image (no format Pillow reads)") from None
    except (OSError, SyntaxError, ValueError) as exc:  # a truncated or corrupt file fails while decoding
        raise ImageError(f"{name}: damaged or truncated image ({exc})") from None
    return np.asarray(pixels, dtype=np.float32).reshape(-1) / 255

"""The model card's image section and the gallery: test images with their predicted and true labels, mistakes first."""

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..data.dtypes import read_parquet
from ..data.images import spec_of
from ..data.schema import split_xy
from ..errors import ModelIntegrityError
from ..formatting import excerpt
from ..paths import MODEL_PATH, TEST_PATH
from ..registry.artifacts import load_model
from ..registry.manifest import Feature, Manifest, image_feature
from .modeling.predict import predict_table

GALLERY_PAGE = "gallery.md"
TITLE = "# Gallery\n\n"
THUMBS_DIR = "assets/gallery"
GALLERY_IMAGES = 48
THUMB_SIDE = 64  # pixels: an 8x8 digit is scaled up 8 times, a photo down to fit
SIZE = "{ " + f'width="{THUMB_SIDE}" height="{THUMB_SIDE}"' + " }"  # attr_list's braces, concatenated for Jinja


def image_of(manifest: Manifest | None) -> Feature | None:
    """The manifest's image feature, when there is a model and it reads images."""
    return image_feature(manifest.get("features", [])) if manifest else None


def size_and_color(feature: Feature) -> str:
    """An image feature's size and colour, short: 8x8 gray."""
    width, height = feature["size"]
    return f"{width}x{height} {feature['color']}"


def describe(feature: Feature) -> str:
    """An image feature as the model sees it: 8x8 pixels, gray (64 values per image)."""
    width, height = feature["size"]
    return f"{width}x{height} pixels, {feature['color']} ({feature['pixels']} values per image)"


def image_section(manifest: Manifest) -> list[str]:
    """Markdown for an image project: the input kind, the size and colour, a link to the gallery."""
    feature = image_of(manifest)
    if feature is None:
        return []
    return [
        "## Images\n",
        f"Input kind: image. Each image is resized to {describe(feature)} before the model sees it: "
        "`prepare.image_size` and `prepare.color` in `params.yaml`.\n",
        f"The [Gallery]({GALLERY_PAGE}) shows test images with their predicted and true labels, mistakes first.\n",
    ]


def gallery(root: Path, manifest: Manifest) -> dict[str, str | bytes]:
    """The gallery page and its thumbnails, keyed by their path in the site's docs."""
    feature = image_of(manifest)
    if feature is None or manifest["task"] != "classification":
        return {GALLERY_PAGE: f"{TITLE}The gallery shows an image classifier's labels: this model is not one.\n"}
    if not (root / TEST_PATH).is_file():
        return {GALLERY_PAGE: f"{TITLE}No test images to show: run `dvc repro`.\n"}
    try:
        model = load_model(root / MODEL_PATH).model
    except (ModelIntegrityError, OSError):
        return {GALLERY_PAGE: f"{TITLE}No model to predict with: run `dvc repro`.\n"}
    features, labels = split_xy(read_parquet(root / TEST_PATH), manifest["target"])
    predicted = predict_table(model, features, "report: predict").predicted.astype(str)
    true = labels.astype(str).to_numpy()
    shown = gallery_order(predicted, true)[:GALLERY_IMAGES]
    wrong = int((predicted != true).sum())
    lines = [
        TITLE,
        f"{wrong} of {len(labels)} test images misclassified. Shown: {len(shown)} of them, "
        "misclassified ones first (outlined in red), each captioned *predicted / true*.\n",
    ]
    files: dict[str, str | bytes] = {}
    figures = []
    for number, index in enumerate(shown):
        path = f"{THUMBS_DIR}/{number:03d}.png"
        files[path] = thumbnail(root / str(features.index[index]), features.iloc[index].to_numpy(), feature)
        guess, truth = predicted[index], true[index]
        figures.append(
            f'<figure class="{"wrong" if guess != truth else "right"}" markdown="span">\n'
            f"![{excerpt(features.index[index])}]({path}){SIZE}\n"
            f"<figcaption>{excerpt(guess)} / {excerpt(truth)}</figcaption>\n"
            "</figure>"
        )
    lines.append('<div class="gallery" markdown>\n' + "\n".join(figures) + "\n</div>\n")
    return {GALLERY_PAGE: "\n".join(lines)} | files


def gallery_order(predicted: np.ndarray, true: np.ndarray) -> list[int]:
    """Row positions, misclassified first, each group in the test table's order."""
    wrong = predicted != true
    return [*np.flatnonzero(wrong).tolist(), *np.flatnonzero(~wrong).tolist()]


def thumbnail(path: Path, pixels: np.ndarray, feature: Feature) -> bytes:
    """A PNG of the image file fitted into THUMB_SIDE pixels; of the prepared pixels when the file is unreadable."""
    try:
        with Image.open(path) as original:
            image = ImageOps.exif_transpose(original).convert("RGB" if original.mode not in {"L", "1"} else "L")
    except (OSError, ValueError, SyntaxError):  # gone since prepare, or not an image any more: show what was learnt
        image = from_pixels(pixels, feature)
    # Nearest-neighbour keeps the pixels of a tiny image sharp; a large one is downscaled smoothly.
    small = max(image.size) < THUMB_SIDE
    resample = Image.Resampling.NEAREST if small else Image.Resampling.LANCZOS
    fitted = ImageOps.contain(image, (THUMB_SIDE, THUMB_SIDE), resample)
    buffer = io.BytesIO()
    fitted.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def from_pixels(pixels: np.ndarray, feature: Feature) -> Image.Image:
    """An image rebuilt from a prepared row of pixel values in [0, 1]."""
    spec = spec_of(feature)
    width, height = spec.size
    shape = (height, width) if spec.color == "gray" else (height, width, 3)
    return Image.fromarray((np.clip(pixels, 0, 1) * 255).round().astype(np.uint8).reshape(shape))


def has_gallery(manifest: Manifest | None) -> bool:
    """Whether the site has a gallery page: the model reads images."""
    return image_of(manifest) is not None

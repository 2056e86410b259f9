"""Images of real handwriting, cleaned to what a generated image is drawn as: white ink on black.

Handwritten seeds (``generator.synthesis.seeds``) and real test digits (``generator.evaluation.realdata``) pass
through here on their way to ``generator.synthesis.normalize.mnist_normalize``, the very function every generated
image goes through, which takes white ink on a black background. Getting there takes three steps, each a no-op on
an image that is already clean white-on-black (such as an MNIST-style array):

1. **Polarity.** The border of an image is mostly background. If the border's median is nearer the
   image's brightest level than its darkest, the ink is dark on light paper, and the image is inverted.
2. **Paper.** The border's pixels also measure the paper: its level (median) and its noise (the
   median absolute deviation, scaled to a standard deviation). Everything within three standard
   deviations of the paper level is paper; it is subtracted, so paper becomes black and ink keeps
   its grey levels above it. Then the ink is stretched so that its brightest pixel is 255.
3. **Specks** (``denoise``, on by default). Images larger than twice MNIST's frame, that is scans
   and photos, first get a 3x3 median filter: it removes isolated specks and paper grain that would
   otherwise stretch the digit's bounding box, while strokes, many pixels wide at that size, survive.
   Smaller images are left alone: there a stroke can be a single pixel wide. With ``denoise`` off,
   neither the filter nor the noise margin of step 2 is applied.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from generator.errors import InputError
from generator.synthesis.normalize import FRAME, EmptyImageError, mnist_normalize
from generator.synthesis.sanitation import MAD_TO_SIGMA

# Paper is what lies within this many standard deviations of the paper's level.
_PAPER_SIGMAS = 3.0
# Images with a shorter side at least this large are scans, whose strokes survive a median filter.
_SCAN_SIDE = 2 * FRAME
# The border ring is this fraction of the shorter side wide (at least one pixel).
_BORDER_FRACTION = 1 / 16
# The most pixels an image read as a seed or a real digit may have: a 16-megapixel photo. Cleaning one costs
# about 20 bytes a pixel, so this bounds a read at some 350 MB.
MAX_IMAGE_PIXELS = 4096 * 4096


def border_pixels(image: np.ndarray) -> np.ndarray:
    """The pixels of the ring along the image's edges, where the background shows."""
    width = max(1, round(min(image.shape) * _BORDER_FRACTION))
    mask = np.ones(image.shape, bool)
    mask[width:-width, width:-width] = False
    return image[mask]


def ink_is_dark(image: np.ndarray) -> bool:
    """Whether the ink is darker than the background: the border is nearer the brightest level."""
    low, high = float(image.min()), float(image.max())
    return float(np.median(border_pixels(image))) > (low + high) / 2


def remove_paper(image: np.ndarray, *, noise_margin: bool = True) -> np.ndarray:
    """White-on-black ``float32`` -> ``uint8`` with the paper at 0 and the brightest ink at 255.

    Raises:
        EmptyImageError: nothing stands out from the paper.
    """
    border = border_pixels(image)
    paper = float(np.median(border))
    floor = paper
    if noise_margin:
        floor += _PAPER_SIGMAS * MAD_TO_SIGMA * float(np.median(np.abs(border - paper)))
    ink = np.clip(image - floor, 0, None)
    peak = float(ink.max())
    if peak <= 0:
        raise EmptyImageError("nothing stands out from the background")
    return np.round(ink * (255 / peak)).astype(np.uint8)


def clean_real_image(grey: np.ndarray, *, denoise: bool = True) -> np.ndarray:
    """Any greyscale image of one digit -> white ink on black ``uint8``, at the image's own size.

    Steps 1-3 of the module's docstring: polarity, paper and specks. ``prepare_real_image`` then
    normalises the result MNIST's way; handwritten seeds are instead put on the recipe's canvas.

    Args:
        grey: a 2-D array of grey levels (0 black .. 255 white), ink either dark or light.
        denoise: median-filter scans and leave a noise margin above the paper level.

    Raises:
        EmptyImageError: the image holds no ink.
    """
    image = np.asarray(grey, np.float32)
    if denoise and min(image.shape) >= _SCAN_SIDE:
        image = cv2.medianBlur(np.clip(np.round(image), 0, 255).astype(np.uint8), 3).astype(np.float32)
    if ink_is_dark(image):
        image = 255 - image
    return remove_paper(image, noise_margin=denoise)


def prepare_real_image(grey: np.ndarray, *, denoise: bool = True) -> np.ndarray:
    """Any greyscale image of one digit -> the 28x28 ``uint8`` image the generator would have made.

    See the module's docstring for the steps.

    Raises:
        EmptyImageError: the image holds no ink.
    """
    return mnist_normalize(clean_real_image(grey, denoise=denoise))


def check_image_size(width: int, height: int, source: str) -> None:
    """Raises InputError for an image of more than ``MAX_IMAGE_PIXELS`` pixels, before it is decoded."""
    if width * height > MAX_IMAGE_PIXELS:
        raise InputError(
            f"{source} is {width}x{height}, more than {MAX_IMAGE_PIXELS:,} pixels; scale it down "
            "(a digit needs a few hundred pixels a side)"
        )


def read_grey(path: Path) -> np.ndarray:
    """An image file as ``float32`` grey levels 0..255, upright, transparency flattened onto white.

    Raises:
        InputError: Pillow cannot read the file.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns of, then refuses, images of hundreds of megapixels; ours is a lower bound, checked first.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                check_image_size(opened.width, opened.height, str(path))
                image = ImageOps.exif_transpose(opened)  # phone photos store their rotation in EXIF
                image.load()
    except Image.DecompressionBombError:
        raise InputError(
            f"{path} has more than {MAX_IMAGE_PIXELS:,} pixels; scale it down (a digit needs a few hundred)"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(f"{path} is not an image Pillow can read ({exc}); remove it or convert it") from None
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float scans: scale the file's own range to 0..255 rather than clip it.
        values = np.asarray(image, np.float32)
        span = float(values.max() - values.min())
        return (values - values.min()) * (255 / span) if span else np.zeros_like(values)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("L"), np.float32)


def image_files(folder: Path) -> list[Path]:
    """The files under ``folder``, sorted, leaving out hidden ones (``.DS_Store``, ``.git/``)."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )

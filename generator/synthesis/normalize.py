"""MNIST's normalisation and the canvas that deformation works on.

MNIST (LeCun et al.) fitted each digit into a 20x20 box, keeping its aspect ratio and the grey
levels that anti-aliasing produces, and then placed it in a 28x28 frame so that its centre of mass
sits at the centre. Every Afro-MNIST image, generated or real, goes through ``mnist_normalize``.
"""

from __future__ import annotations

import cv2
import numpy as np

FRAME = 28
BOX = 20
# Deformation runs on a larger canvas than 28x28 so that thin strokes survive being bent, and the
# glyph is fitted into a box well inside it so that rotation and shear do not push ink off the edge.
WORKING_SIZE = 64
WORKING_BOX = 40
# Grey levels at or below this (out of 255) are interpolation haze, not ink, for the bounding box.
INK_THRESHOLD = 24


class EmptyImageError(ValueError):
    """The image holds no ink to normalise."""


def ink_bounds(image: np.ndarray, threshold: int = INK_THRESHOLD) -> tuple[int, int, int, int]:
    """``(x, y, width, height)`` of the pixels brighter than ``threshold``; width 0 when none are."""
    return cv2.boundingRect(cv2.threshold(image, threshold, 255, cv2.THRESH_BINARY)[1])


def fit_to_box(image: np.ndarray, box: int, threshold: int = INK_THRESHOLD) -> np.ndarray:
    """Crops to the ink and resizes it so its longer side is ``box``, keeping the aspect ratio.

    Shrinking averages areas, so anti-aliasing is kept; the result is stretched so that its
    brightest pixel is 255, as in MNIST, whatever the stroke width.

    Raises:
        EmptyImageError: nothing in ``image`` is brighter than ``threshold``.
    """
    x, y, width, height = ink_bounds(image, threshold)
    if width == 0:
        raise EmptyImageError("the image has no ink")
    scale = box / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    glyph = cv2.resize(image[y : y + height, x : x + width], size, interpolation=interpolation)
    peak = int(glyph.max())
    if peak == 0:
        raise EmptyImageError("the image has no ink")
    if peak < 255:
        glyph = cv2.convertScaleAbs(glyph, alpha=255.0 / peak)
    return glyph


def place_by_mass(glyph: np.ndarray, frame: int) -> np.ndarray:
    """Pastes ``glyph`` into a ``frame`` x ``frame`` black image with its centre of mass at the centre.

    The centre is pixel ``frame // 2`` on each axis (14 in MNIST's 28x28 frame), counting pixels from 0,
    where MNIST's own digits have it: over its 10,000 test digits the centre of mass lies at (14.01, 13.99)
    on average. The shift is a whole number of pixels, as MNIST's was, so strokes stay sharp and the
    centre of mass ends within half a pixel of that pixel. A glyph whose mass sits so far to one side that
    centring would cut it is moved only as far as the frame allows.
    """
    height, width = glyph.shape
    moments = cv2.moments(glyph)
    centre = frame // 2
    # Plain min/max: np.clip on scalars costs more than the rest of this function.
    left = min(max(round(centre - moments["m10"] / moments["m00"]), 0), frame - width)
    top = min(max(round(centre - moments["m01"] / moments["m00"]), 0), frame - height)
    out = np.zeros((frame, frame), np.uint8)
    out[top : top + height, left : left + width] = glyph
    return out


def mnist_normalize(image: np.ndarray, box: int = BOX, frame: int = FRAME) -> np.ndarray:
    """Any greyscale image of one digit, white ink on black -> an MNIST-style ``uint8`` image.

    Raises:
        EmptyImageError: the image holds no ink.
    """
    return place_by_mass(fit_to_box(image, box), frame)


def normalize_exemplars(canvases: list[list[np.ndarray | None]]) -> list[list[np.ndarray | None]]:
    """``[font][label]`` exemplar canvases, each MNIST-normalised; ``None`` (a glyph the font does not draw) stays."""
    return [[None if canvas is None else mnist_normalize(canvas) for canvas in font] for font in canvases]


def to_canvas(glyph: np.ndarray, size: int = WORKING_SIZE, box: int = WORKING_BOX) -> np.ndarray:
    """Centres a glyph, fitted into ``box``, on the ``size`` x ``size`` canvas that deformation uses."""
    fitted = fit_to_box(glyph, box)
    height, width = fitted.shape
    canvas = np.zeros((size, size), np.uint8)
    top, left = (size - height) // 2, (size - width) // 2
    canvas[top : top + height, left : left + width] = fitted
    return canvas


# Ink at or above this level counts when the pieces of a 28x28 image are counted.
PIECE_THRESHOLD = 64


def count_pieces(image: np.ndarray, threshold: int = PIECE_THRESHOLD) -> int:
    """The number of 8-connected pieces of ink (at or above ``threshold``) in one image."""
    return cv2.connectedComponents((image >= threshold).astype(np.uint8), connectivity=8)[0] - 1


def usual_pieces(images_per_design: list[list[np.ndarray | None]]) -> list[int]:
    """Per class, the most common piece count across designs (the smaller on a tie).

    ``images_per_design`` is ``[design][label]`` MNIST-normalised exemplars (``None`` where a design
    is left out of a class). A generated or real digit in more pieces than this is broken: its stroke
    was cut where its class's designs have none.
    """
    classes = len(images_per_design[0])
    return [
        int(
            np.bincount(
                [count_pieces(design[label]) for design in images_per_design if design[label] is not None]
            ).argmax()
        )
        for label in range(classes)
    ]

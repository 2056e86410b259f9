"""Hands' forms learned from fonts: the model's file, its loading, and the fields it gives.

``scripts/learn_hand_forms.py`` registered the LETTERS (never the digits) of text faces to those of
handwriting-style faces in six scripts (Latin, Cyrillic, Greek, Devanagari, Tamil, Malayalam), on the
generator's working canvas, and fitted a Gaussian to the displacement fields, reduced to a coarse grid:
a mean field, its leading principal components and their standard deviations. It ships beside this
module as ``hand_forms.npz``, with the families, versions and licences it was learned from in
``hand_forms.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from generator.errors import InputError
from generator.synthesis.glyph import INK, LEAST_PART, topology
from generator.synthesis.normalize import WORKING_BOX, WORKING_SIZE, EmptyImageError, mnist_normalize
from generator.synthesis.sanitation import distinctness, vector

MODEL_PATH = Path(__file__).with_name("hand_forms.npz")
# The learned fields are stored in units of the working box (40 px on the 64 px canvas): a field of 0.1 moves ink
# by a tenth of the glyph's larger side, whatever the canvas.
FIELD_UNIT = float(WORKING_BOX)
# Standard normal draws made per image, one per component; a model has at most this many components.
DRAWS = 128


@dataclass(frozen=True)
class HandFormsModel:
    """What the fonts' letters taught: a Gaussian over coarse displacement grids (``grid`` x ``grid`` x (x, y), in
    box units), and ``StrokeWarp``'s arguments as hands' letters vary strokes from type's.

    Attributes:
        stroke_angle: the largest turn of a stroke hanging from a junction, in degrees.
        stroke_length: the range of a hanging stroke's size factor.
        stroke_loop: the range of a loop's size factor.
    """

    grid: int
    mean: np.ndarray
    components: np.ndarray
    deviations: np.ndarray
    stroke_angle: float
    stroke_length: tuple[float, float]
    stroke_loop: tuple[float, float]

    def field(self, draws: np.ndarray, amount: float = 1.0, affine: bool = True) -> np.ndarray:
        """The grid ``(grid, grid, 2)`` for standard normal ``draws`` (one per component), times ``amount``.

        ``affine=False`` takes away the grid's best-fitting affine part (slant, rotation, aspect, shift), which the
        recipe's own ``LeanAffine`` varies, and keeps what bends the glyph.
        """
        count = len(self.deviations)
        nodes = (self.mean + (draws[:count] * self.deviations) @ self.components).reshape(-1, 2)
        if not affine:
            basis = _affine_basis(self.grid)
            nodes = nodes - basis @ np.linalg.lstsq(basis, nodes, rcond=None)[0]
        return (amount * nodes).reshape(self.grid, self.grid, 2).astype(np.float32)


@lru_cache(maxsize=4)
def _affine_basis(grid: int) -> np.ndarray:
    """``(grid * grid, 3)``: 1, x and y at each node, for fitting a field's affine part."""
    ys, xs = np.meshgrid(np.linspace(-1.0, 1.0, grid), np.linspace(-1.0, 1.0, grid), indexing="ij")
    basis = np.stack([np.ones(grid * grid), xs.ravel(), ys.ravel()], axis=1)
    basis.flags.writeable = False
    return basis


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> HandFormsModel:
    """The model saved by ``scripts/learn_hand_forms.py``.

    Raises:
        InputError: the file is missing or unreadable, or its arrays do not fit together.
    """
    try:
        with np.load(path, allow_pickle=False) as saved:
            grid = int(saved["grid"])
            mean, components, deviations = (
                saved[key].astype(np.float64) for key in ("mean", "components", "deviations")
            )
            angle = float(saved["stroke_angle"])
            length, loop = (tuple(float(v) for v in saved[key]) for key in ("stroke_length", "stroke_loop"))
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InputError(
            f"hand-forms model {path} cannot be read ({type(exc).__name__}: {exc}); run scripts/learn_hand_forms.py"
        ) from None
    size = 2 * grid * grid
    if mean.shape != (size,) or components.ndim != 2 or components.shape[1] != size:
        raise InputError(f"hand-forms model {path} holds arrays of mismatched shapes; run scripts/learn_hand_forms.py")
    if not 0 < len(deviations) == len(components) <= DRAWS:
        raise InputError(
            f"hand-forms model {path} has {len(deviations)} deviations for {len(components)} components "
            f"(1 to {DRAWS}); run scripts/learn_hand_forms.py"
        )
    if not (
        0 <= angle <= 90 and len(length) == len(loop) == 2 and 0 < length[0] <= length[1] and 0 < loop[0] <= loop[1]
    ):
        raise InputError(f"hand-forms model {path} holds impossible stroke ranges; run scripts/learn_hand_forms.py")
    return HandFormsModel(grid, mean, components, deviations, angle, length, loop)


def dense_field(nodes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A grid of nodes (box units) as a field over a canvas of ``shape``, in pixels, interpolated bicubically."""
    unit = FIELD_UNIT * shape[0] / WORKING_SIZE
    return cv2.resize(nodes * np.float32(unit), (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


@lru_cache(maxsize=8)
def _pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


def warp(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """``image`` with the ink at each pixel taken from where ``field`` (pixels, x and y) points."""
    xs, ys = _pixel_grid(*image.shape[:2])
    return cv2.remap(image, xs + field[..., 0], ys + field[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def warp_keeping_structure(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """``warp``, or ``image`` itself when the warp would change its pieces or holes (specks left out)."""
    out = warp(image, field)
    kept = topology((out >= INK).astype(np.uint8), LEAST_PART) == topology((image >= INK).astype(np.uint8), LEAST_PART)
    return out if kept else image


def margin(image: np.ndarray, own: np.ndarray, rivals: np.ndarray) -> float:
    """How much better ``image`` (a canvas) correlates with ``own`` than with the nearest of ``rivals`` (vectors of
    ``generator.synthesis.sanitation``); minus one for an image without ink."""
    try:
        row = vector(mnist_normalize(image))
    except EmptyImageError:
        return -1.0
    return float(row @ own) - float(np.max(rivals @ row))


def warp_keeping_margin(image: np.ndarray, field: np.ndarray, rivals: np.ndarray, share: float) -> np.ndarray:
    """``warp_keeping_structure``, keeping at least ``share`` of the glyph's margin over its nearest rival.

    The margin is how much better a glyph correlates with itself, unwarped, than with the nearest of ``rivals``
    (the other numerals of its design): a field that moves whole strokes can carry a numeral that differs from
    another only in a small sign into it. A field that leaves less than ``share`` of the margin is tried at half
    its size, and then not made.
    """
    own = vector(mnist_normalize(image))
    least = share * distinctness(own, rivals)
    for part in (1.0, 0.5):
        out = warp_keeping_structure(image, field * np.float32(part))
        if out is image or margin(out, own, rivals) >= least:
            return out
    return image

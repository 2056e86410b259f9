"""Albumentations transforms for what handwriting has and typesetting lacks.

A font draws a digit with a designer's strokes: thick and thin parts, serifs, clean ends and even
ink. A hand draws the same digit as one line of one pen: the same width all along, ends that stop
short or run on, ink that fades where the pen pressed less, and small gaps. These transforms add
exactly that, on the recipe's white-on-black working canvas.

They subclass albumentations' own transform classes, so a recipe that uses them is still saved and
reloaded with ``albumentations.save`` / ``albumentations.load``; the loader only needs this module
imported first (``generator.recipe.load_recipe`` does that). Every random choice comes from the
transform's seeded generator, so ``Compose(seed=...)`` makes them as reproducible as the library's own.
"""

from __future__ import annotations

from typing import Any

import albumentations as A
import cv2
import numpy as np
from skimage.morphology import skeletonize

# Ink at or above this level (out of 255) belongs to the glyph when its centreline is traced.
_INK = 128
# Neighbour offsets in a 3x3 window, for finding where a centreline ends.
_NEIGHBOURS = np.ones((3, 3), np.float32)


class PenStroke(A.ImageOnlyTransform):
    """Redraws a glyph as one pen would: its centreline, traced with a nib of random size and angle.

    The centreline (the skeleton of the glyph's ink) keeps the digit's shape but drops the font's
    contrast between thick and thin strokes, its serifs and its weight. Each end of the centreline
    may run on by up to ``overshoot`` pixels in the direction the stroke was going, as a hand's
    strokes overshoot where a font's stop. The line is then drawn with an elliptical nib: ``width``
    pixels across, its other axis ``nib_ratio`` times that, turned to a random angle, so that a
    broad nib thickens some strokes more than others, as a slanted pen does.

    Args:
        width: range of the nib's width in pixels.
        nib_ratio: range of the nib's narrow axis as a fraction of its width (1 is a round pen).
        overshoot: range of how far, in pixels, a stroke end runs on.
        overshoot_p: the chance that a given stroke end runs on at all.
        p: the chance that the transform is applied.
    """

    def __init__(
        self,
        width: tuple[float, float] = (3.0, 7.0),
        nib_ratio: tuple[float, float] = (0.5, 1.0),
        overshoot: tuple[float, float] = (0.0, 6.0),
        overshoot_p: float = 0.5,
        p: float = 1.0,
    ):
        super().__init__(p=p)
        self.width = tuple(width)
        self.nib_ratio = tuple(nib_ratio)
        self.overshoot = tuple(overshoot)
        self.overshoot_p = overshoot_p

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("width", "nib_ratio", "overshoot", "overshoot_p")

    def get_params(self) -> dict[str, Any]:
        rng = self.random_generator
        return {
            "width": float(rng.uniform(*self.width)),
            "ratio": float(rng.uniform(*self.nib_ratio)),
            "angle": float(rng.uniform(0.0, 180.0)),
            # The number of stroke ends depends on the glyph, so each end draws from its own stream.
            "end_seed": int(rng.integers(2**32)),
        }

    def apply(
        self, img: np.ndarray, width: float, ratio: float, angle: float, end_seed: int, **params: Any
    ) -> np.ndarray:
        ink = img >= _INK
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        if len(rows) == 0:
            return img
        # Trace the centreline on the ink's bounding box (plus a blank margin), not the whole canvas.
        top, bottom = max(rows[0] - 1, 0), min(rows[-1] + 2, img.shape[0])
        left, right = max(cols[0] - 1, 0), min(cols[-1] + 2, img.shape[1])
        centreline = skeletonize(ink[top:bottom, left:right])
        line = np.zeros(img.shape[:2], np.uint8)
        line[top:bottom, left:right][centreline] = 255
        if self.overshoot_p > 0:
            self._run_on(line, centreline, (left, top), np.random.default_rng(end_seed))
        return cv2.dilate(line, nib(width, ratio, angle))

    def _run_on(
        self, line: np.ndarray, centreline: np.ndarray, offset: tuple[int, int], rng: np.random.Generator
    ) -> None:
        """Extends the centreline's ends in place, each along the direction of its last few pixels.

        The direction at an end points away from the mean position of the centreline's pixels in
        the 9x9 window around it; box filters give those means for every pixel at once.
        """
        mask = centreline.astype(np.float32)
        neighbours = cv2.filter2D(mask, -1, _NEIGHBOURS, borderType=cv2.BORDER_CONSTANT)
        ends = np.argwhere(centreline & (neighbours == 2))  # itself and exactly one neighbour
        runs = rng.random(len(ends)) < self.overshoot_p
        lengths = rng.uniform(*self.overshoot, size=len(ends))
        ends, lengths = ends[runs], lengths[runs]
        if len(ends) == 0:
            return
        ys, xs = np.indices(mask.shape, np.float32)
        window = dict(ddepth=-1, ksize=(9, 9), normalize=False, borderType=cv2.BORDER_CONSTANT)
        count = cv2.boxFilter(mask, **window)[ends[:, 0], ends[:, 1]]
        mean_x = cv2.boxFilter(xs * mask, **window)[ends[:, 0], ends[:, 1]] / count
        mean_y = cv2.boxFilter(ys * mask, **window)[ends[:, 0], ends[:, 1]] / count
        direction = np.stack([ends[:, 1] - mean_x, ends[:, 0] - mean_y], axis=1)
        norms = np.hypot(direction[:, 0], direction[:, 1])
        starts = ends[:, ::-1] + np.array(offset)
        tips = np.rint(starts + direction / np.maximum(norms, 1e-6)[:, None] * lengths[:, None]).astype(int)
        for start, tip, norm in zip(starts.tolist(), tips.tolist(), norms.tolist(), strict=True):
            if norm > 1e-6:
                cv2.line(line, tuple(start), tuple(tip), 255, 1, cv2.LINE_8)


def nib(width: float, ratio: float, angle: float) -> np.ndarray:
    """A filled ellipse ``width`` across and ``width * ratio`` deep, turned ``angle`` degrees."""
    size = int(np.ceil(width)) | 1
    kernel = np.zeros((size, size), np.uint8)
    centre = (size - 1) / 2
    axes = (max(width / 2, 0.5), max(width * ratio / 2, 0.5))
    # cv2.ellipse takes fixed-point coordinates: 4 fractional bits keep sub-pixel sizes.
    shift = 4
    cv2.ellipse(
        kernel,
        (round(centre * 16), round(centre * 16)),
        (round(axes[0] * 16), round(axes[1] * 16)),
        angle,
        0,
        360,
        1,
        -1,
        cv2.LINE_8,
        shift,
    )
    kernel[size // 2, size // 2] = 1
    return kernel


class InkPressure(A.ImageOnlyTransform):
    """Uneven ink: the stroke fades and darkens smoothly along its length, as pen pressure varies.

    The ink is multiplied by a smooth random field: a coarse grid of ``cells`` x ``cells`` levels,
    drawn between ``low`` and 1, interpolated over the image. The background stays black.

    Args:
        low: range of the faintest level the field may reach, as a fraction of full ink.
        cells: range of the grid's size; more cells give faster changes along a stroke.
        p: the chance that the transform is applied.
    """

    def __init__(self, low: tuple[float, float] = (0.3, 0.8), cells: tuple[int, int] = (2, 5), p: float = 0.5):
        super().__init__(p=p)
        self.low = tuple(low)
        self.cells = tuple(cells)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("low", "cells")

    def get_params(self) -> dict[str, Any]:
        rng = self.random_generator
        cells = int(rng.integers(self.cells[0], self.cells[1] + 1))
        low = float(rng.uniform(*self.low))
        return {"levels": rng.uniform(low, 1.0, size=(cells, cells)).astype(np.float32)}

    def apply(self, img: np.ndarray, levels: np.ndarray, **params: Any) -> np.ndarray:
        height, width = img.shape[:2]
        field = cv2.resize(levels, (width, height), interpolation=cv2.INTER_CUBIC)
        return cv2.multiply(img.astype(np.float32), field).clip(0, 255).astype(np.uint8)


class StrokeGaps(A.ImageOnlyTransform):
    """Small gaps where the pen skipped: a few short cuts, each centred on a pixel of ink.

    Unlike ``CoarseDropout``, whose holes mostly fall on the empty background of a digit, every
    cut here lands on the stroke. A cut must be wider than the stroke to break it, so ``size``
    should exceed the pen's width.

    Args:
        gaps: range of the number of cuts.
        size: range of a cut's diameter in pixels.
        p: the chance that the transform is applied.
    """

    def __init__(self, gaps: tuple[int, int] = (1, 3), size: tuple[float, float] = (4.0, 9.0), p: float = 0.5):
        super().__init__(p=p)
        self.gaps = tuple(gaps)
        self.size = tuple(size)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("gaps", "size")

    def get_params(self) -> dict[str, Any]:
        rng = self.random_generator
        count = int(rng.integers(self.gaps[0], self.gaps[1] + 1))
        return {"picks": rng.random(count), "sizes": rng.uniform(*self.size, size=count)}

    def apply(self, img: np.ndarray, picks: np.ndarray, sizes: np.ndarray, **params: Any) -> np.ndarray:
        ink = np.argwhere(img >= _INK)
        if len(ink) == 0:
            return img
        out = img.copy()
        for pick, size in zip(picks, sizes, strict=True):
            y, x = ink[int(pick * len(ink))]
            cv2.circle(out, (int(x), int(y)), max(1, round(size / 2)), 0, -1)
        return out

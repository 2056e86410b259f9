"""Albumentations transforms for what handwriting has and typesetting lacks.

A font draws a digit with a designer's strokes: thick and thin parts, serifs, clean ends and even
ink. A hand draws the same digit as one line of one pen: the same width all along, ends that stop
short or run on, ink that fades where the pen pressed less, and small gaps. These transforms add
exactly that, on the recipe's white-on-black working canvas. ``CoarseElastic`` is the library's
elastic deformation, drawn faster.

They subclass albumentations' own transform classes, so a recipe that uses them is still saved and
reloaded with ``albumentations.save`` / ``albumentations.load``; the loader only needs this module
imported first (``generator.recipe.load_recipe`` does that). Every random choice comes from the
transform's seeded generator, so ``Compose(seed=...)`` makes them as reproducible as the library's own.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist
from typing import Any

import albumentations as A
import cv2
import numpy as np
from albumentations.augmentations.geometric import functional as fgeometric
from skimage.morphology import skeletonize

# Ink at or above this level (out of 255) belongs to the glyph when its centreline is traced.
_INK = 128
# Neighbour offsets in a 3x3 window, for finding where a centreline ends.
_NEIGHBOURS = np.ones((3, 3), np.uint8)
# A stroke end's direction is taken from the centreline within this many pixels of it.
_REACH = 4
# (y, x) offsets of each pixel of that window from its centre, and its (y, x) indices in a centreline
# padded by the reach, relative to the end.
_OFFSETS = np.mgrid[-_REACH : _REACH + 1, -_REACH : _REACH + 1].astype(np.float32)
_WINDOW = np.mgrid[0 : 2 * _REACH + 1, 0 : 2 * _REACH + 1]
# Random draws made for stroke ends; a glyph with more ends reuses them in turn.
_END_DRAWS = 32


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
            # Two draws per stroke end (does it run on, how far), taken in order of the ends. The
            # number of ends depends on the glyph, so a fixed number is drawn and reused cyclically.
            "end_draws": rng.random((2, _END_DRAWS)),
        }

    def apply(
        self, img: np.ndarray, width: float, ratio: float, angle: float, end_draws: np.ndarray, **params: Any
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
            self._run_on(line, centreline, (left, top), end_draws)
        return cv2.dilate(line, nib(width, ratio, angle))

    def _run_on(self, line: np.ndarray, centreline: np.ndarray, offset: tuple[int, int], draws: np.ndarray) -> None:
        """Extends the centreline's ends in place, each along the direction of its last few pixels.

        The direction at an end points away from the mean position of the centreline's pixels in
        the 9x9 window around it.
        """
        mask = centreline.astype(np.uint8)
        neighbours = cv2.filter2D(mask, -1, _NEIGHBOURS, borderType=cv2.BORDER_CONSTANT)
        ends = np.argwhere(centreline & (neighbours == 2))  # itself and exactly one neighbour
        runs, lengths = np.resize(draws, (2, len(ends)))
        lengths = self.overshoot[0] + lengths * (self.overshoot[1] - self.overshoot[0])
        ends, lengths = ends[runs < self.overshoot_p], lengths[runs < self.overshoot_p]
        if len(ends) == 0:
            return
        # Each end's window, cut from the centreline padded by the window's reach.
        padded = cv2.copyMakeBorder(mask, *(_REACH,) * 4, cv2.BORDER_CONSTANT, value=0)
        windows = padded[ends[:, 0, None, None] + _WINDOW[0], ends[:, 1, None, None] + _WINDOW[1]].astype(np.float32)
        count = windows.sum(axis=(1, 2))
        # The end minus the mean position near it, as (x, y).
        direction = np.stack([(windows * _OFFSETS[1]).sum(axis=(1, 2)), (windows * _OFFSETS[0]).sum(axis=(1, 2))], 1)
        direction /= -count[:, None]
        norms = np.hypot(direction[:, 0], direction[:, 1])
        starts = ends[:, ::-1] + np.array(offset)
        tips = np.rint(starts + direction / np.maximum(norms, 1e-6)[:, None] * lengths[:, None]).astype(int)
        for start, tip, norm in zip(starts.tolist(), tips.tolist(), norms.tolist(), strict=True):
            if norm > 1e-6:
                cv2.line(line, tuple(start), tuple(tip), 255, 1, cv2.LINE_8)


def nib(width: float, ratio: float, angle: float) -> np.ndarray:
    """A filled ellipse ``width`` across and ``width * ratio`` deep, turned ``angle`` degrees.

    A pixel belongs to the nib when its centre lies inside the ellipse, so the nib is symmetric
    about its centre pixel at every angle and dilating with it never shifts a stroke.
    """
    radius = int(np.ceil(width / 2))
    dy, dx = _nib_grid(radius)
    turn = np.deg2rad(angle)
    along = dx * np.cos(turn) + dy * np.sin(turn)
    across = -dx * np.sin(turn) + dy * np.cos(turn)
    semi_major, semi_minor = max(width / 2, 0.5), max(width * ratio / 2, 0.5)
    return ((along / semi_major) ** 2 + (across / semi_minor) ** 2 <= 1.0).astype(np.uint8)


@lru_cache(maxsize=16)
def _nib_grid(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) offsets of a square of pixels ``radius`` either side of its centre."""
    dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float64)
    dy.flags.writeable = dx.flags.writeable = False
    return dy, dx


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


# CoarseElastic's grid has this many nodes per sigma. A field smoothed by a Gaussian of sigma keeps
# under 1e-4 of its amplitude at this spacing's Nyquist frequency, so nothing aliases; 1.5 matched
# the library's field as closely as 2 or 4 did in the test's measures, and costs less.
_NODES_PER_SIGMA = 1.5


class CoarseElastic(A.ElasticTransform):
    """``ElasticTransform`` with its displacement field drawn on a coarse grid and interpolated.

    ElasticTransform draws a random vector for every pixel and smooths the field with a Gaussian
    of ``sigma`` pixels, so the field has no detail finer than ``sigma``; yet drawing and smoothing
    it at full size takes most of the transform's time on the recipe's canvas. Here the same field
    is drawn by the library's own generator on a grid with a node every ``sigma / 1.5`` pixels, with
    ``alpha`` and ``sigma`` in grid units, and resized bicubically to the image (as two small matrix
    products, equal to OpenCV's bicubic resize); the warp is the library's own.

    ``alpha`` and ``sigma`` mean what they mean to ElasticTransform. The library scales its noise
    by the noise's own maximum, which is smaller over the grid's fewer nodes, so the field is scaled
    back by the ratio of the two expected maxima: displacements are as large as the library's.
    """

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        step = max(self.sigma / _NODES_PER_SIGMA, 1.0)
        grid = (max(math.ceil(height / step), 2), max(math.ceil(width / step), 2))
        fields = 1 if self.same_dxdy else 2
        scale = _expected_max(fields * grid[0] * grid[1]) / _expected_max(fields * height * width)
        dx, dy = fgeometric.generate_displacement_fields(
            grid,
            self.alpha / step * scale,
            self.sigma / step,
            same_dxdy=self.same_dxdy,
            kernel_size=(0, 0),
            random_generator=self.random_generator,
            noise_distribution=self.noise_distribution,
        )
        xs, ys = _pixel_grid(height, width)
        down, across = _cubic_upsampler(grid[0], height), _cubic_upsampler(grid[1], width)
        map_x = xs + down @ dx @ across.T
        map_y = ys + (map_x - xs if self.same_dxdy else down @ dy @ across.T)
        return {"map_x": map_x, "map_y": map_y}


@lru_cache(maxsize=8)
def _cubic_upsampler(nodes: int, pixels: int) -> np.ndarray:
    """The ``pixels x nodes`` matrix of OpenCV's bicubic resize along one axis (it is separable)."""
    matrix = cv2.resize(np.eye(nodes, dtype=np.float32), (nodes, pixels), interpolation=cv2.INTER_CUBIC)
    matrix.flags.writeable = False
    return matrix


@lru_cache(maxsize=8)
def _pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


@lru_cache(maxsize=32)
def _expected_max(count: int) -> float:
    """The median of the largest of ``count`` absolute standard normal draws."""
    return NormalDist().inv_cdf(1 - math.log(2) / (2 * count))

"""Albumentations transforms for what handwriting has and typesetting lacks.

A font draws a digit with a designer's strokes: thick and thin parts, serifs, clean ends and even
ink. A hand draws the same digit as one line of one pen: the same width all along, ends that stop
short or run on, ink that fades where the pen pressed less, and small gaps. These transforms add
exactly that, on the recipe's white-on-black working canvas. ``CoarseElastic`` is the library's
elastic deformation, drawn faster; ``LeanAffine`` and ``LeanGridDistortion`` are the library's own
warps with less set-up per image, pixel for pixel the same.

How much of each a glyph can take is a property of the glyph: ``clearance`` measures the room between
its strokes once per exemplar, the recipe receives it beside the image, and the shape-changing
transforms scale their strength to it (``clearance_scale``), so a small sign between two bars stays
a sign while an open one-stroke digit is bent freely.

They subclass albumentations' own transform classes, so a recipe that uses them is still saved and
reloaded with ``albumentations.save`` / ``albumentations.load``; the loader only needs this module
imported first (``generator.synthesis.recipe.load_recipe`` does that). Every random choice comes from the
transform's seeded generator, so ``Compose(seed=...)`` makes them as reproducible as the library's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Annotated, Any

import albumentations as A
import cv2
import numpy as np
from albumentations.augmentations.geometric import functional as fgeometric
from albumentations.core.pydantic import check_range_bounds, nondecreasing
from albumentations.core.transforms_interface import BaseTransformInitSchema
from pydantic import AfterValidator, Field
from skimage.morphology import skeletonize

from generator.synthesis.normalize import BOX, EmptyImageError, count_pieces, fit_to_box, ink_bounds

# A recipe.json names each transform by its class's full name, and albumentations loads it back by that name.
# Ours are named as they were before this module moved into generator.synthesis: every recipe.json saved since
# then keeps loading, and a new one is byte for byte what the same recipe gave before the move.
RECIPE_NAMESPACE = "generator.transforms"


class _RecipeName:
    """Gives a transform class its name in recipe files, ``generator.transforms.<class>``, whatever its module."""

    @classmethod
    def get_class_fullname(cls) -> str:
        return f"{RECIPE_NAMESPACE}.{cls.__name__}"


# Ink at or above this level (out of 255) belongs to the glyph when its centreline is traced.
_INK = 128
# Neighbour offsets in a 3x3 window, for finding where a centreline ends.
_NEIGHBOURS = np.ones((3, 3), np.uint8)
# A stroke end's direction is taken from the centreline within this many pixels of it.
_REACH = 4
# A window's (y, x) indices in a centreline padded by the reach, relative to the end; and per pixel
# of the window, the columns (1, x offset, y offset) from its centre, so that one product of a
# flattened window with them gives its pixel count and the sums of their x and y offsets.
_WINDOW = np.mgrid[0 : 2 * _REACH + 1, 0 : 2 * _REACH + 1]
_MOMENTS = np.stack(
    [np.ones(_WINDOW[0].size), (_WINDOW[1] - _REACH).ravel(), (_WINDOW[0] - _REACH).ravel()], axis=1
).astype(np.float32)
# Random draws made for stroke ends; a glyph with more ends reuses them in turn.
_END_DRAWS = 32
# The largest pen radius, in pixels, that ``clearance`` tries; a glyph whose strokes stay apart at
# every radius up to it gets this value plus one.
_MAX_CLEARANCE = 12
# The key under which a recipe receives a glyph's clearance beside its image: ``recipe(image=canvas,
# clearance=clearance(canvas))``. Transforms read it from the call's data; without it they act at full strength.
CLEARANCE_KEY = "clearance"


# Argument types for the transforms' ``InitSchema``: albumentations validates every argument with them
# when a transform is made, or loaded from a saved recipe, and refuses a bad one with a ValueError.
_Range = Annotated[tuple[float, float], AfterValidator(nondecreasing)]
_PositiveRange = Annotated[_Range, AfterValidator(check_range_bounds(0, None, min_inclusive=False))]
_NonNegativeRange = Annotated[_Range, AfterValidator(check_range_bounds(0, None))]
_Fraction = Annotated[float, Field(ge=0, le=1)]


# Specks and pinholes below this many pixels of the working canvas are not parts of a numeral.
_LEAST_PART = 6


@dataclass(frozen=True)
class GlyphShape:
    """What the recipe and sanitation measure once on each exemplar canvas.

    Attributes:
        clearance: how far, in pixels, the glyph's strokes can grow before two of them touch: its room
            to vary. The glyph's centreline is drawn with round pens of radius 1, 2, ... and the
            drawing's topology (its pieces and its holes) is compared with the thinnest pen's; the
            first radius that changes it is the clearance: a pen that wide joins two strokes, closes a
            hole or an opening, or swallows a small part. A one-stroke digit with open curves has a
            large clearance; a numeral told apart by a small sign between two bars has a small one.
        structure: the (pieces, holes) of the centreline drawn with the thinnest pen, specks and
            pinholes under ``_LEAST_PART`` pixels left out: the exemplar's own structure.
    """

    clearance: int
    structure: tuple[int, int]


def measure_glyph(canvas: np.ndarray) -> GlyphShape:
    """The glyph's clearance and structure, from one tracing of its centreline (about a millisecond)."""
    ink = canvas >= _INK
    if not ink.any():
        return GlyphShape(_MAX_CLEARANCE + 1, (0, 0))
    centreline = skeletonize(ink).astype(np.uint8)
    thinnest = cv2.dilate(centreline, _disk(1))
    first, room = _topology(thinnest), _MAX_CLEARANCE + 1
    for radius in range(2, _MAX_CLEARANCE + 1):
        if _topology(cv2.dilate(centreline, _disk(radius))) != first:
            room = radius
            break
    return GlyphShape(room, _topology(thinnest, _LEAST_PART))


def clearance(canvas: np.ndarray) -> int:
    """The glyph's room to vary (``GlyphShape.clearance``), so that every deformation can be scaled to it."""
    return measure_glyph(canvas).clearance


def _topology(mask: np.ndarray, least: int = 1) -> tuple[int, int]:
    """(pieces, holes) of a binary image: 8-connected ink, and 4-connected background but the outside.

    Pieces and holes of fewer than ``least`` pixels are not counted.
    """
    counts = []
    for part, connectivity in ((mask, 8), ((mask == 0).astype(np.uint8), 4)):
        _, _, stats, _ = cv2.connectedComponentsWithStats(part, connectivity=connectivity)
        counts.append(int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= least)))
    return counts[0], counts[1] - 1


def structure(canvas: np.ndarray) -> tuple[int, int]:
    """The (pieces, holes) of a canvas's ink: what a reader uses to tell numerals apart.

    A piece is 8-connected ink at or above the tracing level, a hole 4-connected background
    enclosed by it; specks and pinholes under ``_LEAST_PART`` pixels are left out.
    """
    return _topology((canvas >= _INK).astype(np.uint8), _LEAST_PART)


def traced_structure(canvas: np.ndarray) -> tuple[int, int]:
    """The structure of a glyph's centreline drawn with a thin round pen: the exemplar's own."""
    return measure_glyph(canvas).structure


@lru_cache(maxsize=32)
def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def strength(data: dict[str, Any], scale: tuple[float, float] | None) -> float:
    """How strongly a transform acts on this glyph: ``clip(clearance / reference, floor, 1)``.

    ``scale`` is ``(reference, floor)``: a glyph with ``reference`` pixels of clearance or more takes
    the transform at full strength, and a tighter glyph takes proportionally less, never under
    ``floor``. ``None``, or a call without a clearance, means full strength.
    """
    room = data.get(CLEARANCE_KEY)
    if scale is None or room is None:
        return 1.0
    reference, floor = scale
    return float(min(max(room / reference, floor), 1.0))


def _check_scale(scale: tuple[float, float] | None) -> tuple[float, float] | None:
    if scale is None:
        return None
    reference, floor = (float(value) for value in scale)
    if not (reference > 0 and 0 < floor <= 1):
        raise ValueError(f"clearance_scale {scale!r}: need (reference > 0, 0 < floor <= 1)")
    return reference, floor


_ClearanceScale = Annotated[tuple[float, float] | None, AfterValidator(_check_scale)]


class PenStroke(_RecipeName, A.ImageOnlyTransform):
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
        width_per_clearance: when set, and the call passes the glyph's ``clearance``, the nib's
            width range is shrunk (draws keep their place in it) so that the nib is never wider than
            this many times the clearance: a pen never fills the gaps that tell the glyph apart.
        clearance_scale: ``(reference, floor)``; scales run-on lengths by the glyph's ``strength``.
        p: the chance that the transform is applied.
    """

    class InitSchema(BaseTransformInitSchema):
        width: _PositiveRange
        nib_ratio: Annotated[_Range, AfterValidator(check_range_bounds(0, 1, min_inclusive=False))]
        overshoot: _NonNegativeRange
        overshoot_p: _Fraction
        width_per_clearance: Annotated[float, Field(gt=0)] | None
        clearance_scale: _ClearanceScale

    def __init__(
        self,
        width: tuple[float, float] = (3.0, 7.0),
        nib_ratio: tuple[float, float] = (0.5, 1.0),
        overshoot: tuple[float, float] = (0.0, 6.0),
        overshoot_p: float = 0.5,
        width_per_clearance: float | None = None,
        clearance_scale: tuple[float, float] | None = None,
        p: float = 1.0,
    ):
        super().__init__(p=p)
        self.width = tuple(width)
        self.nib_ratio = tuple(nib_ratio)
        self.overshoot = tuple(overshoot)
        self.overshoot_p = overshoot_p
        self.width_per_clearance = width_per_clearance
        self.clearance_scale = clearance_scale

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return (
            "width",
            "nib_ratio",
            "overshoot",
            "overshoot_p",
            "width_per_clearance",
            "clearance_scale",
        )

    def width_range(self, room: float | None) -> tuple[float, float]:
        """The nib's width range for a glyph of clearance ``room`` (``None``: unknown, the full range)."""
        low, high = self.width
        if self.width_per_clearance is None or room is None:
            return low, high
        cap = self.width_per_clearance * room
        return (min(low, cap), cap) if cap < high else (low, high)

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        (low, high), (new_low, new_high) = self.width, self.width_range(data.get(CLEARANCE_KEY))
        width = params["width"]
        if (new_low, new_high) != (low, high):  # the same draw, at the same place in the range the glyph allows
            width = new_low + (width - low) / max(high - low, 1e-9) * (new_high - new_low)
        return {"width": width, "run_on_scale": strength(data, self.clearance_scale)}

    def get_params(self) -> dict[str, Any]:
        rng = self.random_generator
        params = {
            "width": float(rng.uniform(*self.width)),
            "ratio": float(rng.uniform(*self.nib_ratio)),
            "angle": float(rng.uniform(0.0, 180.0)),
            # Two draws per stroke end (does it run on, how far), taken in order of the ends. The
            # number of ends depends on the glyph, so a fixed number is drawn and reused cyclically.
            "end_draws": rng.random((2, _END_DRAWS)),
        }
        return params

    def apply(
        self,
        img: np.ndarray,
        width: float,
        ratio: float,
        angle: float,
        end_draws: np.ndarray,
        run_on_scale: float = 1.0,
        **params: Any,
    ) -> np.ndarray:
        traced = _trace(img >= _INK)
        if traced is None:
            return img
        centreline, (top, bottom, left, right) = traced
        line = np.zeros(img.shape[:2], np.uint8)
        line[top:bottom, left:right][centreline] = 255
        if self.overshoot_p > 0:
            self._run_on(line, centreline, (left, top), end_draws, run_on_scale)
        return cv2.dilate(line, nib(width, ratio, angle))

    def _run_on(
        self,
        line: np.ndarray,
        centreline: np.ndarray,
        offset: tuple[int, int],
        draws: np.ndarray,
        run_on_scale: float = 1.0,
    ) -> None:
        """Extends the centreline's ends in place, each along the direction of its last few pixels.

        The direction at an end points away from the mean position of the centreline's pixels in
        the 9x9 window around it.
        """
        mask = centreline.astype(np.uint8)
        neighbours = cv2.filter2D(mask, -1, _NEIGHBOURS, borderType=cv2.BORDER_CONSTANT)
        ends = np.argwhere(centreline & (neighbours == 2))  # itself and exactly one neighbour
        runs, lengths = np.resize(draws, (2, len(ends)))
        lengths = (self.overshoot[0] + lengths * (self.overshoot[1] - self.overshoot[0])) * run_on_scale
        ends, lengths = ends[runs < self.overshoot_p], lengths[runs < self.overshoot_p]
        if len(ends) == 0:
            return
        # Each end's window, cut from the centreline padded by the window's reach.
        padded = cv2.copyMakeBorder(mask, *(_REACH,) * 4, cv2.BORDER_CONSTANT, value=0)
        windows = padded[ends[:, 0, None, None] + _WINDOW[0], ends[:, 1, None, None] + _WINDOW[1]]
        moments = windows.reshape(len(ends), -1).astype(np.float32) @ _MOMENTS  # whole numbers: exact
        # The end minus the mean position near it, as (x, y).
        direction = moments[:, 1:] / -moments[:, :1]
        norms = np.hypot(direction[:, 0], direction[:, 1])
        starts = ends[:, ::-1] + np.array(offset)
        tips = np.rint(starts + direction / np.maximum(norms, 1e-6)[:, None] * lengths[:, None]).astype(int)
        for start, tip, norm in zip(starts.tolist(), tips.tolist(), norms.tolist(), strict=True):
            if norm > 1e-6:
                cv2.line(line, tuple(start), tuple(tip), 255, 1, cv2.LINE_8)


def _trace(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The centreline (skeleton) of an ink mask, traced on its bounding box plus a blank margin of one
    pixel, not the whole canvas: ``(centreline of the box, (top, bottom, left, right))``; None without ink.
    """
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0:
        return None
    top, bottom = max(rows[0] - 1, 0), min(rows[-1] + 2, ink.shape[0])
    left, right = max(cols[0] - 1, 0), min(cols[-1] + 2, ink.shape[1])
    return skeletonize(ink[top:bottom, left:right]), (top, bottom, left, right)


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


class InkPressure(_RecipeName, A.ImageOnlyTransform):
    """Uneven ink: the stroke fades and darkens smoothly along its length, as pen pressure varies.

    The ink is multiplied by a smooth random field: a coarse grid of ``cells`` x ``cells`` levels,
    drawn between ``low`` and 1, interpolated over the image. The background stays black.

    Args:
        low: range of the faintest level the field may reach, as a fraction of full ink.
        cells: range of the grid's size; more cells give faster changes along a stroke.
        p: the chance that the transform is applied.
    """

    class InitSchema(BaseTransformInitSchema):
        low: Annotated[_Range, AfterValidator(check_range_bounds(0, 1))]
        cells: Annotated[tuple[int, int], AfterValidator(nondecreasing), AfterValidator(check_range_bounds(1, None))]

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


class SolidInk(_RecipeName, A.ImageOnlyTransform):
    """A line of solid ink with a sharp edge: the grey that resampling spreads around a stroke is taken back.

    Every warp of the recipe samples the image bilinearly and softens the stroke's edge a little, so
    that after several of them a generated numeral sits in a halo of faint grey and has few pixels of
    full ink. A pen's line has neither. This maps the grey levels through a ramp: ink fainter than
    ``edge - softness / 2`` becomes background, ink brighter than ``edge + softness / 2`` full ink,
    and the levels between are stretched over the whole range. The stroke's edge stays where the
    ``edge`` level was, so the line keeps its width; the shrink to MNIST's frame then anti-aliases
    that edge as MNIST's own digits are. Where a stretched stroke has thinned to faint grey, the ramp
    could cut it; an image that would fall into more pieces in MNIST's frame (``count_pieces``) is left as it is.

    Args:
        edge: range of the grey level (0-255) that becomes the edge of the stroke: half ink.
        softness: range of the span of grey levels that stay between background and full ink.
        p: the chance that the transform is applied.
    """

    class InitSchema(BaseTransformInitSchema):
        edge: Annotated[_Range, AfterValidator(check_range_bounds(0, 255))]
        softness: Annotated[_Range, AfterValidator(check_range_bounds(1, 255))]

    def __init__(
        self, edge: tuple[float, float] = (96.0, 160.0), softness: tuple[float, float] = (64.0, 128.0), p: float = 1.0
    ):
        super().__init__(p=p)
        self.edge = tuple(edge)
        self.softness = tuple(softness)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("edge", "softness")

    def get_params(self) -> dict[str, Any]:
        rng = self.random_generator
        return {"edge": float(rng.uniform(*self.edge)), "softness": float(rng.uniform(*self.softness))}

    def apply(self, img: np.ndarray, edge: float, softness: float, **params: Any) -> np.ndarray:
        levels = (np.arange(256) - (edge - softness / 2)) * (255.0 / softness)
        out = cv2.LUT(img, np.clip(levels, 0, 255).round().astype(np.uint8))
        return img if _pieces(out) > _pieces(img) else out


def _pieces(image: np.ndarray) -> int:
    """The number of pieces of ink in ``image`` once it is normalised to MNIST's frame; 0 for no ink.

    Counted on the glyph fitted to MNIST's box: placing it in the frame moves it whole, and costs as much again.
    """
    try:
        return count_pieces(fit_to_box(image, BOX))
    except EmptyImageError:
        return 0


def line_width(mask: np.ndarray) -> float:
    """The width of a glyph's line, from its middle: twice the 90th percentile of the ink's depth."""
    depth = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    return 2.0 * float(np.percentile(depth[mask > 0], 90))


class StrokeGaps(_RecipeName, A.ImageOnlyTransform):
    """Small gaps where the pen skipped: a few short cuts, each centred on a pixel of ink.

    Unlike ``CoarseDropout``, whose holes mostly fall on the empty background of a digit, every
    cut here lands on the stroke. A cut must be wider than the stroke to break it, so ``size``
    should exceed the pen's width; with ``relative_size`` it is given in stroke widths (measured
    on the image with a distance transform), so a gap just breaks the line, whatever the pen.
    A cut that would take most of a small piece (a dot, a short sign) is not made: a hand skips
    within a stroke, it does not lose a part of the numeral.

    Args:
        gaps: range of the number of cuts.
        size: range of a cut's diameter, in pixels, or in stroke widths with ``relative_size``.
        relative_size: read ``size`` in stroke widths.
        p: the chance that the transform is applied.
    """

    class InitSchema(BaseTransformInitSchema):
        gaps: Annotated[tuple[int, int], AfterValidator(nondecreasing), AfterValidator(check_range_bounds(0, None))]
        size: _PositiveRange
        relative_size: bool

    def __init__(
        self,
        gaps: tuple[int, int] = (1, 3),
        size: tuple[float, float] = (4.0, 9.0),
        relative_size: bool = False,
        p: float = 0.5,
    ):
        super().__init__(p=p)
        self.gaps = tuple(gaps)
        self.size = tuple(size)
        self.relative_size = relative_size

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("gaps", "size", "relative_size")

    def get_params(self) -> dict[str, Any]:
        rng = self.random_generator
        count = int(rng.integers(self.gaps[0], self.gaps[1] + 1))
        return {"picks": rng.random(count), "sizes": rng.uniform(*self.size, size=count)}

    def apply(self, img: np.ndarray, picks: np.ndarray, sizes: np.ndarray, **params: Any) -> np.ndarray:
        mask = (img >= _INK).astype(np.uint8)
        ink = np.argwhere(mask)
        if len(ink) == 0:
            return img
        if not self.relative_size:
            out = img.copy()
            for pick, size in zip(picks, sizes, strict=True):
                y, x = ink[int(pick * len(ink))]
                cv2.circle(out, (int(x), int(y)), max(1, round(size / 2)), 0, -1)
            return out
        stroke = line_width(mask)
        _, pieces, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        out = img.copy()
        for pick, size in zip(picks, sizes, strict=True):
            y, x = ink[int(pick * len(ink))]
            radius = max(1, round(size * stroke / 2))
            # A piece is long enough to lose a cut when it holds several cuts' worth of ink.
            if stats[pieces[y, x], cv2.CC_STAT_AREA] > 4 * np.pi * radius * radius:
                cv2.circle(out, (int(x), int(y)), radius, 0, -1)
        return out


# CoarseElastic's grid has this many nodes per sigma. A field smoothed by a Gaussian of sigma keeps
# under 1e-4 of its amplitude at this spacing's Nyquist frequency, so nothing aliases; 1.5 matched
# the library's field as closely as 2 or 4 did in the test's measures, and costs less.
_NODES_PER_SIGMA = 1.5


class _GlyphScaled(_RecipeName):
    """A transform whose strength follows the glyph: ``clearance_scale=(reference, floor)`` (see ``strength``)."""

    def __init__(self, *args: Any, clearance_scale: tuple[float, float] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.clearance_scale = _check_scale(clearance_scale)


class CoarseElastic(_GlyphScaled, A.ElasticTransform):
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

    ``clearance_scale=(reference, floor)`` multiplies ``alpha`` by the glyph's ``strength``, so a
    glyph with little room between its strokes is bent less (see ``clearance``).

    The library's ``approximate`` (a truncated smoothing kernel) has no meaning here, where the field
    is smoothed on the coarse grid; asking for it is refused rather than silently ignored.
    """

    def __init__(self, *args: Any, approximate: bool = False, **kwargs: Any):
        if approximate:
            raise ValueError("CoarseElastic draws its field on a coarse grid already; leave approximate=False")
        super().__init__(*args, **kwargs)

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        step = max(self.sigma / _NODES_PER_SIGMA, 1.0)
        grid = (max(math.ceil(height / step), 2), max(math.ceil(width / step), 2))
        fields = 1 if self.same_dxdy else 2
        scale = _expected_max(fields * grid[0] * grid[1]) / _expected_max(fields * height * width)
        dx, dy = fgeometric.generate_displacement_fields(
            grid,
            self.alpha / step * scale * strength(data, self.clearance_scale),
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

    def apply(self, img: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, **params: Any) -> np.ndarray:
        if img.ndim != 2:
            return super().apply(img, map_x, map_y, **params)
        return _remap(img, np.stack([map_x, map_y], axis=-1).astype(np.float32, copy=False), self)


@lru_cache(maxsize=8)
def _cubic_upsampler(nodes: int, pixels: int) -> np.ndarray:
    """The ``pixels x nodes`` matrix of OpenCV's bicubic resize along one axis (it is separable)."""
    matrix = cv2.resize(np.eye(nodes, dtype=np.float32), (nodes, pixels), interpolation=cv2.INTER_CUBIC)
    matrix.flags.writeable = False
    return matrix


# StrokeWarp asks for a grid of its window's size, which varies with the glyph; at most 64 KiB each.
@lru_cache(maxsize=256)
def _pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


@lru_cache(maxsize=32)
def _expected_max(count: int) -> float:
    """The median of the largest of ``count`` absolute standard normal draws."""
    return NormalDist().inv_cdf(1 - math.log(2) / (2 * count))


# The library's warps spend most of their time on a 64 x 64 canvas outside OpenCV: building two
# affine matrices where one is used, an ``allclose`` identity check, ten ``linspace`` calls for a
# distortion grid, and wrappers that check channels. The two classes below draw the same random
# numbers in the same order and hand OpenCV the same matrix or map, so their output is the library's
# to the byte (tests compare them); they only skip that set-up for single-channel images.
#
# To draw the same numbers they call the library's private helpers (``_get_translate_params``,
# ``_get_shear_params``, ``_get_scale``) and read its ``py_random``. That is safe because
# pyproject.toml pins albumentations to exactly 2.0.8, its last MIT release, which will not change;
# tests/test_transforms.py compares both classes with the library's output byte for byte, so a change
# of pin that moved those helpers fails there first.

# What ``numpy.allclose(matrix, eye(3))`` accepts as the identity, as one comparison.
_EYE = np.eye(3)
_IDENTITY_TOLERANCE = 1e-8 + 1e-5 * np.abs(_EYE)


class LeanAffine(_GlyphScaled, A.Affine):
    """``Affine``, pixel for pixel, with its per-image set-up cut for single-channel images.

    The library builds a second matrix for boxes and keypoints on every call; it is built here only
    when the call carries any. An output shape fitted to the warp (``fit_output``) is left to the library.

    ``clearance_scale=(reference, floor)`` scales the drawn rotation, shear and change of scale by
    the glyph's ``strength`` (single images only; with boxes or keypoints the library's draw stands).

    ``squeeze`` (0-1) draws a glyph whose ink is wider than tall narrower than its drawn scale says:
    its width is multiplied by ``(height / width) ** squeeze``, measured on the ink (at least half
    ink) of the single-channel image it is given. A hand keeps a numeral within about a square; 0 leaves
    the library's scale alone, 1 makes every wide glyph square. A glyph as tall as wide or taller is not
    changed.
    """

    def __init__(self, *args: Any, squeeze: float = 0.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not 0.0 <= squeeze <= 1.0:
            raise ValueError(f"squeeze {squeeze!r}: need a number from 0 to 1")
        self.squeeze = float(squeeze)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return (*super().get_transform_init_args_names(), "squeeze")

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        if self.fit_output or "bboxes" in data or "keypoints" in data:
            return super().get_params_dependent_on_data(params, data)
        image_shape = params["shape"][:2]
        # The library's own draws, in its order.
        translate = self._get_translate_params(image_shape)
        shear = self._get_shear_params()
        scale = self._get_scale(self.scale, self.keep_ratio, self.balanced_scale, self.py_random)
        rotate = self.py_random.uniform(*self.rotate)
        factor = strength(data, self.clearance_scale)
        if factor != 1.0:
            shear = {axis: value * factor for axis, value in shear.items()}
            scale = {axis: 1.0 + (value - 1.0) * factor for axis, value in scale.items()}
            rotate *= factor
        if self.squeeze and data["image"].ndim == 2:
            _, _, width, height = ink_bounds(data["image"], _INK - 1)
            if width > height > 0:
                scale = {**scale, "x": scale["x"] * (height / width) ** self.squeeze}
        matrix = fgeometric.create_affine_transformation_matrix(
            translate, shear, scale, rotate, fgeometric.center(image_shape)
        )
        return {"rotate": rotate, "scale": scale, "matrix": matrix, "output_shape": image_shape}

    def apply(self, img: np.ndarray, matrix: np.ndarray, output_shape: tuple[int, int], **params: Any) -> np.ndarray:
        if img.ndim != 2:
            return super().apply(img, matrix, output_shape, **params)
        if (np.abs(matrix - _EYE) <= _IDENTITY_TOLERANCE).all():
            return img
        height, width = int(np.round(output_shape[0])), int(np.round(output_shape[1]))
        return cv2.warpAffine(
            img,
            matrix[:2, :],
            (width, height),
            flags=self.interpolation,
            borderMode=self.border_mode,
            borderValue=fgeometric.extend_value(self.fill, 1),
        )


class LeanGridDistortion(_GlyphScaled, A.GridDistortion):
    """``GridDistortion``, pixel for pixel, with its grid built in a few array operations.

    The library fills each axis of the grid cell by cell with ``linspace``; here each axis is one
    broadcast of the same arithmetic, and the two axes go to OpenCV as one map.

    ``clearance_scale=(reference, floor)`` scales each step's distortion by the glyph's ``strength``.
    """

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        # The library's own draws, in its order.
        steps_x = [1 + self.py_random.uniform(*self.distort_limit) for _ in range(self.num_steps + 1)]
        steps_y = [1 + self.py_random.uniform(*self.distort_limit) for _ in range(self.num_steps + 1)]
        factor = strength(data, self.clearance_scale)
        if factor != 1.0:
            steps_x = [1 + (step - 1) * factor for step in steps_x]
            steps_y = [1 + (step - 1) * factor for step in steps_y]
        if self.normalized:
            normalized = fgeometric.normalize_grid_distortion_steps((height, width), self.num_steps, steps_x, steps_y)
            steps_x, steps_y = normalized["steps_x"], normalized["steps_y"]
        map_xy = np.empty((height, width, 2), np.float32)
        map_xy[..., 0] = _grid_axis(width, steps_x, self.num_steps)
        map_xy[..., 1] = _grid_axis(height, steps_y, self.num_steps)[:, None]
        return {"map_x": map_xy[..., 0], "map_y": map_xy[..., 1], "map_xy": map_xy}

    def apply(self, img: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, **params: Any) -> np.ndarray:
        if img.ndim != 2:
            return super().apply(img, map_x, map_y, **params)
        return _remap(img, params["map_xy"], self)


def _grid_axis(size: int, steps: list[float], num_steps: int) -> np.ndarray:
    """One axis of ``fgeometric.generate_grid``: the same values, from the same float64 arithmetic.

    Cell ``i`` runs from the sum of the steps before it to that sum plus its own step, both times
    the cell size, and ``linspace`` fills it: ``arange(n) * ((stop - start) / (n - 1)) + start``
    with its last value set to ``stop``. Cells that are not full or not longer than one pixel, or
    whose step is zero, go through ``linspace`` itself.
    """
    cell = size // num_steps
    starts, stops = [], []
    previous = 0.0
    for step in steps:
        current = previous + cell * step
        starts.append(previous)
        stops.append(current)
        previous = current
    axis = np.zeros(size, np.float32)
    full = min(len(steps), size // cell) if cell > 1 else 0
    start, stop = np.array(starts[:full], np.float64), np.array(stops[:full], np.float64)
    increment = (stop - start) / (cell - 1) if full else start
    if full and (increment != 0).all():
        values = np.arange(cell, dtype=np.float64) * increment[:, None] + start[:, None]
        values[:, -1] = stop
        axis[: full * cell] = values.ravel()
    else:
        full = 0
    for index in range(full, len(steps)):
        first = index * cell
        last = min(first + cell, size)
        if last > first:
            axis[first:last] = np.linspace(starts[index], stops[index], last - first)
    return axis


def _remap(img: np.ndarray, map_xy: np.ndarray, transform: A.DualTransform) -> np.ndarray:
    """``fgeometric.remap`` for a single-channel image: one OpenCV call on a two-channel float32 map."""
    return cv2.remap(
        img,
        map_xy,
        None,
        interpolation=transform.interpolation,
        borderMode=transform.border_mode,
        borderValue=transform.fill,
    )


# Random draws made per stroke (turn, length, bow); a glyph with more strokes reuses them in turn.
_STROKE_DRAWS = 24
# Fixed-point steps that turn the forward field (where ink goes) into remap's backward map (where it comes from).
_INVERSION_STEPS = 3
# Strokes of fewer centreline pixels than this (the spurs skeletonisation leaves) are not moved.
_LEAST_STROKE = 3
# The stroke field is smoothed with a Gaussian of this many pixels, so strokes' seams do not tear the ink.
_SEAM_SIGMA = 1.5


class StrokeWarp(_GlyphScaled, A.ImageOnlyTransform):
    """Varies each stroke of the glyph on its own, as a hand varies one stroke and not its neighbour.

    The glyph's centreline is cut at its junctions into strokes. A stroke that hangs from a junction
    by one end (a tail, a flag, an arm) turns about that junction by up to ``angle`` degrees and
    grows or shrinks by a factor drawn from ``length``. A stroke between two junctions bows sideways
    by up to ``bend`` of its length, most in its middle, so both junctions stay put; a loop that leaves
    a junction and comes back to it grows or shrinks about that junction instead, by a factor drawn
    from ``loop`` (from ``length`` when it is None). A piece with no junction is left to the whole
    glyph's slant and rotation.
    So every stroke stays attached where it was, the glyph keeps its pieces and holes, and the
    proportions and angles of its parts change independently, which one smooth field cannot do.

    The displacement is set on the centreline, carried to the ink around it (each pixel follows its
    nearest centreline pixel), smoothed across the seams, and inverted to warp the image.

    Args:
        angle: the largest turn of a hanging stroke, in degrees.
        length: range of a hanging stroke's size factor.
        bend: the largest sideways bow of a stroke between junctions, as a fraction of its length.
        clearance_scale: ``(reference, floor)``; scales the turn, the change of size and the bow by the
            glyph's ``strength``, so a tight glyph's strokes move less.
        loop: range of a loop's size factor; None draws it from ``length``.
        p: the chance that the transform is applied.
    """

    class InitSchema(BaseTransformInitSchema):
        angle: Annotated[float, Field(ge=0, le=90)]
        length: _PositiveRange
        bend: Annotated[float, Field(ge=0, le=1)]
        clearance_scale: _ClearanceScale
        loop: _PositiveRange | None

    def __init__(
        self,
        angle: float = 30.0,
        length: tuple[float, float] = (0.7, 1.3),
        bend: float = 0.25,
        clearance_scale: tuple[float, float] | None = None,
        loop: tuple[float, float] | None = None,
        p: float = 0.8,
    ):
        super().__init__(p=p, clearance_scale=clearance_scale)
        self.angle = angle
        self.length = tuple(length)
        self.bend = bend
        self.loop = None if loop is None else tuple(loop)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("angle", "length", "bend", "clearance_scale", "loop")

    def get_params(self) -> dict[str, Any]:
        # Three uniform draws per stroke (turn, size, bow). The number of strokes depends on the glyph,
        # so a fixed number is drawn and reused cyclically.
        return {"stroke_draws": self.random_generator.random((3, _STROKE_DRAWS))}

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        return {"amount": strength(data, self.clearance_scale)}

    def apply(self, img: np.ndarray, stroke_draws: np.ndarray, amount: float = 1.0, **params: Any) -> np.ndarray:
        made = stroke_field(img >= _INK, stroke_draws, self.angle, self.length, self.bend, amount, self.loop)
        if made is None:
            return img
        field, window = made
        grid_x, grid_y = _pixel_grid(*field.shape[:2])
        source_x, source_y = grid_x, grid_y
        for _ in range(_INVERSION_STEPS):  # find, for each output pixel, the source pixel the field moves onto it
            shift = cv2.remap(field, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            source_x, source_y = grid_x - shift[..., 0], grid_y - shift[..., 1]
        out = img.copy()
        out[window] = cv2.remap(img[window], source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        return out


@dataclass(frozen=True)
class StrokeGraph:
    """A glyph's centreline cut into strokes: what ``StrokeWarp`` measures once per exemplar.

    A centreline pixel's displacement is ``a[s] * along + b[s] * across``, where ``s`` is its
    ``stroke`` and ``a``, ``b`` are drawn per stroke; ``along`` and ``across`` are the pixel's own:

    - a stroke that ``hangs`` from a junction by one end turns and grows about its pivot: ``along``
      is the pixel's offset from the pivot, ``across`` that offset turned by 90 degrees;
    - a ``loop`` (a stroke that leaves a junction and comes back to it) grows about the point between
      its ends: ``along`` is the offset from there;
    - any other stroke held at both ends ``bows``: ``along`` is the normal of its chord, as long as the
      pixel moves when the stroke bows by its whole length (its reach times ``sin(pi t)``, ``t`` running
      from one end to the other), so that ``a`` is the bend.

    Stroke 0 (junctions, and strokes too short to move) stays still. ``box`` is the glyph's
    ``(top, bottom, left, right)``; ``nearest`` gives every canvas pixel its nearest centreline pixel,
    from 1 in raster order.
    """

    stroke: np.ndarray
    along: np.ndarray
    across: np.ndarray
    hangs: np.ndarray
    loop: np.ndarray
    bows: np.ndarray
    box: tuple[int, int, int, int]
    nearest: np.ndarray


def stroke_field(
    ink: np.ndarray,
    draws: np.ndarray,
    angle: float,
    length: tuple[float, float],
    bend: float,
    amount: float = 1.0,
    loop: tuple[float, float] | None = None,
) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """``StrokeWarp``'s displacement field ``(h, w, 2)`` as (x, y), and the window of the canvas it covers.

    ``ink`` is the glyph's mask; ``draws`` is ``(3, n)`` uniform draws, taken per stroke in turn. A
    loop's size factor is drawn from ``loop``, or from ``length`` when it is None. The turn, the bow
    and the size factor's distance from 1 are all multiplied by ``amount``. The window is
    the glyph's box grown by the largest displacement, so no ink leaves it. None when the glyph has no
    stroke to move.
    """
    graph = _stroke_graph(np.packbits(ink).tobytes(), ink.shape)
    if graph is None:
        return None
    turn_draw, size_draw, bow_draw = draws[:, np.arange(len(graph.hangs)) % draws.shape[1]]
    grow = 1 + amount * (length[0] + size_draw * (length[1] - length[0]) - 1)
    loop_low, loop_high = loop or length
    loop_grow = 1 + amount * (loop_low + size_draw * (loop_high - loop_low) - 1)
    turn = np.radians((2 * turn_draw - 1) * (angle * amount))
    a = np.where(
        graph.hangs, grow * np.cos(turn) - 1, np.where(graph.loop, loop_grow - 1, (2 * bow_draw - 1) * bend * amount)
    )
    a[~(graph.hangs | graph.loop | graph.bows)] = 0.0
    b = np.where(graph.hangs, grow * np.sin(turn), 0.0)
    shifts = np.zeros((len(graph.stroke) + 1, 2), np.float32)
    shifts[1:] = a[graph.stroke, None] * graph.along + b[graph.stroke, None] * graph.across
    # The window: the glyph's box grown by the largest shift, so every moved pixel stays inside it.
    margin = math.ceil(float(np.abs(shifts).max()) * math.sqrt(2)) + 2
    top, bottom, left, right = graph.box
    window = (
        slice(max(top - margin, 0), min(bottom + margin, ink.shape[0])),
        slice(max(left - margin, 0), min(right + margin, ink.shape[1])),
    )
    # Every pixel follows its nearest centreline pixel; the field is then smoothed across strokes' seams.
    return cv2.GaussianBlur(shifts[graph.nearest[window]], (0, 0), _SEAM_SIGMA), window


# Glyphs whose stroke graphs a worker keeps: every exemplar of a large spec (68 Latin designs x 10) fits.
_GRAPHS_KEPT = 1024


@lru_cache(maxsize=_GRAPHS_KEPT)
def _stroke_graph(packed: bytes, shape: tuple[int, int]) -> StrokeGraph | None:
    """The ``StrokeGraph`` of the ink mask packed in ``packed`` (``np.packbits``), or None if nothing can move.

    The recipe's first step sees only exemplars, so each glyph is traced once per worker.
    """
    ink = np.unpackbits(np.frombuffer(packed, np.uint8), count=shape[0] * shape[1]).reshape(shape).astype(bool)
    traced = _trace(ink)
    if traced is None:
        return None
    centreline, box = traced
    line = np.zeros(shape, np.uint8)
    line[box[0] : box[1], box[2] : box[3]] = centreline
    neighbours = cv2.filter2D(line, -1, _NEIGHBOURS, borderType=cv2.BORDER_CONSTANT)  # itself included
    # Junctions (three or more branches), grown by a pixel, cut the centreline into strokes.
    junctions = cv2.dilate(((neighbours >= 4) & (line > 0)).astype(np.uint8), _NEIGHBOURS) & line
    count, labels = cv2.connectedComponents(line & (1 - junctions), connectivity=8)
    ys, xs = np.nonzero(line)
    stroke = labels[ys, xs]
    x, y = xs.astype(np.float64), ys.astype(np.float64)
    held = (cv2.dilate(junctions, _NEIGHBOURS)[ys, xs] > 0) & (stroke > 0)
    free = (neighbours[ys, xs] == 2) & (stroke > 0)
    size = np.bincount(stroke, minlength=count)
    holds = np.bincount(stroke[held], minlength=count)
    ends = np.bincount(stroke[free], minlength=count)
    moving = (size >= _LEAST_STROKE) & (np.arange(count) > 0)
    hangs, between = moving & (holds > 0) & (ends > 0), moving & (holds > 0) & (ends == 0)
    if not (hangs | between).any():
        return None
    pivot_x = np.bincount(stroke[held], x[held], count) / np.maximum(holds, 1)
    pivot_y = np.bincount(stroke[held], y[held], count) / np.maximum(holds, 1)
    along = np.stack([x - pivot_x[stroke], y - pivot_y[stroke]], axis=1)
    across = np.stack([-along[:, 1], along[:, 0]], axis=1)
    loop = np.zeros(count, bool)
    bows = between[stroke]
    if bows.any():
        loop, along[bows] = _bow_geometry(x, y, stroke, held, bows, count)
    # DIST_LABEL_PIXEL numbers the centreline's pixels from 1 in raster order, the order np.nonzero lists them in.
    _, nearest = cv2.distanceTransformWithLabels(1 - line, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
    stroke = np.where(moving[stroke], stroke, 0)
    return StrokeGraph(
        stroke,
        along.astype(np.float32),
        across.astype(np.float32),
        hangs,
        loop & between,
        between & ~loop,
        box,
        nearest,
    )


def _bow_geometry(
    x: np.ndarray, y: np.ndarray, stroke: np.ndarray, held: np.ndarray, bows: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which strokes held at both ends are loops, and the ``along`` of their pixels ``bows``.

    Each such stroke's ends are ``a``, its first held pixel, and ``b``, its held pixel farthest from
    ``a``. A loop has ``a`` and ``b`` closer than half its reach (its farthest pixel from ``a``): both ends
    at one junction; its pixels' ``along`` is their offset from the point between ``a`` and ``b``. Any
    other such stroke bows along the normal of a-b by its reach times ``sin(pi t)``, ``t`` running from
    0 at ``a`` to 1 at ``b``: most in its middle.
    """
    at = np.flatnonzero(held & bows)
    owner = stroke[at]
    _, first = np.unique(owner, return_index=True)
    a_x, a_y = np.zeros(count), np.zeros(count)
    a_x[owner[first]], a_y[owner[first]] = x[at[first]], y[at[first]]
    reach = np.hypot(x[at] - a_x[owner], y[at] - a_y[owner])
    order = np.lexsort((-reach, owner))
    _, farthest = np.unique(owner[order], return_index=True)
    picked = at[order[farthest]]
    b_x, b_y = a_x.copy(), a_y.copy()
    b_x[stroke[picked]], b_y[stroke[picked]] = x[picked], y[picked]
    k = stroke[bows]
    px, py = x[bows], y[bows]
    from_a, from_b = np.hypot(px - a_x[k], py - a_y[k]), np.hypot(px - b_x[k], py - b_y[k])
    span = np.zeros(count)
    np.maximum.at(span, k, from_a)
    chord_x, chord_y = b_x - a_x, b_y - a_y
    chord = np.hypot(chord_x, chord_y)
    loop = chord < span / 2
    safe = np.maximum(chord, 1e-9)[k]
    bow = span[k] * np.sin(np.pi * from_a / np.maximum(from_a + from_b, 1e-9))
    along = np.where(
        loop[k, None],
        np.stack([px - (a_x + b_x)[k] / 2, py - (a_y + b_y)[k] / 2], axis=1),
        np.stack([-bow * chord_y[k] / safe, bow * chord_x[k] / safe], axis=1),
    )
    return loop, along


class OpenCorner(_RecipeName, A.ImageOnlyTransform):
    """A loop left open at its sharpest corner, where a hand lifts the pen and starts the next stroke.

    A closed counter with a sharp corner (the apex of a 4's triangle, say) is often written as two
    strokes that need not meet there. The cut is found once per glyph (``open_corner_cut``): the
    corner of a hole (the background a loop encloses) whose inside angle is under ``angle`` degrees,
    the sharpest such corner of the glyph; the ink between that corner and the outside is erased. A
    round loop has no such corner. A hole narrower than ``least_room`` line widths is left closed: a
    small counter, such as a sign's, is drawn in one movement. A cut that would open two loops at once
    or split a stroke off is not made, so a numeral keeps every part and all its other loops.

    Args:
        angle: the widest corner, in degrees, at which a loop may be left open.
        size: range of the opening's width, in units of the ink it cuts through.
        least_room: the narrowest hole that may be opened, as its widest inscribed circle's diameter in
            line widths.
        p: the chance that the transform is applied (to a glyph that has such a corner).
    """

    class InitSchema(BaseTransformInitSchema):
        angle: Annotated[float, Field(gt=0, lt=180)]
        size: _PositiveRange
        least_room: Annotated[float, Field(ge=0)]

    def __init__(
        self, angle: float = 60.0, size: tuple[float, float] = (1.0, 2.0), least_room: float = 0.0, p: float = 0.5
    ):
        super().__init__(p=p)
        self.angle = angle
        self.size = tuple(size)
        self.least_room = least_room

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("angle", "size", "least_room")

    def get_params(self) -> dict[str, Any]:
        return {"widen": float(self.random_generator.uniform(*self.size))}

    def apply(self, img: np.ndarray, widen: float = 1.0, **params: Any) -> np.ndarray:
        mask = img >= _INK
        cut = open_corner_cut(np.packbits(mask).tobytes(), mask.shape, self.angle, self.least_room)
        if cut is None:
            return img
        (x, y), radius, pieces = cut
        out = img.copy()
        cv2.circle(out, (round(x), round(y)), max(1, round(radius * widen)), 0, -1)
        if _topology((out >= _INK).astype(np.uint8), _LEAST_PART)[0] != pieces:
            return img  # widened, the cut would take a part away
        return out


# A corner's angle is measured between the points of the hole's outline this many pixels (or a sixteenth
# of the outline, if more) before and after it: a round loop's outline turns slowly, a corner's at once.
_CORNER_REACH = 4


@lru_cache(maxsize=_GRAPHS_KEPT)
def open_corner_cut(
    packed: bytes, shape: tuple[int, int], angle: float, least_room: float = 0.0
) -> tuple[tuple[float, float], float, int] | None:
    """Where ``OpenCorner`` cuts the ink mask packed in ``packed``: the centre and radius of the disk
    erased, and the glyph's count of pieces, which the cut keeps.

    None when no hole at least ``least_room`` line widths wide has a corner under ``angle`` degrees
    whose cut opens that hole alone.
    """
    mask = np.unpackbits(np.frombuffer(packed, np.uint8), count=shape[0] * shape[1]).reshape(shape).astype(np.uint8)
    pieces, holes = _topology(mask, _LEAST_PART)
    if holes == 0:
        return None
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(1 - mask, connectivity=4)
    outside = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())
    line = line_width(mask)
    room = cv2.distanceTransform(1 - mask, cv2.DIST_L2, 3)
    best = None
    for hole in range(1, count):
        if hole in outside or stats[hole, cv2.CC_STAT_AREA] < _LEAST_PART:
            continue
        if 2.0 * float(room[labels == hole].max()) < least_room * line:
            continue
        contours, _ = cv2.findContours((labels == hole).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        outline = max(contours, key=len)[:, 0, :].astype(np.float64)
        reach = max(_CORNER_REACH, len(outline) // 16)
        if len(outline) < 4 * reach:
            continue
        before, after = np.roll(outline, reach, axis=0) - outline, np.roll(outline, -reach, axis=0) - outline
        cosine = (before * after).sum(1) / np.maximum(np.hypot(*before.T) * np.hypot(*after.T), 1e-9)
        corners = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
        index = int(np.argmin(corners))
        if corners[index] >= angle or (best is not None and corners[index] >= best[0]):
            continue
        cut = _cut_outwards(mask, outline[index], centroids[hole])
        if cut is None:
            continue
        trial = mask.copy()
        (x, y), radius = cut
        cv2.circle(trial, (round(x), round(y)), max(1, round(radius)), 0, -1)
        if _topology(trial, _LEAST_PART) == (pieces, holes - 1):
            best = (corners[index], cut)
    return None if best is None else (*best[1], pieces)


def _cut_outwards(mask: np.ndarray, corner: np.ndarray, centre: np.ndarray) -> tuple[tuple[float, float], float] | None:
    """The disk that erases the ink beyond a hole's ``corner``, going away from the hole's ``centre``.

    March from the corner, half a pixel at a time, through the ink to the background beyond it; the
    disk spans that run of ink, with a pixel to spare. None when the march meets no ink.
    """
    direction = corner - centre
    direction /= max(float(np.hypot(*direction)), 1e-9)
    step, inside = 1.0, None
    while step < 4 * _MAX_CLEARANCE:
        x, y = corner + step * direction
        if not (0 <= round(y) < mask.shape[0] and 0 <= round(x) < mask.shape[1]):
            break
        if mask[round(y), round(x)]:
            inside = step if inside is None else inside
        elif inside is not None:
            break
        step += 0.5
    if inside is None:
        return None
    middle = corner + (inside + step) / 2 * direction
    return (float(middle[0]), float(middle[1])), (step - inside) / 2 + 1.0

"""Pen and ink: the transforms that redraw a glyph as one pen's line, make its ink solid or uneven, and leave
gaps where the pen skipped. Each draws its arguments from the recipe's seeded generator and hands them to a
kernel in ``functional.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

import albumentations as A
import numpy as np
from albumentations.core.pydantic import check_range_bounds, nondecreasing
from albumentations.core.transforms_interface import BaseTransformInitSchema
from pydantic import AfterValidator, Field

from generator.synthesis.recipe.core import (
    CLEARANCE_KEY,
    ClearanceScale,
    Fraction,
    NonNegativeRange,
    PositiveRange,
    Range,
    RecipeName,
    strength,
)
from generator.synthesis.recipe.pen import functional as fpen

# Random draws made for stroke ends; a glyph with more ends reuses them in turn.
_END_DRAWS = 32


class PenStroke(RecipeName, A.ImageOnlyTransform):
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
        width: PositiveRange
        nib_ratio: Annotated[Range, AfterValidator(check_range_bounds(0, 1, min_inclusive=False))]
        overshoot: NonNegativeRange
        overshoot_p: Fraction
        width_per_clearance: Annotated[float, Field(gt=0)] | None
        clearance_scale: ClearanceScale

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
        return fpen.pen_line(img, width, ratio, angle, end_draws, self.overshoot, self.overshoot_p, run_on_scale)


class InkPressure(RecipeName, A.ImageOnlyTransform):
    """Uneven ink: the stroke fades and darkens smoothly along its length, as pen pressure varies.

    The ink is multiplied by a smooth random field: a coarse grid of ``cells`` x ``cells`` levels,
    drawn between ``low`` and 1, interpolated over the image. The background stays black.

    Args:
        low: range of the faintest level the field may reach, as a fraction of full ink.
        cells: range of the grid's size; more cells give faster changes along a stroke.
        p: the chance that the transform is applied.
    """

    class InitSchema(BaseTransformInitSchema):
        low: Annotated[Range, AfterValidator(check_range_bounds(0, 1))]
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
        return fpen.pressure(img, levels)


class SolidInk(RecipeName, A.ImageOnlyTransform):
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
        edge: Annotated[Range, AfterValidator(check_range_bounds(0, 255))]
        softness: Annotated[Range, AfterValidator(check_range_bounds(1, 255))]

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
        return fpen.solid_ink(img, edge, softness)


class StrokeGaps(RecipeName, A.ImageOnlyTransform):
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
        size: PositiveRange
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
        return fpen.stroke_gaps(img, picks, sizes, self.relative_size)

"""Strokes: the transforms that vary a glyph stroke by stroke (``StrokeWarp``) and leave a loop open where a
hand lifts the pen (``OpenCorner``). Each draws its arguments from the recipe's seeded generator; the glyph's
strokes and corners are found by the kernels in ``functional.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

import albumentations as A
import numpy as np
from albumentations.core.transforms_interface import BaseTransformInitSchema
from pydantic import Field

from generator.synthesis.glyph import INK
from generator.synthesis.recipe.core import ClearanceScale, GlyphScaled, PositiveRange, RecipeName, strength
from generator.synthesis.recipe.strokes import functional as fstrokes

# Random draws made per stroke (turn, length, bow); a glyph with more strokes reuses them in turn.
_STROKE_DRAWS = 24


class StrokeWarp(GlyphScaled, A.ImageOnlyTransform):
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
        length: PositiveRange
        bend: Annotated[float, Field(ge=0, le=1)]
        clearance_scale: ClearanceScale
        loop: PositiveRange | None

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
        made = fstrokes.stroke_field(img >= INK, stroke_draws, self.angle, self.length, self.bend, amount, self.loop)
        if made is None:
            return img
        return fstrokes.warp_by_field(img, *made)


class OpenCorner(RecipeName, A.ImageOnlyTransform):
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
        size: PositiveRange
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
        mask = img >= INK
        cut = fstrokes.open_corner_cut(np.packbits(mask).tobytes(), mask.shape, self.angle, self.least_room)
        if cut is None:
            return img
        return fstrokes.open_corner(img, cut, widen)


# Random draws made per piece (turn, size, shift across, shift down); a glyph with more pieces reuses them.
_PIECE_DRAWS = 8


class PieceAffine(GlyphScaled, A.ImageOnlyTransform):
    """Each piece of a glyph drawn in several pieces placed on its own, as a hand places each stroke it lifts
    the pen between: turned by up to ``angle`` degrees, scaled by a factor from ``scale`` and shifted by up to
    ``shift`` of the glyph's larger side, about the piece's own centre. A glyph in one piece is left alone.

    Args:
        shift: the largest shift of a piece, across and down, as a fraction of the glyph's larger side.
        angle: the largest turn of a piece, in degrees.
        scale: range of a piece's size factor.
        clearance_scale: ``(reference, floor)``; scales the turn, the shift and the change of size by the glyph's
            ``strength``, so that a sign close to a bar moves less.
        p: the chance that the transform is applied.
    """

    class InitSchema(BaseTransformInitSchema):
        shift: Annotated[float, Field(ge=0, le=0.5)]
        angle: Annotated[float, Field(ge=0, le=90)]
        scale: PositiveRange
        clearance_scale: ClearanceScale

    def __init__(
        self,
        shift: float = 0.08,
        angle: float = 15.0,
        scale: tuple[float, float] = (0.85, 1.15),
        clearance_scale: tuple[float, float] | None = None,
        p: float = 0.5,
    ):
        super().__init__(p=p, clearance_scale=clearance_scale)
        self.shift = shift
        self.angle = angle
        self.scale = tuple(scale)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("shift", "angle", "scale", "clearance_scale")

    def get_params(self) -> dict[str, Any]:
        return {"piece_draws": self.random_generator.random((4, _PIECE_DRAWS))}

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        return {"amount": strength(data, self.clearance_scale)}

    def apply(self, img: np.ndarray, piece_draws: np.ndarray, amount: float = 1.0, **params: Any) -> np.ndarray:
        return fstrokes.piece_affine(img, piece_draws, self.shift, self.angle, self.scale, amount)

"""The learned model's transform: ``HandForms`` warps a glyph by a field drawn from how hands' letters depart
from type (``functional.load_model``), from the recipe's seeded generator.
"""

from __future__ import annotations

from typing import Annotated, Any

import albumentations as A
import numpy as np
from albumentations.core.transforms_interface import BaseTransformInitSchema
from pydantic import Field

from generator.synthesis.recipe.core import (
    DISTINCTNESS_KEY,
    RIVALS_KEY,
    ClearanceScale,
    Fraction,
    GlyphScaled,
    check_scale,
    strength,
)
from generator.synthesis.recipe.learned import functional as flearned


class HandForms(GlyphScaled, A.ImageOnlyTransform):
    """Warps a glyph by a field drawn from how handwriting-style letters depart from text faces' letters.

    Each image draws one standard normal per component of the learned Gaussian; the field is the mean
    plus the components weighted by their deviations and the draws, times ``amount`` and the glyph's
    ``strength``. The ink at each pixel comes from where the field points, as the fields were measured.
    The proportions, slants and stroke positions by which hands' letters differ from type so reach any
    script's numerals. A warp that would change the glyph's pieces or holes (specks under 6 px left out)
    is not made, so sanitation's structure check sees a glyph that kept its structure.

    Args:
        amount: how much of the learned departure to apply; 1 is as much as the fonts show.
        clearance_scale: ``(reference, floor)``; scales the field by the glyph's ``strength``.
        distinctness_scale: ``(reference, floor)``; scales the field, in the same way, by how far the glyph
            stands from the nearest other numeral of its design (``DISTINCTNESS_KEY``): a field moves whole
            strokes, and would carry a numeral that differs from another only in a small sign into it.
        affine: ``False`` leaves out each field's affine part (``HandFormsModel.field``).
        keep_margin: when given, the share of the glyph's margin over the nearest other numeral of its design
            (``RIVALS_KEY``) that a field must leave: one that leaves less is tried at half its size, then not
            made (``functional.warp_keeping_margin``).
        p: the chance that the transform is applied.
    """

    class InitSchema(BaseTransformInitSchema):
        amount: Annotated[float, Field(ge=0, le=4)]
        clearance_scale: ClearanceScale
        distinctness_scale: ClearanceScale
        keep_margin: Fraction | None
        affine: bool

    def __init__(
        self,
        amount: float = 1.0,
        clearance_scale: tuple[float, float] | None = None,
        distinctness_scale: tuple[float, float] | None = None,
        keep_margin: float | None = None,
        affine: bool = True,
        p: float = 1.0,
    ):
        super().__init__(p=p, clearance_scale=clearance_scale)
        self.amount = amount
        self.distinctness_scale = check_scale(distinctness_scale)
        self.keep_margin = keep_margin
        self.affine = affine

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("amount", "clearance_scale", "distinctness_scale", "keep_margin", "affine")

    def get_params(self) -> dict[str, Any]:
        return {"draws": self.random_generator.standard_normal(flearned.DRAWS)}

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        scale = self.amount * strength(data, self.clearance_scale)
        return {
            "scale": scale * strength(data, self.distinctness_scale, DISTINCTNESS_KEY),
            "rivals": data.get(RIVALS_KEY),
        }

    def apply(
        self, img: np.ndarray, draws: np.ndarray, scale: float = 1.0, rivals: np.ndarray | None = None, **params: Any
    ) -> np.ndarray:
        if img.ndim != 2 or scale == 0:
            return img
        field = flearned.dense_field(flearned.load_model().field(draws, scale, self.affine), img.shape[:2])
        if self.keep_margin is None or rivals is None or not len(rivals):
            return flearned.warp_keeping_structure(img, field)
        return flearned.warp_keeping_margin(img, field, rivals, self.keep_margin)

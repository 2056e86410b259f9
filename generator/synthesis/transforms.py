"""The recipe's transforms under the module name they had up to 0.10.0, for code and dataset cards written then.

They now live in ``generator.synthesis.recipe`` (one sub-package per family, kernels apart from classes) and
the glyph's measures in ``generator.synthesis.glyph``. Importing this module, like importing the recipe,
registers every transform with albumentations, so ``albumentations.load("recipe.json")`` works after it.
"""

from generator.synthesis.glyph import GlyphShape, clearance, line_width, measure_glyph, structure, traced_structure
from generator.synthesis.recipe import (
    CLEARANCE_KEY,
    RECIPE_NAMESPACE,
    CoarseElastic,
    InkPressure,
    LeanAffine,
    LeanGridDistortion,
    OpenCorner,
    PenStroke,
    SolidInk,
    StrokeGaps,
    StrokeWarp,
    strength,
)
from generator.synthesis.recipe.pen.functional import nib
from generator.synthesis.recipe.strokes.functional import StrokeGraph, open_corner_cut, stroke_field

__all__ = [
    "CLEARANCE_KEY",
    "RECIPE_NAMESPACE",
    "CoarseElastic",
    "GlyphShape",
    "InkPressure",
    "LeanAffine",
    "LeanGridDistortion",
    "OpenCorner",
    "PenStroke",
    "SolidInk",
    "StrokeGaps",
    "StrokeGraph",
    "StrokeWarp",
    "clearance",
    "line_width",
    "measure_glyph",
    "nib",
    "open_corner_cut",
    "strength",
    "stroke_field",
    "structure",
    "traced_structure",
]

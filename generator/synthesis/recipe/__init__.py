"""The augmentation recipe: an albumentations pipeline, kept as data.

The recipe works on the ``WORKING_SIZE`` canvas (white ink on black) before MNIST normalisation. It is saved
beside every config it made with albumentations' own serialisation, so that anyone can reload it with
``load_recipe(path)`` (or ``albumentations.load`` once this package is imported) and rerun it on an exemplar
canvas.

The package follows albumentations' own split: one sub-package per family of ingredients, each with its pure
kernels on arrays (``functional.py``) apart from its transform classes and their ``InitSchema``
(``transforms.py``):

- ``pen``: one pen's line (``PenStroke``), solid ink (``SolidInk``), uneven ink (``InkPressure``) and gaps
  where the pen skipped (``StrokeGaps``);
- ``strokes``: each stroke varied on its own (``StrokeWarp``), loops left open at a sharp corner
  (``OpenCorner``), each piece placed on its own (``PieceAffine``);
- ``warps``: slant, rotation, aspect and scale (``LeanAffine``), uneven proportions (``LeanGridDistortion``),
  elastic deformation (``CoarseElastic``);
- ``learned``: hands' forms learned from fonts' letters (``HandForms``, and ``StrokeWarp``'s learned ranges),
  outside the default recipe (``LEARNED_INGREDIENTS``).

``core`` holds what they share (their names in ``recipe.json``, argument types, the glyph's strength),
``ingredients`` the recipe built from them, ``serialization`` and ``checks`` how a recipe is saved, loaded
and checked before a run. What a glyph is made of (its clearance and structure) is measured in
``generator.synthesis.glyph``.
"""

from generator.synthesis.recipe.checks import check_recipe
from generator.synthesis.recipe.core import CLEARANCE_KEY, DISTINCTNESS_KEY, RECIPE_NAMESPACE, RIVALS_KEY, strength
from generator.synthesis.recipe.ingredients import (
    INGREDIENT_NAMES,
    INGREDIENTS,
    LEARNED_INGREDIENTS,
    OPTIONAL_INGREDIENTS,
    PIPELINE,
    PLAIN,
    Ingredient,
    build_recipe,
    check_ingredients,
    default_recipe,
)
from generator.synthesis.recipe.learned import HandForms
from generator.synthesis.recipe.pen import InkPressure, PenStroke, SolidInk, StrokeGaps
from generator.synthesis.recipe.serialization import MAX_DEPTH, load_recipe, save_recipe
from generator.synthesis.recipe.strokes import OpenCorner, PieceAffine, StrokeWarp
from generator.synthesis.recipe.warps import CoarseElastic, LeanAffine, LeanGridDistortion

__all__ = [
    "CLEARANCE_KEY",
    "DISTINCTNESS_KEY",
    "INGREDIENTS",
    "INGREDIENT_NAMES",
    "LEARNED_INGREDIENTS",
    "MAX_DEPTH",
    "OPTIONAL_INGREDIENTS",
    "PIPELINE",
    "PLAIN",
    "RECIPE_NAMESPACE",
    "RIVALS_KEY",
    "CoarseElastic",
    "HandForms",
    "Ingredient",
    "InkPressure",
    "LeanAffine",
    "LeanGridDistortion",
    "OpenCorner",
    "PenStroke",
    "PieceAffine",
    "SolidInk",
    "StrokeGaps",
    "StrokeWarp",
    "build_recipe",
    "check_ingredients",
    "check_recipe",
    "default_recipe",
    "load_recipe",
    "save_recipe",
    "strength",
]

"""What every ingredient of the recipe shares: its name in recipe files, its argument types, and the glyph's strength.

A transform of the recipe subclasses albumentations' own and ``RecipeName``, so that ``recipe.json`` names it
``generator.transforms.<class>`` whatever module holds it. Its ``InitSchema`` validates every argument when it is
made or loaded, with the types below. The shape-changing ones scale their strength to the glyph's clearance
(``strength``), which the recipe receives beside the image under ``CLEARANCE_KEY``.
"""

from __future__ import annotations

from typing import Annotated, Any

from albumentations.core.pydantic import check_range_bounds, nondecreasing
from pydantic import AfterValidator, Field

# A recipe.json names each transform by its class's full name, and albumentations loads it back by that name.
# Ours are named as they were before this module moved into generator.synthesis: every recipe.json saved since
# then keeps loading, and a new one is byte for byte what the same recipe gave before the move.
RECIPE_NAMESPACE = "generator.transforms"


class RecipeName:
    """Gives a transform class its name in recipe files, ``generator.transforms.<class>``, whatever its module."""

    @classmethod
    def get_class_fullname(cls) -> str:
        return f"{RECIPE_NAMESPACE}.{cls.__name__}"


# The key under which a recipe receives a glyph's clearance beside its image: ``recipe(image=canvas,
# clearance=clearance(canvas))``. Transforms read it from the call's data; without it they act at full strength.
CLEARANCE_KEY = "clearance"


# Argument types for the transforms' ``InitSchema``: albumentations validates every argument with them
# when a transform is made, or loaded from a saved recipe, and refuses a bad one with a ValueError.
Range = Annotated[tuple[float, float], AfterValidator(nondecreasing)]
PositiveRange = Annotated[Range, AfterValidator(check_range_bounds(0, None, min_inclusive=False))]
NonNegativeRange = Annotated[Range, AfterValidator(check_range_bounds(0, None))]
Fraction = Annotated[float, Field(ge=0, le=1)]


# The key under which a recipe receives how far a glyph stands from the nearest other numeral of its own design:
# one minus their correlation, as sanitation correlates images (``generator.synthesis.sanitation.distinctness``).
# Numerals that differ only in a small sign (Ge'ez's, 0.05 apart at the median) take less of a warp that moves
# whole strokes than numerals that differ in their whole form (Latin's, 0.19).
DISTINCTNESS_KEY = "distinctness"
# The key under which a recipe receives the other numerals of the glyph's design, as sanitation correlates them
# (``(R, 784)`` rows of ``generator.synthesis.sanitation.vector``), so that a step can check that a sample stays
# nearer its own numeral than theirs.
RIVALS_KEY = "rivals"


def strength(data: dict[str, Any], scale: tuple[float, float] | None, key: str = CLEARANCE_KEY) -> float:
    """How strongly a transform acts on this glyph: ``clip(clearance / reference, floor, 1)``.

    ``scale`` is ``(reference, floor)``: a glyph with ``reference`` pixels of clearance or more takes
    the transform at full strength, and a tighter glyph takes proportionally less, never under
    ``floor``. ``None``, or a call without a clearance, means full strength. ``key`` names another measure
    of the glyph to scale by in the same way (``DISTINCTNESS_KEY``).
    """
    room = data.get(key)
    if scale is None or room is None:
        return 1.0
    reference, floor = scale
    return float(min(max(room / reference, floor), 1.0))


def check_scale(scale: tuple[float, float] | None) -> tuple[float, float] | None:
    if scale is None:
        return None
    reference, floor = (float(value) for value in scale)
    if not (reference > 0 and 0 < floor <= 1):
        raise ValueError(f"clearance_scale {scale!r}: need (reference > 0, 0 < floor <= 1)")
    return reference, floor


ClearanceScale = Annotated[tuple[float, float] | None, AfterValidator(check_scale)]


class GlyphScaled(RecipeName):
    """A transform whose strength follows the glyph: ``clearance_scale=(reference, floor)`` (see ``strength``)."""

    def __init__(self, *args: Any, clearance_scale: tuple[float, float] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.clearance_scale = check_scale(clearance_scale)

"""The learned model: how handwriting-style letters depart from text faces' letters, as a warp (``HandForms``)."""

from generator.synthesis.recipe.learned.transforms import HandForms

__all__ = ["HandForms"]

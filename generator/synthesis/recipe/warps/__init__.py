"""Warps of the whole glyph: slant, rotation, aspect and scale, uneven proportions, elastic deformation."""

from generator.synthesis.recipe.warps.transforms import CoarseElastic, LeanAffine, LeanGridDistortion

__all__ = ["CoarseElastic", "LeanAffine", "LeanGridDistortion"]

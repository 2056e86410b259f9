"""Strokes: each stroke of a glyph varied on its own, and loops left open where a hand lifts the pen."""

from generator.synthesis.recipe.strokes.transforms import OpenCorner, PieceAffine, StrokeWarp

__all__ = ["OpenCorner", "PieceAffine", "StrokeWarp"]

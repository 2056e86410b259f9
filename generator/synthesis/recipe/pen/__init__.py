"""Pen and ink: one pen's line, solid or uneven ink, and gaps where the pen skipped."""

from generator.synthesis.recipe.pen.transforms import InkPressure, PenStroke, SolidInk, StrokeGaps

__all__ = ["InkPressure", "PenStroke", "SolidInk", "StrokeGaps"]

"""Fonts: coverage checks with fontTools and exemplar rendering with Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont, TTLibError
from PIL import Image, ImageDraw, ImageFont

from generator.errors import InputError
from generator.registry import NumeralSystem, format_code_point

# Glyphs are rasterised this large, then reduced with area averaging, so every exemplar keeps its
# anti-aliasing whatever size it ends at.
RENDER_SIZE = 128


def check_coverage(font_path: Path, code_points: tuple[int, ...]) -> None:
    """Refuses a font that cannot draw every code point, so a tofu box is never rendered.

    Raises:
        InputError: the font is missing, unreadable, or its cmap lacks a code point.
    """
    if not font_path.is_file():
        raise InputError(f"font {font_path} does not exist; fix the path in the spec file")
    try:
        # Opened here, not by TTFont, so that the file is closed even when parsing fails.
        with font_path.open("rb") as file, TTFont(file, lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
    except (TTLibError, OSError, AssertionError, KeyError, ValueError) as exc:
        raise InputError(f"font {font_path} cannot be read ({exc}); use a TrueType or OpenType file") from None
    for code_point in code_points:
        if code_point not in cmap:
            raise InputError(
                f"font {font_path} has no glyph for {format_code_point(code_point)}; "
                "use a font that covers every code point of the spec"
            )


def render_glyph(font_path: Path, character: str) -> np.ndarray:
    """Rasterises one character, white on black, cropped to its ink.

    Raises:
        InputError: the glyph has no ink (an empty outline is no exemplar).
    """
    font = ImageFont.truetype(str(font_path), RENDER_SIZE)
    left, top, right, bottom = font.getbbox(character)
    canvas = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(canvas).text((2 - left, 2 - top), character, font=font, fill=255)
    ink = np.asarray(canvas)
    rows, cols = np.nonzero(ink)
    if rows.size == 0:
        raise InputError(
            f"font {font_path} draws {format_code_point(ord(character))} as an empty glyph; "
            "use a font with a real outline for it"
        )
    return np.ascontiguousarray(ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])


def render_exemplars(system: NumeralSystem) -> list[list[np.ndarray]]:
    """Checks every font of a system, then renders ``[font][label]`` glyph images.

    Raises:
        InputError: a font is missing, unreadable, lacks a code point or draws an empty glyph.
    """
    for font_path in system.fonts:
        check_coverage(font_path, system.code_points)
    return [[render_glyph(font_path, char) for char in system.characters] for font_path in system.fonts]


def family_name(font_path: Path) -> str:
    """The font's family name as its name table gives it."""
    with TTFont(font_path, lazy=True, fontNumber=0) as font:
        return font["name"].getDebugName(1) or font_path.stem

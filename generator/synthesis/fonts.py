"""Fonts: coverage checks with fontTools and exemplar rendering with Pillow."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont, TTLibError
from PIL import Image, ImageDraw, ImageFont

from generator.errors import InputError, one_line
from generator.layout import format_code_point

# Glyphs are rasterised this large, then reduced with area averaging, so every exemplar keeps its
# anti-aliasing whatever size it ends at.
RENDER_SIZE = 128


def check_coverage(font_path: Path, code_points: tuple[int, ...]) -> None:
    """Refuses a font that cannot draw every code point, so a tofu box is never rendered.

    Everything the run later reads from the font is read here first: the cmap, the family name, the em size
    and the outline of each code point's glyph.

    Raises:
        InputError: the font is missing, unreadable, has no name table or a zero em, its cmap lacks a code point,
            or a glyph's outline is damaged.
    """
    if not font_path.is_file():
        raise InputError(f"font {font_path} does not exist; fix the path in the spec file")
    try:
        # Opened here, not by TTFont, so that the file is closed even when parsing fails.
        with font_path.open("rb") as file, TTFont(file, lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
            missing = [code_point for code_point in code_points if code_point not in cmap]
            if missing:
                raise InputError(
                    f"font {font_path} has no glyph for {format_code_point(missing[0])}; "
                    "use a font that covers every code point of the spec"
                )
            if "name" not in font or not font["name"].getDebugName(1):
                raise InputError(f"font {font_path} has no family name (name table); use a complete font file")
            units_per_em = font["head"].unitsPerEm
            if not 16 <= units_per_em <= 16384:
                raise InputError(f"font {font_path} has unitsPerEm {units_per_em}, outside 16..16384; use another font")
            glyphs = font.getGlyphSet()
            for code_point in code_points:
                glyphs[cmap[code_point]].draw(BoundsPen(glyphs))
    except InputError:
        raise
    except (TTLibError, OSError, AssertionError, KeyError, ValueError, IndexError, TypeError, struct.error) as exc:
        raise InputError(
            one_line(f"font {font_path} cannot be read ({type(exc).__name__}: {exc})", 300)
            + "; use an intact TrueType or OpenType file"
        ) from None


def render_glyph(font_path: Path, character: str) -> np.ndarray:
    """Rasterises one character, white on black, cropped to its ink.

    Raises:
        InputError: the glyph has no ink (an empty outline is no exemplar).
    """
    try:
        font = ImageFont.truetype(str(font_path), RENDER_SIZE)
        left, top, right, bottom = font.getbbox(character)
        if right - left > 16 * RENDER_SIZE or bottom - top > 16 * RENDER_SIZE:
            raise ValueError(f"its box is {right - left}x{bottom - top} px at {RENDER_SIZE} px")
        canvas = Image.new("L", (right - left + 4, bottom - top + 4), 0)
        ImageDraw.Draw(canvas).text((2 - left, 2 - top), character, font=font, fill=255)
    except (OSError, ValueError) as exc:  # FreeType's errors reach Pillow as OSError
        raise InputError(
            f"font {font_path} cannot draw {format_code_point(ord(character))} ({exc}); use an intact font"
        ) from None
    ink = np.asarray(canvas)
    rows, cols = np.nonzero(ink)
    if rows.size == 0:
        raise InputError(
            f"font {font_path} draws {format_code_point(ord(character))} as an empty glyph; "
            "use a font with a real outline for it"
        )
    return np.ascontiguousarray(ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])


def render_exemplars(font_paths: Sequence[Path], code_points: tuple[int, ...]) -> list[list[np.ndarray]]:
    """Checks every font, then renders ``[font][label]`` glyph images, one per code point.

    Raises:
        InputError: a font is missing, unreadable, lacks a code point or draws an empty glyph.
    """
    for font_path in font_paths:
        check_coverage(font_path, code_points)
    return [[render_glyph(font_path, chr(code_point)) for code_point in code_points] for font_path in font_paths]


def family_name(font_path: Path) -> str:
    """The font's family name as its name table gives it."""
    with TTFont(font_path, lazy=True, fontNumber=0) as font:
        return font["name"].getDebugName(1) or font_path.stem

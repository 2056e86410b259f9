"""The design check flags a glyph that does not look like its class, and leaves good designs alone."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from fontTools.ttLib import TTFont

from generator.registry import builtin_systems, load_spec
from generator.synthesis.designs import design_flags, structure_flags
from generator.synthesis.fonts import render_glyph
from generator.synthesis.plan import plan_split

ROOT = Path(__file__).resolve().parents[1]
TAMIL = ROOT / "examples" / "tamil" / "spec.toml"


def swap_glyphs(source: Path, dest: Path, first: int, second: int) -> Path:
    """A copy of ``source`` that draws each of two code points with the other's glyph."""
    font = TTFont(source)
    for table in font["cmap"].tables:  # subtables may share one mapping, so each gets a fresh one
        table.cmap = {**table.cmap, first: table.cmap[second], second: table.cmap[first]}
    font.save(dest)
    return dest


def glyphs_of(fonts: list[Path], characters: tuple[str, ...]) -> list[list[np.ndarray]]:
    return [[render_glyph(font, character) for character in characters] for font in fonts]


def test_the_bundled_tamil_designs_pass():
    tamil = load_spec(TAMIL)
    assert len(tamil.fonts) >= 10
    assert design_flags(glyphs_of(list(tamil.fonts), tamil.characters)) == []


def test_a_planted_wrong_glyph_is_flagged(tmp_path):
    tamil = load_spec(TAMIL)
    fonts = list(tamil.fonts)
    # One font draws zero with its three's glyph and three with its zero's.
    fonts[0] = swap_glyphs(fonts[0], tmp_path / fonts[0].name, tamil.code_points[0], tamil.code_points[3])
    flags = design_flags(glyphs_of(fonts, tamil.characters))
    assert {(flag.font, flag.label, flag.rival) for flag in flags} == {(0, 0, 3), (0, 3, 0)}
    assert "class 0 looks like class 3" in flags[0].reason(tamil.class_names)


def test_a_left_out_glyph_is_neither_checked_nor_compared_with(tmp_path):
    tamil = load_spec(TAMIL)
    fonts = list(tamil.fonts)
    fonts[0] = swap_glyphs(fonts[0], tmp_path / fonts[0].name, tamil.code_points[0], tamil.code_points[3])
    glyphs = glyphs_of(fonts, tamil.characters)
    glyphs[0][0] = glyphs[0][3] = None
    assert design_flags(glyphs) == []


def test_too_few_designs_flag_nothing():
    vai = builtin_systems()["vai"]
    glyphs = glyphs_of(list(vai.fonts), vai.characters)
    assert design_flags(glyphs[:2]) == []


def test_the_osmanya_x_shaped_zero_is_flagged_and_never_drawn():
    osmanya = builtin_systems()["osmanya"]
    damase = [font.name for font in osmanya.fonts].index("mph-2b-damase.ttf")
    # The bundle keeps the glyph, so the check still sees it; the spec leaves it out of class 0.
    flags = design_flags(glyphs_of(list(osmanya.fonts), osmanya.characters))
    assert (damase, 0) in {(flag.font, flag.label) for flag in flags}
    assert not osmanya.draws(damase, 0)
    assert all(osmanya.draws(damase, label) for label in range(1, 10))
    labels, sources = plan_split(osmanya, "train", 2000, seed=0)
    assert not np.any((labels == 0) & (sources == damase))
    assert np.any((labels == 1) & (sources == damase))
    counts = np.bincount(sources[labels == 0], minlength=len(osmanya.fonts))
    assert counts[damase] == 0
    assert all(count > 30 for font, count in enumerate(counts) if font != damase), "the other fonts share class 0"


def hollow(glyph: np.ndarray) -> np.ndarray:
    """The glyph drawn as an inline face would: its strokes hollow, a dark line down their middle, cut in places."""
    ink = (glyph > 127).astype(np.uint8)
    inner = cv2.erode(ink, np.ones((3, 3), np.uint8))
    drawn = np.where(inner > 0, 0, glyph).astype(np.uint8)
    for row in range(0, len(drawn), 6):  # the outline is hatched: it breaks every few rows
        drawn[row : row + 2] = 0
    return drawn


def test_an_inline_design_is_flagged_by_its_structure():
    tamil = load_spec(TAMIL)
    glyphs = glyphs_of(list(tamil.fonts), tamil.characters)
    assert structure_flags(glyphs) == [], "every bundled Tamil design traces into as many pieces as the others"
    glyphs[2] = [hollow(glyph) for glyph in glyphs[2]]
    flags = structure_flags(glyphs)
    assert {flag.font for flag in flags} == {2}
    assert len(flags) >= 8, "most of the hollow design's classes"
    assert "pieces" in flags[0].reason(tamil.class_names)
    assert structure_flags(glyphs[:2]) == [], "two designs have no usual count"

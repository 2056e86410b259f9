"""Fonts, exemplars and MNIST normalisation, one image at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generator.errors import InputError
from generator.registry import builtin_systems
from generator.synthesis.fonts import check_coverage, render_exemplars, render_glyph
from generator.synthesis.normalize import BOX, FRAME, EmptyImageError, ink_bounds, mnist_normalize, place_by_mass
from generator.synthesis.recipe import default_recipe
from generator.synthesis.synthesizer import Synthesizer, exemplar_canvases
from tests.conftest import font_without

SYSTEMS = sorted(builtin_systems())
CENTRE = FRAME // 2  # MNIST's digits have their centre of mass at pixel (14, 14)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    mass = image.astype(np.float64)
    return (cols * mass).sum() / mass.sum(), (rows * mass).sum() / mass.sum()


def assert_mnist_like(image: np.ndarray) -> None:
    assert image.shape == (FRAME, FRAME)
    assert image.dtype == np.uint8
    assert image.max() == 255
    x, y = centre_of_mass(image)
    assert abs(x - CENTRE) <= 0.5
    assert abs(y - CENTRE) <= 0.5
    _, _, width, height = ink_bounds(image, threshold=0)
    assert max(width, height) <= BOX
    assert max(width, height) >= BOX - 1  # the longer side fills the box


@pytest.mark.parametrize("config", SYSTEMS)
def test_every_bundled_exemplar_normalises_like_mnist(config):
    system = builtin_systems()[config]
    for font_glyphs in render_exemplars(system.fonts, system.code_points):
        for glyph in font_glyphs:
            assert_mnist_like(mnist_normalize(glyph))


@pytest.mark.parametrize("config", SYSTEMS)
def test_deformed_samples_stay_mnist_like(config):
    system = builtin_systems()[config]
    synthesizer = Synthesizer(exemplar_canvases(system), default_recipe(seed=3))
    for label in range(system.num_classes):
        for font in range(len(system.fonts)):
            if system.draws(font, label):  # a glyph the spec excludes is never drawn
                assert_mnist_like(synthesizer.image(label, font))


def test_centre_of_mass_lands_on_pixel_14_on_average_as_in_mnist():
    # Whole-pixel shifts leave each image within half a pixel of the centre; over many placements the
    # offsets average out, so the mean shows where the centre is: MNIST's digits average (14.01, 13.99).
    rng = np.random.default_rng(0)
    centres = []
    for _ in range(200):
        glyph = np.zeros((int(rng.integers(8, 21)), int(rng.integers(8, 21))), np.uint8)
        rows, cols = rng.integers(0, glyph.shape[0], 12), rng.integers(0, glyph.shape[1], 12)
        glyph[rows, cols] = rng.integers(60, 256, 12)
        centres.append(centre_of_mass(place_by_mass(glyph, FRAME)))
    mean_x, mean_y = np.mean(centres, axis=0)
    assert abs(mean_x - 14) < 0.1, mean_x
    assert abs(mean_y - 14) < 0.1, mean_y


def test_normalisation_keeps_aspect_ratio_and_antialiasing():
    bar = np.zeros((100, 100), np.uint8)
    bar[10:90, 45:65] = 255  # 80 tall, 20 wide
    image = mnist_normalize(bar)
    _, _, width, height = ink_bounds(image, threshold=0)
    assert (width, height) == (5, 20)
    disc = np.zeros((101, 101), np.uint8)
    yy, xx = np.indices(disc.shape)
    disc[(yy - 50) ** 2 + (xx - 50) ** 2 <= 45**2] = 255
    levels = np.unique(mnist_normalize(disc))
    assert len(levels) > 3, "area averaging leaves grey edge pixels"


def test_empty_image_is_refused():
    with pytest.raises(EmptyImageError):
        mnist_normalize(np.zeros((40, 40), np.uint8))


def test_render_glyph_is_cropped_ink(vai):
    glyph = render_glyph(vai.fonts[0], vai.characters[0])
    assert glyph.dtype == np.uint8
    assert glyph.max() == 255
    for edge in (glyph[0], glyph[-1], glyph[:, 0], glyph[:, -1]):
        assert edge.any(), "cropped to the ink on every side"


def test_font_lacking_a_code_point_is_refused_by_name(tmp_path: Path, vai):
    partial = font_without(vai.fonts[0], tmp_path / "partial.ttf", vai.code_points[-1])
    with pytest.raises(InputError) as info:
        check_coverage(partial, vai.code_points)
    assert str(partial) in str(info.value)
    assert "U+A629" in str(info.value)


def test_missing_and_unreadable_fonts_are_refused(tmp_path: Path, vai):
    with pytest.raises(InputError, match="does not exist"):
        check_coverage(tmp_path / "nope.ttf", vai.code_points)
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"this is not a font" * 10)
    with pytest.raises(InputError, match="cannot be read"):
        check_coverage(junk, vai.code_points)


def pixel_glyph(squares: list[tuple[int, int]], pitch: int = 7) -> np.ndarray:
    """A glyph drawn as a pixel font draws it: whole squares of ``pitch`` pixels, at (column, row) of its grid."""
    glyph = np.zeros((16 * pitch, 16 * pitch), np.uint8)
    for column, row in squares:
        glyph[row * pitch : (row + 1) * pitch, column * pitch : (column + 1) * pitch] = 255
    return glyph


# A diagonal stroke one square wide, squares touching at their corners, under a bar: Unifont's Medefaidrin 6 and
# Ge'ez numerals have such strokes, which the pen traced as a chain of squares.
STAIRCASE = [(2 + step, 2 + step) for step in range(11)] + [(column, 14) for column in range(2, 14)]


def test_a_stair_stepped_outline_is_smoothed_and_keeps_its_pieces_and_holes():
    from generator.synthesis.glyph import STAIR_STEPS, smooth_stairs, stair_steps, topology

    glyph = pixel_glyph(STAIRCASE)
    steps, pitch, count = stair_steps(glyph)
    assert count >= 10
    assert steps >= STAIR_STEPS
    assert 6 <= pitch <= 7, "a square of 7 pixels, measured between the centres of its corner pixels"
    smoothed = smooth_stairs(glyph)
    assert stair_steps(smoothed)[0] < STAIR_STEPS / 4
    pieces = topology((np.pad(glyph, 20) >= 128).astype(np.uint8), 196)
    assert topology((np.pad(smoothed, 20) >= 128).astype(np.uint8), 196) == pieces == (2, 0)
    ring = pixel_glyph([(c, r) for c in range(3, 11) for r in range(3, 11) if c in (3, 10) or r in (3, 10)])
    ring_smoothed = smooth_stairs(ring)
    assert topology((np.pad(ring_smoothed, 20) >= 128).astype(np.uint8), 196) == (1, 1), "the ring keeps its hole"


def test_no_glyph_of_the_latin_text_faces_is_taken_for_a_staircase():
    """Three text faces' 4s turn at right angles 4 times where the stroke meets the bar, up to 1.16 times per 100 px
    of outline: a staircase needs 5 steps, so the Latin text faces, and MNIST's measure, keep their glyphs."""
    from generator.registry import load_spec
    from generator.synthesis.glyph import LEAST_STAIRS, STAIR_STEPS, smooth_stairs, stair_steps

    latin = load_spec(Path(__file__).resolve().parents[1] / "examples" / "latin" / "spec.toml")
    notched = 0
    for row in render_exemplars(latin.fonts, latin.code_points):
        for glyph in row:
            per_100, _, count = stair_steps(glyph)
            notched += per_100 >= STAIR_STEPS
            assert count < LEAST_STAIRS or per_100 < STAIR_STEPS
            assert smooth_stairs(glyph) is glyph
    assert notched >= 1, "some text face's glyph turns as often as a staircase, and is still left alone"


def test_outlines_that_are_not_stair_stepped_are_left_as_they_are(vai):
    from generator.synthesis.glyph import STAIR_STEPS, smooth_stairs, stair_steps

    for font in vai.fonts:
        glyph = render_glyph(font, chr(vai.code_points[3]))
        if stair_steps(glyph)[0] < STAIR_STEPS:
            assert smooth_stairs(glyph) is glyph
    noto = next(font for font in vai.fonts if "noto" in font.name)
    assert stair_steps(render_glyph(noto, chr(vai.code_points[3])))[0] < STAIR_STEPS


def test_every_unifont_glyph_that_steps_is_drawn_smooth():
    """Measured, not named: Unifont's Medefaidrin digits step, the Noto design's do not, and the exemplars the
    generator draws from carry no steps."""
    from generator.synthesis.glyph import STAIR_STEPS, smooth_stairs, stair_steps
    from generator.synthesis.normalize import to_canvas

    medefaidrin = builtin_systems()["medefaidrin"]
    rendered = render_exemplars(medefaidrin.fonts, medefaidrin.code_points)
    stepped = [[stair_steps(glyph)[0] >= STAIR_STEPS for glyph in row] for row in rendered]
    by_font = dict(zip([font.name for font in medefaidrin.fonts], stepped, strict=True))
    assert sum(by_font["unifont-upper.otf"]) >= 5
    assert not any(by_font["noto-sans-medefaidrin.ttf"])
    unifont = [font.name for font in medefaidrin.fonts].index("unifont-upper.otf")
    canvases = exemplar_canvases(medefaidrin)[unifont]
    smoothed = [
        label for label in range(10) if not np.array_equal(canvases[label], to_canvas(rendered[unifont][label]))
    ]
    assert len(smoothed) >= 5, (
        "most stepped glyphs are smoothed (a smoothing that would change a glyph's topology is not used)"
    )
    for label in smoothed:
        assert stepped[unifont][label]
        assert stair_steps(smooth_stairs(rendered[unifont][label]))[0] < STAIR_STEPS / 4

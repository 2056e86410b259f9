"""What a glyph is made of, measured on its canvas: the one place the recipe, sanitation and the design check
read a glyph's structure and its room to vary.

A glyph's **clearance** (``measure_glyph``) is how far its strokes can grow before two of them touch: the
recipe scales every shape-changing step to it. Its **structure** is its count of pieces and holes: sanitation
refuses a sample that lost its exemplar's, and the design check a design drawn in more pieces than its class's.
These are pure functions of arrays; the transforms that use them live in ``generator.synthesis.recipe``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from skimage.morphology import skeletonize

from generator.synthesis.normalize import BOX, EmptyImageError, count_pieces, fit_to_box, to_canvas

# Ink at or above this level (out of 255) belongs to the glyph when its centreline is traced.
INK = 128
# Neighbour offsets in a 3x3 window, for finding where a centreline ends.
NEIGHBOURS = np.ones((3, 3), np.uint8)
# The largest pen radius, in pixels, that ``clearance`` tries; a glyph whose strokes stay apart at
# every radius up to it gets this value plus one.
MAX_CLEARANCE = 12
# Specks and pinholes below this many pixels of the working canvas are not parts of a numeral.
LEAST_PART = 6


@dataclass(frozen=True)
class GlyphShape:
    """What the recipe and sanitation measure once on each exemplar canvas.

    Attributes:
        clearance: how far, in pixels, the glyph's strokes can grow before two of them touch: its room
            to vary. The glyph's centreline is drawn with round pens of radius 1, 2, ... and the
            drawing's topology (its pieces and its holes) is compared with the thinnest pen's; the
            first radius that changes it is the clearance: a pen that wide joins two strokes, closes a
            hole or an opening, or swallows a small part. A one-stroke digit with open curves has a
            large clearance; a numeral told apart by a small sign between two bars has a small one.
        structure: the (pieces, holes) of the centreline drawn with the thinnest pen, specks and
            pinholes under ``LEAST_PART`` pixels left out: the exemplar's own structure.
    """

    clearance: int
    structure: tuple[int, int]


def measure_glyph(canvas: np.ndarray) -> GlyphShape:
    """The glyph's clearance and structure, from one tracing of its centreline (about a millisecond)."""
    ink = canvas >= INK
    if not ink.any():
        return GlyphShape(MAX_CLEARANCE + 1, (0, 0))
    centreline = skeletonize(ink).astype(np.uint8)
    thinnest = cv2.dilate(centreline, disk(1))
    first, room = topology(thinnest), MAX_CLEARANCE + 1
    for radius in range(2, MAX_CLEARANCE + 1):
        if topology(cv2.dilate(centreline, disk(radius))) != first:
            room = radius
            break
    return GlyphShape(room, topology(thinnest, LEAST_PART))


def clearance(canvas: np.ndarray) -> int:
    """The glyph's room to vary (``GlyphShape.clearance``), so that every deformation can be scaled to it."""
    return measure_glyph(canvas).clearance


def topology(mask: np.ndarray, least: int = 1) -> tuple[int, int]:
    """(pieces, holes) of a binary image: 8-connected ink, and 4-connected background but the outside.

    Pieces and holes of fewer than ``least`` pixels are not counted.
    """
    counts = []
    for part, connectivity in ((mask, 8), ((mask == 0).astype(np.uint8), 4)):
        _, _, stats, _ = cv2.connectedComponentsWithStats(part, connectivity=connectivity)
        counts.append(int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= least)))
    return counts[0], counts[1] - 1


def structure(canvas: np.ndarray) -> tuple[int, int]:
    """The (pieces, holes) of a canvas's ink: what a reader uses to tell numerals apart.

    A piece is 8-connected ink at or above the tracing level, a hole 4-connected background
    enclosed by it; specks and pinholes under ``LEAST_PART`` pixels are left out.
    """
    return topology((canvas >= INK).astype(np.uint8), LEAST_PART)


def traced_structure(canvas: np.ndarray) -> tuple[int, int]:
    """The structure of a glyph's centreline drawn with a thin round pen: the exemplar's own."""
    return measure_glyph(canvas).structure


@lru_cache(maxsize=32)
def disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def trace(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The centreline (skeleton) of an ink mask, traced on its bounding box plus a blank margin of one
    pixel, not the whole canvas: ``(centreline of the box, (top, bottom, left, right))``; None without ink.
    """
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0:
        return None
    top, bottom = max(rows[0] - 1, 0), min(rows[-1] + 2, ink.shape[0])
    left, right = max(cols[0] - 1, 0), min(cols[-1] + 2, ink.shape[1])
    return skeletonize(ink[top:bottom, left:right]), (top, bottom, left, right)


def pieces_in_frame(image: np.ndarray) -> int:
    """The number of pieces of ink in ``image`` once it is normalised to MNIST's frame; 0 for no ink.

    Counted on the glyph fitted to MNIST's box: placing it in the frame moves it whole, and costs as much again.
    """
    try:
        return count_pieces(fit_to_box(image, BOX))
    except EmptyImageError:
        return 0


def line_width(mask: np.ndarray) -> float:
    """The width of a glyph's line, from its middle: twice the 90th percentile of the ink's depth."""
    depth = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    return 2.0 * float(np.percentile(depth[mask > 0], 90))


# A glyph's outline is stair-stepped (a pixel font's, drawn square by square) when it turns at this many right
# angles or more per 100 pixels of outline, each between two edges along the axes at least ``_LEAST_STEP``
# pixels long, with its turn the other way from the next one's: a step. At the rendering size (128 px) every
# Unifont design of the built-in configs and examples (8) has a median over its glyphs of 1.26 to 2.71 steps
# per 100 px, every other design (123, Latin's 68 text faces among them) 0.54 at most.
STAIR_STEPS = 1.0
# ... and has at least this many steps: a staircase, not the notch or two where a text face's stroke meets a bar
# (the 4s of Fira Sans, Manrope and Titillium Web have 4 steps each, and 1.05-1.16 per 100 px).
LEAST_STAIRS = 5
# An edge shorter than this many pixels at the rendering size is the outline's anti-aliasing, not a step.
_LEAST_STEP = 3
# Smoothings tried on a stair-stepped outline, strongest first: (the Gaussian's sigma in steps, the level of the
# blurred ink, as a share of full ink, that becomes the new edge). A thin pixel stroke blurred that much keeps
# its middle above the level. A sigma of 0.8 steps took the bar off Unifont's Medefaidrin 5; 0.6 on its own left
# Ge'ez's 2 in beads.
_SMOOTHINGS = ((0.7, 0.35), (0.6, 0.4), (0.5, 0.45))


def stair_steps(glyph: np.ndarray) -> tuple[float, float, int]:
    """How stair-stepped the outline of a rendered glyph (grey levels, ink high) is: its steps per 100 pixels of
    outline, the length of a step (the lower quartile of its edges along the axes, in pixels; 0 without any), and
    its count of steps.
    """
    contours, _ = cv2.findContours((glyph >= INK).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    steps, outline, edges = 0, 0.0, []
    for contour in contours:
        outline += cv2.arcLength(contour, True)
        corners = contour[:, 0, :].astype(np.int64)
        if len(corners) < 4:
            continue
        edge = np.roll(corners, -1, axis=0) - corners  # from each corner to the next
        length = np.abs(edge).sum(axis=1)
        along_axis = ((edge[:, 0] == 0) | (edge[:, 1] == 0)) & (length >= _LEAST_STEP)
        before = np.roll(edge, 1, axis=0)
        turn = np.sign(before[:, 0] * edge[:, 1] - before[:, 1] * edge[:, 0])
        step = along_axis & np.roll(along_axis, 1) & (turn != 0) & (np.roll(turn, -1) == -turn)
        steps += int(step.sum())
        edges += length[along_axis].tolist()
    return 100.0 * steps / max(outline, 1.0), float(np.percentile(edges, 25)) if edges else 0.0, steps


def smooth_stairs(glyph: np.ndarray) -> np.ndarray:
    """A stair-stepped glyph (at least ``STAIR_STEPS`` steps per 100 px of outline and ``LEAST_STAIRS`` in all)
    with its outline smoothed, so that the pen that redraws its centreline draws a line, not a chain of squares;
    any other glyph as it is.

    The glyph is blurred at the scale of its steps and the blurred ink above a level becomes the new shape (with
    a soft edge of its own), with the strongest of ``_SMOOTHINGS`` that keeps the glyph's pieces and holes and
    leaves it no less clearance on the working canvas: a smoothing that would run a sign into a bar, close a gap
    or bring two strokes closer is not used. The result is cropped to its ink.
    """
    per_100, step, count = stair_steps(glyph)
    if per_100 < STAIR_STEPS or count < LEAST_STAIRS or step == 0:
        return glyph
    margin = int(3 * step) + 2
    padded = cv2.copyMakeBorder(glyph, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0)
    # Pieces and holes smaller than two by two steps are the pixel grid's, not the numeral's: the pen fills them.
    least = max(LEAST_PART, round(4 * step * step))
    own = topology((padded >= INK).astype(np.uint8), least)
    room = measure_glyph(to_canvas(glyph)).clearance
    for sigma, level in _SMOOTHINGS:
        blurred = cv2.GaussianBlur(padded.astype(np.float32), (0, 0), sigma * step)
        smoothed = np.clip((blurred - level * 255.0) * 3.0 + 127.5, 0, 255).astype(np.uint8)
        if topology((smoothed >= INK).astype(np.uint8), least) != own:
            continue
        rows, cols = np.flatnonzero(smoothed.any(axis=1)), np.flatnonzero(smoothed.any(axis=0))
        smoothed = smoothed[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        if measure_glyph(to_canvas(smoothed)).clearance >= room:  # no less room between its strokes
            return smoothed
    return glyph

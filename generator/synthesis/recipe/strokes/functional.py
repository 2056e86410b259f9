"""Strokes, as pure functions on arrays: a glyph's centreline cut into strokes at its junctions
(``StrokeGraph``), the displacement field that moves each stroke on its own and the warp that applies it, and
where a loop can be left open at a sharp corner (``open_corner_cut``). Each glyph is traced once per worker
(the results are cached by its packed ink mask). The transforms are in ``transforms.py`` beside this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from generator.synthesis.glyph import INK, LEAST_PART, MAX_CLEARANCE, NEIGHBOURS, line_width, topology, trace
from generator.synthesis.recipe.warps.functional import pixel_grid

# Fixed-point steps that turn the forward field (where ink goes) into remap's backward map (where it comes from).
_INVERSION_STEPS = 3
# Strokes of fewer centreline pixels than this (the spurs skeletonisation leaves) are not moved.
_LEAST_STROKE = 3
# The stroke field is smoothed with a Gaussian of this many pixels, so strokes' seams do not tear the ink.
_SEAM_SIGMA = 1.5

# Glyphs whose stroke graphs a worker keeps: every exemplar of a large spec (68 Latin designs x 10) fits.
GRAPHS_KEPT = 1024
# A corner's angle is measured between the points of the hole's outline this many pixels (or a sixteenth
# of the outline, if more) before and after it: a round loop's outline turns slowly, a corner's at once.
_CORNER_REACH = 4


def warp_by_field(img: np.ndarray, field: np.ndarray, window: tuple[slice, slice]) -> np.ndarray:
    """``img`` with the ink in ``window`` moved by the forward ``field`` (where each pixel goes), as (x, y).

    The field is inverted in ``_INVERSION_STEPS`` fixed-point steps into remap's backward map.
    """
    grid_x, grid_y = pixel_grid(*field.shape[:2])
    source_x, source_y = grid_x, grid_y
    for _ in range(_INVERSION_STEPS):  # find, for each output pixel, the source pixel the field moves onto it
        shift = cv2.remap(field, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        source_x, source_y = grid_x - shift[..., 0], grid_y - shift[..., 1]
    out = img.copy()
    out[window] = cv2.remap(img[window], source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return out


@dataclass(frozen=True)
class StrokeGraph:
    """A glyph's centreline cut into strokes: what ``StrokeWarp`` measures once per exemplar.

    A centreline pixel's displacement is ``a[s] * along + b[s] * across``, where ``s`` is its
    ``stroke`` and ``a``, ``b`` are drawn per stroke; ``along`` and ``across`` are the pixel's own:

    - a stroke that ``hangs`` from a junction by one end turns and grows about its pivot: ``along``
      is the pixel's offset from the pivot, ``across`` that offset turned by 90 degrees;
    - a ``loop`` (a stroke that leaves a junction and comes back to it) grows about the point between
      its ends: ``along`` is the offset from there;
    - any other stroke held at both ends ``bows``: ``along`` is the normal of its chord, as long as the
      pixel moves when the stroke bows by its whole length (its reach times ``sin(pi t)``, ``t`` running
      from one end to the other), so that ``a`` is the bend.

    Stroke 0 (junctions, and strokes too short to move) stays still. ``box`` is the glyph's
    ``(top, bottom, left, right)``; ``nearest`` gives every canvas pixel its nearest centreline pixel,
    from 1 in raster order.
    """

    stroke: np.ndarray
    along: np.ndarray
    across: np.ndarray
    hangs: np.ndarray
    loop: np.ndarray
    bows: np.ndarray
    box: tuple[int, int, int, int]
    nearest: np.ndarray


def stroke_field(
    ink: np.ndarray,
    draws: np.ndarray,
    angle: float,
    length: tuple[float, float],
    bend: float,
    amount: float = 1.0,
    loop: tuple[float, float] | None = None,
) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """``StrokeWarp``'s displacement field ``(h, w, 2)`` as (x, y), and the window of the canvas it covers.

    ``ink`` is the glyph's mask; ``draws`` is ``(3, n)`` uniform draws, taken per stroke in turn. A
    loop's size factor is drawn from ``loop``, or from ``length`` when it is None. The turn, the bow
    and the size factor's distance from 1 are all multiplied by ``amount``. The window is
    the glyph's box grown by the largest displacement, so no ink leaves it. None when the glyph has no
    stroke to move.
    """
    graph = stroke_graph(np.packbits(ink).tobytes(), ink.shape)
    if graph is None:
        return None
    turn_draw, size_draw, bow_draw = draws[:, np.arange(len(graph.hangs)) % draws.shape[1]]
    grow = 1 + amount * (length[0] + size_draw * (length[1] - length[0]) - 1)
    loop_low, loop_high = loop or length
    loop_grow = 1 + amount * (loop_low + size_draw * (loop_high - loop_low) - 1)
    turn = np.radians((2 * turn_draw - 1) * (angle * amount))
    a = np.where(
        graph.hangs, grow * np.cos(turn) - 1, np.where(graph.loop, loop_grow - 1, (2 * bow_draw - 1) * bend * amount)
    )
    a[~(graph.hangs | graph.loop | graph.bows)] = 0.0
    b = np.where(graph.hangs, grow * np.sin(turn), 0.0)
    shifts = np.zeros((len(graph.stroke) + 1, 2), np.float32)
    shifts[1:] = a[graph.stroke, None] * graph.along + b[graph.stroke, None] * graph.across
    # The window: the glyph's box grown by the largest shift, so every moved pixel stays inside it.
    margin = math.ceil(float(np.abs(shifts).max()) * math.sqrt(2)) + 2
    top, bottom, left, right = graph.box
    window = (
        slice(max(top - margin, 0), min(bottom + margin, ink.shape[0])),
        slice(max(left - margin, 0), min(right + margin, ink.shape[1])),
    )
    # Every pixel follows its nearest centreline pixel; the field is then smoothed across strokes' seams.
    return cv2.GaussianBlur(shifts[graph.nearest[window]], (0, 0), _SEAM_SIGMA), window


# Glyphs whose stroke graphs a worker keeps: every exemplar of a large spec (68 Latin designs x 10) fits.


@lru_cache(maxsize=GRAPHS_KEPT)
def stroke_graph(packed: bytes, shape: tuple[int, int]) -> StrokeGraph | None:
    """The ``StrokeGraph`` of the ink mask packed in ``packed`` (``np.packbits``), or None if nothing can move.

    The recipe's first step sees only exemplars, so each glyph is traced once per worker.
    """
    ink = np.unpackbits(np.frombuffer(packed, np.uint8), count=shape[0] * shape[1]).reshape(shape).astype(bool)
    traced = trace(ink)
    if traced is None:
        return None
    centreline, box = traced
    line = np.zeros(shape, np.uint8)
    line[box[0] : box[1], box[2] : box[3]] = centreline
    neighbours = cv2.filter2D(line, -1, NEIGHBOURS, borderType=cv2.BORDER_CONSTANT)  # itself included
    # Junctions (three or more branches), grown by a pixel, cut the centreline into strokes.
    junctions = cv2.dilate(((neighbours >= 4) & (line > 0)).astype(np.uint8), NEIGHBOURS) & line
    count, labels = cv2.connectedComponents(line & (1 - junctions), connectivity=8)
    ys, xs = np.nonzero(line)
    stroke = labels[ys, xs]
    x, y = xs.astype(np.float64), ys.astype(np.float64)
    held = (cv2.dilate(junctions, NEIGHBOURS)[ys, xs] > 0) & (stroke > 0)
    free = (neighbours[ys, xs] == 2) & (stroke > 0)
    size = np.bincount(stroke, minlength=count)
    holds = np.bincount(stroke[held], minlength=count)
    ends = np.bincount(stroke[free], minlength=count)
    moving = (size >= _LEAST_STROKE) & (np.arange(count) > 0)
    hangs, between = moving & (holds > 0) & (ends > 0), moving & (holds > 0) & (ends == 0)
    if not (hangs | between).any():
        return None
    pivot_x = np.bincount(stroke[held], x[held], count) / np.maximum(holds, 1)
    pivot_y = np.bincount(stroke[held], y[held], count) / np.maximum(holds, 1)
    along = np.stack([x - pivot_x[stroke], y - pivot_y[stroke]], axis=1)
    across = np.stack([-along[:, 1], along[:, 0]], axis=1)
    loop = np.zeros(count, bool)
    bows = between[stroke]
    if bows.any():
        loop, along[bows] = _bow_geometry(x, y, stroke, held, bows, count)
    # DIST_LABEL_PIXEL numbers the centreline's pixels from 1 in raster order, the order np.nonzero lists them in.
    _, nearest = cv2.distanceTransformWithLabels(1 - line, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
    stroke = np.where(moving[stroke], stroke, 0)
    return StrokeGraph(
        stroke,
        along.astype(np.float32),
        across.astype(np.float32),
        hangs,
        loop & between,
        between & ~loop,
        box,
        nearest,
    )


def _bow_geometry(
    x: np.ndarray, y: np.ndarray, stroke: np.ndarray, held: np.ndarray, bows: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which strokes held at both ends are loops, and the ``along`` of their pixels ``bows``.

    Each such stroke's ends are ``a``, its first held pixel, and ``b``, its held pixel farthest from
    ``a``. A loop has ``a`` and ``b`` closer than half its reach (its farthest pixel from ``a``): both ends
    at one junction; its pixels' ``along`` is their offset from the point between ``a`` and ``b``. Any
    other such stroke bows along the normal of a-b by its reach times ``sin(pi t)``, ``t`` running from
    0 at ``a`` to 1 at ``b``: most in its middle.
    """
    at = np.flatnonzero(held & bows)
    owner = stroke[at]
    _, first = np.unique(owner, return_index=True)
    a_x, a_y = np.zeros(count), np.zeros(count)
    a_x[owner[first]], a_y[owner[first]] = x[at[first]], y[at[first]]
    reach = np.hypot(x[at] - a_x[owner], y[at] - a_y[owner])
    order = np.lexsort((-reach, owner))
    _, farthest = np.unique(owner[order], return_index=True)
    picked = at[order[farthest]]
    b_x, b_y = a_x.copy(), a_y.copy()
    b_x[stroke[picked]], b_y[stroke[picked]] = x[picked], y[picked]
    k = stroke[bows]
    px, py = x[bows], y[bows]
    from_a, from_b = np.hypot(px - a_x[k], py - a_y[k]), np.hypot(px - b_x[k], py - b_y[k])
    span = np.zeros(count)
    np.maximum.at(span, k, from_a)
    chord_x, chord_y = b_x - a_x, b_y - a_y
    chord = np.hypot(chord_x, chord_y)
    loop = chord < span / 2
    safe = np.maximum(chord, 1e-9)[k]
    bow = span[k] * np.sin(np.pi * from_a / np.maximum(from_a + from_b, 1e-9))
    along = np.where(
        loop[k, None],
        np.stack([px - (a_x + b_x)[k] / 2, py - (a_y + b_y)[k] / 2], axis=1),
        np.stack([-bow * chord_y[k] / safe, bow * chord_x[k] / safe], axis=1),
    )
    return loop, along


@lru_cache(maxsize=GRAPHS_KEPT)
def open_corner_cut(
    packed: bytes, shape: tuple[int, int], angle: float, least_room: float = 0.0
) -> tuple[tuple[float, float], float, int] | None:
    """Where ``OpenCorner`` cuts the ink mask packed in ``packed``: the centre and radius of the disk
    erased, and the glyph's count of pieces, which the cut keeps.

    None when no hole at least ``least_room`` line widths wide has a corner under ``angle`` degrees
    whose cut opens that hole alone.
    """
    mask = np.unpackbits(np.frombuffer(packed, np.uint8), count=shape[0] * shape[1]).reshape(shape).astype(np.uint8)
    pieces, holes = topology(mask, LEAST_PART)
    if holes == 0:
        return None
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(1 - mask, connectivity=4)
    outside = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())
    line = line_width(mask)
    room = cv2.distanceTransform(1 - mask, cv2.DIST_L2, 3)
    best = None
    for hole in range(1, count):
        if hole in outside or stats[hole, cv2.CC_STAT_AREA] < LEAST_PART:
            continue
        if 2.0 * float(room[labels == hole].max()) < least_room * line:
            continue
        contours, _ = cv2.findContours((labels == hole).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        outline = max(contours, key=len)[:, 0, :].astype(np.float64)
        reach = max(_CORNER_REACH, len(outline) // 16)
        if len(outline) < 4 * reach:
            continue
        before, after = np.roll(outline, reach, axis=0) - outline, np.roll(outline, -reach, axis=0) - outline
        cosine = (before * after).sum(1) / np.maximum(np.hypot(*before.T) * np.hypot(*after.T), 1e-9)
        corners = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
        index = int(np.argmin(corners))
        if corners[index] >= angle or (best is not None and corners[index] >= best[0]):
            continue
        cut = _cut_outwards(mask, outline[index], centroids[hole])
        if cut is None:
            continue
        trial = mask.copy()
        (x, y), radius = cut
        cv2.circle(trial, (round(x), round(y)), max(1, round(radius)), 0, -1)
        if topology(trial, LEAST_PART) == (pieces, holes - 1):
            best = (corners[index], cut)
    return None if best is None else (*best[1], pieces)


def _cut_outwards(mask: np.ndarray, corner: np.ndarray, centre: np.ndarray) -> tuple[tuple[float, float], float] | None:
    """The disk that erases the ink beyond a hole's ``corner``, going away from the hole's ``centre``.

    March from the corner, half a pixel at a time, through the ink to the background beyond it; the
    disk spans that run of ink, with a pixel to spare. None when the march meets no ink.
    """
    direction = corner - centre
    direction /= max(float(np.hypot(*direction)), 1e-9)
    step, inside = 1.0, None
    while step < 4 * MAX_CLEARANCE:
        x, y = corner + step * direction
        if not (0 <= round(y) < mask.shape[0] and 0 <= round(x) < mask.shape[1]):
            break
        if mask[round(y), round(x)]:
            inside = step if inside is None else inside
        elif inside is not None:
            break
        step += 0.5
    if inside is None:
        return None
    middle = corner + (inside + step) / 2 * direction
    return (float(middle[0]), float(middle[1])), (step - inside) / 2 + 1.0


def open_corner(img: np.ndarray, cut: tuple[tuple[float, float], float, int], widen: float) -> np.ndarray:
    """``img`` with ``open_corner_cut``'s disk erased, its radius times ``widen``; as it is if that takes a part."""
    (x, y), radius, pieces = cut
    out = img.copy()
    cv2.circle(out, (round(x), round(y)), max(1, round(radius * widen)), 0, -1)
    if topology((out >= INK).astype(np.uint8), LEAST_PART)[0] != pieces:
        return img  # widened, the cut would take a part away
    return out


def piece_affine(
    img: np.ndarray,
    draws: np.ndarray,
    shift: float,
    angle: float,
    scale: tuple[float, float],
    amount: float = 1.0,
) -> np.ndarray:
    """Each piece of a glyph of several pieces moved on its own: turned, scaled and shifted about its centre.

    A piece is 8-connected ink at the tracing level of at least ``LEAST_PART`` pixels; every pixel of ink
    (its soft edge included) goes with its nearest piece. ``draws`` is ``(4, n)`` uniform draws, per piece in
    turn: its turn within ``angle`` degrees, its size factor within ``scale``, its shift across and down
    within ``shift`` of the glyph's larger side. The turn, the shift and the size factor's distance from 1
    are multiplied by ``amount``. A glyph in one piece is returned as it is.
    """
    count, labels, stats, centroids = cv2.connectedComponentsWithStats((img >= INK).astype(np.uint8), connectivity=8)
    pieces = [k for k in range(1, count) if stats[k, cv2.CC_STAT_AREA] >= LEAST_PART]
    if len(pieces) < 2:
        return img
    ink = np.argwhere(img > 0)
    top, left = ink.min(axis=0)
    bottom, right = ink.max(axis=0) + 1
    side = float(max(bottom - top, right - left))
    distances = np.stack([cv2.distanceTransform((labels != k).astype(np.uint8), cv2.DIST_L2, 3) for k in pieces])
    owner = distances.argmin(axis=0)
    turn_draw, size_draw, x_draw, y_draw = draws[:, np.arange(len(pieces)) % draws.shape[1]]
    turns = (2 * turn_draw - 1) * angle * amount
    sizes = 1 + amount * (scale[0] + size_draw * (scale[1] - scale[0]) - 1)
    shifts = (2 * np.stack([x_draw, y_draw], axis=1) - 1) * shift * side * amount
    height, width = img.shape[:2]
    out = np.zeros_like(img)
    for index, piece in enumerate(pieces):
        part = np.where(owner == index, img, 0).astype(img.dtype)
        matrix = cv2.getRotationMatrix2D(tuple(centroids[piece]), float(turns[index]), float(sizes[index]))
        matrix[:, 2] += shifts[index]
        moved = cv2.warpAffine(part, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        out = np.maximum(out, moved)
    return out

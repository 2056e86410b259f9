"""Pen and ink, as pure functions on arrays: a glyph's centreline redrawn with a nib, its ends run on, its ink
made solid or uneven, and gaps cut where the pen skipped. The transforms that draw their arguments at random
are in ``transforms.py`` beside this module.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from generator.synthesis.glyph import INK, NEIGHBOURS, line_width, pieces_in_frame, trace

# A stroke end's direction is taken from the centreline within this many pixels of it.
_REACH = 4
# A window's (y, x) indices in a centreline padded by the reach, relative to the end; and per pixel
# of the window, the columns (1, x offset, y offset) from its centre, so that one product of a
# flattened window with them gives its pixel count and the sums of their x and y offsets.
_WINDOW = np.mgrid[0 : 2 * _REACH + 1, 0 : 2 * _REACH + 1]
_MOMENTS = np.stack(
    [np.ones(_WINDOW[0].size), (_WINDOW[1] - _REACH).ravel(), (_WINDOW[0] - _REACH).ravel()], axis=1
).astype(np.float32)


def pen_line(
    img: np.ndarray,
    width: float,
    ratio: float,
    angle: float,
    end_draws: np.ndarray,
    overshoot: tuple[float, float] = (0.0, 0.0),
    overshoot_p: float = 0.0,
    run_on_scale: float = 1.0,
) -> np.ndarray:
    """The glyph's centreline, its ends run on (``run_on``), drawn with ``nib(width, ratio, angle)``."""
    traced = trace(img >= INK)
    if traced is None:
        return img
    centreline, (top, bottom, left, right) = traced
    line = np.zeros(img.shape[:2], np.uint8)
    line[top:bottom, left:right][centreline] = 255
    if overshoot_p > 0:
        run_on(line, centreline, (left, top), end_draws, overshoot, overshoot_p, run_on_scale)
    return cv2.dilate(line, nib(width, ratio, angle))


def run_on(
    line: np.ndarray,
    centreline: np.ndarray,
    offset: tuple[int, int],
    draws: np.ndarray,
    overshoot: tuple[float, float],
    overshoot_p: float,
    run_on_scale: float = 1.0,
) -> None:
    """Extends the centreline's ends in place, each along the direction of its last few pixels.

    ``draws`` is ``(2, n)`` uniform draws, per end in turn: whether it runs on (under ``overshoot_p``), and how
    far within ``overshoot``, times ``run_on_scale``. The direction at an end points away from the mean position
    of the centreline's pixels in the 9x9 window around it.
    """
    mask = centreline.astype(np.uint8)
    neighbours = cv2.filter2D(mask, -1, NEIGHBOURS, borderType=cv2.BORDER_CONSTANT)
    ends = np.argwhere(centreline & (neighbours == 2))  # itself and exactly one neighbour
    runs, lengths = np.resize(draws, (2, len(ends)))
    lengths = (overshoot[0] + lengths * (overshoot[1] - overshoot[0])) * run_on_scale
    ends, lengths = ends[runs < overshoot_p], lengths[runs < overshoot_p]
    if len(ends) == 0:
        return
    # Each end's window, cut from the centreline padded by the window's reach.
    padded = cv2.copyMakeBorder(mask, *(_REACH,) * 4, cv2.BORDER_CONSTANT, value=0)
    windows = padded[ends[:, 0, None, None] + _WINDOW[0], ends[:, 1, None, None] + _WINDOW[1]]
    moments = windows.reshape(len(ends), -1).astype(np.float32) @ _MOMENTS  # whole numbers: exact
    # The end minus the mean position near it, as (x, y).
    direction = moments[:, 1:] / -moments[:, :1]
    norms = np.hypot(direction[:, 0], direction[:, 1])
    starts = ends[:, ::-1] + np.array(offset)
    tips = np.rint(starts + direction / np.maximum(norms, 1e-6)[:, None] * lengths[:, None]).astype(int)
    for start, tip, norm in zip(starts.tolist(), tips.tolist(), norms.tolist(), strict=True):
        if norm > 1e-6:
            cv2.line(line, tuple(start), tuple(tip), 255, 1, cv2.LINE_8)


def nib(width: float, ratio: float, angle: float) -> np.ndarray:
    """A filled ellipse ``width`` across and ``width * ratio`` deep, turned ``angle`` degrees.

    A pixel belongs to the nib when its centre lies inside the ellipse, so the nib is symmetric
    about its centre pixel at every angle and dilating with it never shifts a stroke.
    """
    radius = int(np.ceil(width / 2))
    dy, dx = _nib_grid(radius)
    turn = np.deg2rad(angle)
    along = dx * np.cos(turn) + dy * np.sin(turn)
    across = -dx * np.sin(turn) + dy * np.cos(turn)
    semi_major, semi_minor = max(width / 2, 0.5), max(width * ratio / 2, 0.5)
    return ((along / semi_major) ** 2 + (across / semi_minor) ** 2 <= 1.0).astype(np.uint8)


@lru_cache(maxsize=16)
def _nib_grid(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) offsets of a square of pixels ``radius`` either side of its centre."""
    dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float64)
    dy.flags.writeable = dx.flags.writeable = False
    return dy, dx


def pressure(img: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The ink multiplied by the ``levels`` grid, interpolated bicubically over the image."""
    height, width = img.shape[:2]
    field = cv2.resize(levels, (width, height), interpolation=cv2.INTER_CUBIC)
    return cv2.multiply(img.astype(np.float32), field).clip(0, 255).astype(np.uint8)


def solid_ink(img: np.ndarray, edge: float, softness: float) -> np.ndarray:
    """Grey levels through a ramp: under ``edge - softness / 2`` background, over ``edge + softness / 2`` full ink.

    An image the ramp would break into more pieces in MNIST's frame is returned as it is.
    """
    levels = (np.arange(256) - (edge - softness / 2)) * (255.0 / softness)
    out = cv2.LUT(img, np.clip(levels, 0, 255).round().astype(np.uint8))
    return img if pieces_in_frame(out) > pieces_in_frame(img) else out


def stroke_gaps(img: np.ndarray, picks: np.ndarray, sizes: np.ndarray, relative_size: bool) -> np.ndarray:
    """Disks of background cut on the ink, each centred on the ink pixel ``pick`` (0-1) points to.

    ``sizes`` are the disks' diameters in pixels, or in line widths with ``relative_size``; then a cut that
    would take most of a small piece (a dot, a short sign) is not made.
    """
    mask = (img >= INK).astype(np.uint8)
    ink = np.argwhere(mask)
    if len(ink) == 0:
        return img
    if not relative_size:
        out = img.copy()
        for pick, size in zip(picks, sizes, strict=True):
            y, x = ink[int(pick * len(ink))]
            cv2.circle(out, (int(x), int(y)), max(1, round(size / 2)), 0, -1)
        return out
    stroke = line_width(mask)
    _, pieces, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = img.copy()
    for pick, size in zip(picks, sizes, strict=True):
        y, x = ink[int(pick * len(ink))]
        radius = max(1, round(size * stroke / 2))
        # A piece is long enough to lose a cut when it holds several cuts' worth of ink.
        if stats[pieces[y, x], cv2.CC_STAT_AREA] > 4 * np.pi * radius * radius:
            cv2.circle(out, (int(x), int(y)), radius, 0, -1)
    return out

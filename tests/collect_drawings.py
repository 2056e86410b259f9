"""Drawings the collection tests make themselves: a font's numerals, traced as a hand would draw them.

A glyph is thinned to its centreline (``skimage.morphology.skeletonize``), the centreline is walked
into strokes, and each writer draws them with their own slant, size, position and tremor. Also a
scribble (many long strokes across the whole pad), for sanitation to catch.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
from skimage.morphology import skeletonize

from generator.collect.drawing import CANVAS
from generator.registry import NumeralSystem
from generator.synthesis.fonts import render_glyph

_NEIGHBOURS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


@functools.cache
def centreline_strokes(font: str, character: str) -> tuple[np.ndarray, ...]:
    """The glyph's centreline as strokes of ``(x, y)`` in ``0..1`` of its longer side, every 3rd pixel."""
    from pathlib import Path

    glyph = render_glyph(Path(font), character)
    skeleton = skeletonize(np.pad(glyph > 127, 2))
    left = {(int(y), int(x)) for y, x in zip(*np.nonzero(skeleton), strict=True)}

    def neighbours(pixel: tuple[int, int]) -> list[tuple[int, int]]:
        return [(pixel[0] + dy, pixel[1] + dx) for dy, dx in _NEIGHBOURS if (pixel[0] + dy, pixel[1] + dx) in left]

    strokes = []
    while left:
        ends = [pixel for pixel in sorted(left) if len(neighbours(pixel)) <= 1]
        pixel = ends[0] if ends else min(left)
        path = [pixel]
        left.discard(pixel)
        while True:
            following = neighbours(pixel)
            if not following:
                break
            # Straight neighbours first, so the walk follows the line instead of cutting corners.
            pixel = min(following, key=lambda p: abs(p[0] - pixel[0]) + abs(p[1] - pixel[1]))
            path.append(pixel)
            left.discard(pixel)
        if len(path) >= 4:
            strokes.append(np.array([(x, y) for y, x in [*path[::3], path[-1]]], np.float64))
    side = float(max(glyph.shape))
    return tuple(stroke / side for stroke in strokes)


def draw_numeral(system: NumeralSystem, label: int, rng: np.random.Generator, font: int = 0) -> list:
    """One writer's drawing of a numeral, as the page would send it: ``[[[x, y, t, pressure], ...], ...]``."""
    strokes = centreline_strokes(str(system.fonts[font]), system.characters[label])
    angle = np.deg2rad(rng.uniform(-8, 8))
    scale = rng.uniform(520, 680)
    shear = rng.uniform(-0.12, 0.12)
    matrix = (
        scale
        * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        @ np.array([[1, shear], [0, 1]])
    )
    points = np.concatenate(strokes) @ matrix.T
    offset = CANVAS / 2 - (points.min(axis=0) + points.max(axis=0)) / 2 + rng.uniform(-50, 50, 2)
    drawing, t = [], 0.0
    for stroke in strokes:
        xy = stroke @ matrix.T + offset + rng.normal(0, 2.5, stroke.shape)
        xy = np.clip(xy, 0, CANVAS)
        points_out = []
        for x, y in xy:
            points_out.append([round(float(x), 1), round(float(y), 1), round(t, 1), 0.5])
            t += rng.uniform(6, 12)
        drawing.append(points_out)
        t += rng.uniform(150, 300)
    return drawing


def scribble(rng: np.random.Generator, strokes: int = 25) -> list:
    """Long zig-zags across the whole pad: vandalism, or a child's scribble."""
    drawing, t = [], 0.0
    for _ in range(strokes):
        xy = rng.uniform(20, CANVAS - 20, (12, 2))
        drawing.append(
            [[round(float(x), 1), round(float(y), 1), round(t + 8 * i, 1), 0.5] for i, (x, y) in enumerate(xy)]
        )
        t += 200
    return drawing


# --- planted cases for sanitation: what vandals, careless hands and other scripts send ---------------------------


def bar(rng: np.random.Generator) -> list:
    """One vertical stroke down the middle of the pad: the least effort that still leaves a mark."""
    x = 500 + rng.uniform(-60, 60)
    top, bottom = 180 + rng.uniform(-40, 40), 820 + rng.uniform(-40, 40)
    return [
        [
            [round(float(x + rng.normal(0, 2)), 1), round(float(y), 1), round(10.0 * i, 1), 0.5]
            for i, y in enumerate(np.linspace(top, bottom, 30))
        ]
    ]


def dot(rng: np.random.Generator) -> list:
    """A tap: one point, or two a few units apart."""
    x, y = rng.uniform(300, 700, 2)
    return [
        [
            [round(float(x), 1), round(float(y), 1), 0.0, 0.5],
            [round(float(x) + 3, 1), round(float(y) + 2, 1), 12.0, 0.5],
        ]
    ]


def _segments(corners: list, t: float) -> list:
    points = []
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        for f in np.linspace(0, 1, 15):
            points.append([x0 + f * (x1 - x0), y0 + f * (y1 - y0), t, 0.5])
            t += 8
    return points


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, t: float) -> list:
    return [
        [cx + rx * np.cos(a), cy + ry * np.sin(a), t + 8 * i, 0.5] for i, a in enumerate(np.linspace(start, end, 40))
    ]


# Latin digits as a hand draws them, in pad units: planted to see whether sanitation notices another
# script's digit filed under a numeral. Hand-placed lines and arcs; no font's digits are used.
LATIN_DIGITS = {
    "0": lambda: [_arc(500, 500, 200, 300, 0, 2 * np.pi, 0)],
    "1": lambda: [_segments([[500, 200], [500, 800]], 0)],
    "2": lambda: [
        _arc(500, 380, 180, 160, np.pi * 1.1, np.pi * 2.25, 0) + _segments([[600, 520], [300, 800], [720, 800]], 400)
    ],
    "3": lambda: [
        _arc(480, 360, 170, 140, -np.pi * 0.9, np.pi * 0.5, 0)
        + _arc(480, 640, 190, 150, -np.pi * 0.5, np.pi * 0.9, 400)
    ],
    "4": lambda: [_segments([[650, 200], [250, 650], [750, 650]], 0), _segments([[600, 380], [600, 850]], 500)],
    "7": lambda: [_segments([[280, 220], [720, 220], [420, 820]], 0)],
    "8": lambda: [_arc(500, 350, 150, 150, 0, 2 * np.pi, 0), _arc(500, 650, 180, 170, 0, 2 * np.pi, 600)],
    "9": lambda: [_arc(500, 380, 170, 170, 0, 2 * np.pi, 0), _segments([[670, 380], [620, 820]], 600)],
}


def latin_digit(digit: str, rng: np.random.Generator) -> list:
    """A Latin digit (a key of ``LATIN_DIGITS``) in one writer's size, position and tremor."""
    scale, (dx, dy) = rng.uniform(0.9, 1.1), rng.uniform(-40, 40, 2)
    return [
        [
            [
                round(float(np.clip(500 + scale * (x - 500) + dx + rng.normal(0, 2), 0, CANVAS)), 1),
                round(float(np.clip(500 + scale * (y - 500) + dy + rng.normal(0, 2), 0, CANVAS)), 1),
                round(float(t), 1),
                p,
            ]
            for x, y, t, p in stroke
        ]
        for stroke in LATIN_DIGITS[digit]()
    ]


def unusual_hand(system: NumeralSystem, label: int, rng: np.random.Generator) -> list:
    """A correct numeral in an unusual hand: small, slanted hard, low on the left of the pad."""
    strokes = draw_numeral(system, label, rng, font=len(system.fonts) - 1)
    points = np.array([[p[0], p[1]] for stroke in strokes for p in stroke])
    low = points.min(axis=0)
    drawing = []
    for stroke in strokes:
        drawing.append(
            [
                [
                    round(float(np.clip(120 + 0.55 * (x - low[0]) + 0.25 * (y - low[1]), 0, CANVAS)), 1),
                    round(float(np.clip(420 + 0.55 * (y - low[1]), 0, CANVAS)), 1),
                    t,
                    p,
                ]
                for x, y, t, p in stroke
            ]
        )
    return drawing

"""Drawings the collection tests make themselves: a font's numerals, traced as a hand would draw them.

A glyph is thinned to its centreline (``skimage.morphology.skeletonize``), the centreline is walked
into strokes, and each writer draws them with their own slant, size, position and tremor. Also a
scribble (many long strokes across the whole pad), for sanitation to catch.
"""

from __future__ import annotations

import functools

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

"""Warps of the whole canvas, as pure functions on arrays: an elastic field drawn on a coarse grid, the affine
and grid-distortion maps albumentations would build, and one OpenCV call to apply each. The transforms that
draw their arguments are in ``transforms.py`` beside this module.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import cv2
import numpy as np
from albumentations.augmentations.geometric import functional as fgeometric

# The coarse elastic grid has this many nodes per sigma. A field smoothed by a Gaussian of sigma keeps
# under 1e-4 of its amplitude at this spacing's Nyquist frequency, so nothing aliases; 1.5 matched
# the library's field as closely as 2 or 4 did in the test's measures, and costs less.
NODES_PER_SIGMA = 1.5
# What ``numpy.allclose(matrix, eye(3))`` accepts as the identity, as one comparison.
_EYE = np.eye(3)
_IDENTITY_TOLERANCE = 1e-8 + 1e-5 * np.abs(_EYE)


def coarse_elastic_maps(
    shape: tuple[int, int],
    alpha: float,
    sigma: float,
    same_dxdy: bool,
    noise_distribution: str,
    random_generator: np.random.Generator,
    amount: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(map_x, map_y)`` of an elastic field drawn on a grid with a node every ``sigma / NODES_PER_SIGMA`` pixels.

    ``alpha`` and ``sigma`` mean what they mean to albumentations' ElasticTransform, in pixels. The field is
    drawn by the library's own ``generate_displacement_fields`` in grid units, scaled back by the ratio of the
    expected maxima of its noise over the grid's nodes and over the image's pixels (the library scales by the
    maximum), times ``amount``, and resized bicubically to the image as two small matrix products.
    """
    height, width = shape
    step = max(sigma / NODES_PER_SIGMA, 1.0)
    grid = (max(math.ceil(height / step), 2), max(math.ceil(width / step), 2))
    fields = 1 if same_dxdy else 2
    scale = expected_max(fields * grid[0] * grid[1]) / expected_max(fields * height * width)
    dx, dy = fgeometric.generate_displacement_fields(
        grid,
        alpha / step * scale * amount,
        sigma / step,
        same_dxdy=same_dxdy,
        kernel_size=(0, 0),
        random_generator=random_generator,
        noise_distribution=noise_distribution,
    )
    xs, ys = pixel_grid(height, width)
    down, across = cubic_upsampler(grid[0], height), cubic_upsampler(grid[1], width)
    map_x = xs + down @ dx @ across.T
    map_y = ys + (map_x - xs if same_dxdy else down @ dy @ across.T)
    return map_x, map_y


@lru_cache(maxsize=8)
def cubic_upsampler(nodes: int, pixels: int) -> np.ndarray:
    """The ``pixels x nodes`` matrix of OpenCV's bicubic resize along one axis (it is separable)."""
    matrix = cv2.resize(np.eye(nodes, dtype=np.float32), (nodes, pixels), interpolation=cv2.INTER_CUBIC)
    matrix.flags.writeable = False
    return matrix


# StrokeWarp asks for a grid of its window's size, which varies with the glyph; at most 64 KiB each.
@lru_cache(maxsize=256)
def pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


@lru_cache(maxsize=32)
def expected_max(count: int) -> float:
    """The median of the largest of ``count`` absolute standard normal draws."""
    return NormalDist().inv_cdf(1 - math.log(2) / (2 * count))


def affine(
    img: np.ndarray,
    matrix: np.ndarray,
    output_shape: tuple[int, int],
    interpolation: int,
    border_mode: int,
    fill: float,
) -> np.ndarray:
    """A single-channel image warped by a 3x3 affine ``matrix``; the image itself when the matrix is the identity."""
    if (np.abs(matrix - _EYE) <= _IDENTITY_TOLERANCE).all():
        return img
    height, width = int(np.round(output_shape[0])), int(np.round(output_shape[1]))
    return cv2.warpAffine(
        img,
        matrix[:2, :],
        (width, height),
        flags=interpolation,
        borderMode=border_mode,
        borderValue=fgeometric.extend_value(fill, 1),
    )


def grid_distortion_map(
    shape: tuple[int, int], steps_x: list[float], steps_y: list[float], num_steps: int
) -> np.ndarray:
    """``(h, w, 2)`` float32 map of ``fgeometric.generate_grid``'s values for these steps, both axes at once."""
    height, width = shape
    map_xy = np.empty((height, width, 2), np.float32)
    map_xy[..., 0] = _grid_axis(width, steps_x, num_steps)
    map_xy[..., 1] = _grid_axis(height, steps_y, num_steps)[:, None]
    return map_xy


def _grid_axis(size: int, steps: list[float], num_steps: int) -> np.ndarray:
    """One axis of ``fgeometric.generate_grid``: the same values, from the same float64 arithmetic.

    Cell ``i`` runs from the sum of the steps before it to that sum plus its own step, both times
    the cell size, and ``linspace`` fills it: ``arange(n) * ((stop - start) / (n - 1)) + start``
    with its last value set to ``stop``. Cells that are not full or not longer than one pixel, or
    whose step is zero, go through ``linspace`` itself.
    """
    cell = size // num_steps
    starts, stops = [], []
    previous = 0.0
    for step in steps:
        current = previous + cell * step
        starts.append(previous)
        stops.append(current)
        previous = current
    axis = np.zeros(size, np.float32)
    full = min(len(steps), size // cell) if cell > 1 else 0
    start, stop = np.array(starts[:full], np.float64), np.array(stops[:full], np.float64)
    increment = (stop - start) / (cell - 1) if full else start
    if full and (increment != 0).all():
        values = np.arange(cell, dtype=np.float64) * increment[:, None] + start[:, None]
        values[:, -1] = stop
        axis[: full * cell] = values.ravel()
    else:
        full = 0
    for index in range(full, len(steps)):
        first = index * cell
        last = min(first + cell, size)
        if last > first:
            axis[first:last] = np.linspace(starts[index], stops[index], last - first)
    return axis


def remap(img: np.ndarray, map_xy: np.ndarray, interpolation: int, border_mode: int, fill: float) -> np.ndarray:
    """``fgeometric.remap`` for a single-channel image: one OpenCV call on a two-channel float32 map."""
    return cv2.remap(img, map_xy, None, interpolation=interpolation, borderMode=border_mode, borderValue=fill)

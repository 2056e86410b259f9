"""Grids of 28x28 images, as the preview, the card's sample grids and the figures show them."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from generator.normalize import FRAME

GAP = 2  # px of grey between cells, so that black cells stay apart
GREY = 96


def tile(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Lays out rows of 28x28 images as one ``uint8`` grid, with grey gaps between cells; a ``None`` cell stays grey."""
    height = len(rows) * (FRAME + GAP) + GAP
    grid = np.full((height, len(rows[0]) * (FRAME + GAP) + GAP), GREY, np.uint8)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            top, left = GAP + r * (FRAME + GAP), GAP + c * (FRAME + GAP)
            grid[top : top + FRAME, left : left + FRAME] = cell
    return grid


def png_bytes(grid: np.ndarray, zoom: int = 2) -> bytes:
    """The grid as PNG, each pixel enlarged to ``zoom`` x ``zoom`` so that small digits stay legible."""
    image = Image.fromarray(grid).resize((grid.shape[1] * zoom, grid.shape[0] * zoom), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

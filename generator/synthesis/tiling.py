"""Grids of 28x28 images, as the preview, the card's sample grids and the figures show them, with their labels.

Labels are drawn with Pillow's own default font, so a picture reads the same on any machine.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from generator.synthesis.normalize import FRAME

GAP = 2  # px of grey between cells, so that black cells stay apart
GREY = 96
PAD = 6  # px around labels
FONT_SIZE = 14


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


def png_bytes(image: Image.Image, *, optimize: bool = False) -> bytes:
    """``image`` as PNG bytes; ``optimize`` spends more time compressing for a smaller file."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=optimize)
    return buffer.getvalue()


@cache
def text_font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=FONT_SIZE)


def text_size(text: str) -> tuple[int, int]:
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=text_font())
    return right - left, bottom - top


def annotate(
    body: Image.Image,
    *,
    title: str = "",
    row_labels: Sequence[str] = (),
    row_centres: Sequence[float] = (),
    column_labels: Sequence[str] = (),
    column_centres: Sequence[float] = (),
) -> Image.Image:
    """``body`` on a white sheet, with a title above, labels left of its rows and above its columns.

    Centres are in ``body``'s pixels.
    """
    line = text_size("Ag")[1] + PAD
    left = max((text_size(text)[0] for text in row_labels), default=-2 * PAD) + 2 * PAD
    top = PAD + (line if title else 0) + (line if column_labels else 0)
    width = max(left + body.width, text_size(title)[0] + PAD) + PAD
    sheet = Image.new("RGB", (width, top + body.height + PAD), "white")
    sheet.paste(body.convert("RGB"), (left, top))
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((PAD, PAD), title, fill="black", font=text_font(), anchor="la")
    for text, centre in zip(column_labels, column_centres, strict=True):
        draw.text((left + centre, top - PAD // 2), text, fill="black", font=text_font(), anchor="md")
    for text, centre in zip(row_labels, row_centres, strict=True):
        draw.text((left - PAD, top + centre), text, fill="black", font=text_font(), anchor="rm")
    return sheet


def cell_centres(count: int, zoom: int) -> list[float]:
    """The centres, in zoomed pixels, of ``count`` cells along a grid's side as ``tile`` lays them out."""
    return [zoom * (GAP + index * (FRAME + GAP) + FRAME / 2) for index in range(count)]


def labelled_png(
    grid: np.ndarray,
    *,
    zoom: int = 2,
    title: str = "",
    row_labels: Sequence[str] = (),
    row_centres: Sequence[float] = (),
    column_labels: Sequence[str] = (),
) -> bytes:
    """A grid laid out by ``tile``, enlarged ``zoom`` times, with labels, as PNG bytes.

    ``row_centres`` are in the grid's own pixels (before zooming); columns are ``tile``'s cells.
    """
    body = Image.fromarray(grid).resize((grid.shape[1] * zoom, grid.shape[0] * zoom), Image.Resampling.NEAREST)
    sheet = annotate(
        body,
        title=title,
        row_labels=row_labels,
        row_centres=[zoom * centre for centre in row_centres],
        column_labels=column_labels,
        column_centres=cell_centres(len(column_labels), zoom),
    )
    return png_bytes(sheet)

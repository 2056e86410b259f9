"""Synthesis: exemplar canvases in, finished PNG images out. This is all a worker process runs.

It is kept apart from ``generate`` so that a worker imports only what drawing needs: no parquet,
Hugging Face or card code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import albumentations as A
import cv2
import numpy as np

from generator.fonts import render_exemplars
from generator.normalize import EmptyImageError, mnist_normalize, to_canvas
from generator.registry import NumeralSystem

if TYPE_CHECKING:
    from generator.generate import Chunk

# A deformation that leaves no ink is redrawn; this many failures in a row means a broken recipe.
_MAX_REDRAWS = 20


class Synthesizer:
    """Turns exemplar canvases into finished PNG images with one seeded recipe."""

    def __init__(self, canvases: list[list[np.ndarray]], recipe: A.Compose):
        self.canvases = canvases
        self.recipe = recipe

    def image(self, label: int, font: int) -> np.ndarray:
        """One deformed, MNIST-normalised 28x28 image, drawn from the recipe's current random state."""
        for _ in range(_MAX_REDRAWS):
            deformed = self.recipe(image=self.canvases[font][label])["image"]
            try:
                return mnist_normalize(deformed)
            except EmptyImageError:
                continue
        raise RuntimeError(f"the recipe erased label {label} of font {font} {_MAX_REDRAWS} times running")

    def render(self, labels: tuple[int, ...], fonts: tuple[int, ...], seed: int) -> list[bytes]:
        self.recipe.set_random_seed(seed)
        return [encode_png(self.image(label, font)) for label, font in zip(labels, fonts, strict=True)]


# PNGs are stored unfiltered and uncompressed, and the parquet pages are compressed with zstd
# instead: across a row group of similar digits zstd beats per-image deflate (about 240 bytes an
# image against 360), and encoding costs 7 us instead of 50. OpenCV applies the flags in order.
_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 0, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]


def encode_png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image, _PNG_PARAMS)
    if not ok:
        raise RuntimeError("OpenCV could not encode a PNG")
    return encoded.tobytes()


def exemplar_canvases(system: NumeralSystem) -> list[list[np.ndarray]]:
    """``[font][label]`` canvases ready for the recipe; checks every font on the way."""
    return [[to_canvas(glyph) for glyph in glyphs] for glyphs in render_exemplars(system)]


# Worker processes keep one Synthesizer per config, built once by the pool's initializer.
_synthesizers: dict[str, Synthesizer] = {}


def init_worker(canvases: dict[str, list[list[np.ndarray]]], recipe: dict) -> None:
    cv2.setNumThreads(1)  # the pool is the parallelism; OpenCV's own threads would oversubscribe
    _synthesizers.clear()
    for config, config_canvases in canvases.items():
        _synthesizers[config] = Synthesizer(config_canvases, A.from_dict(recipe))


def render_chunk(chunk: Chunk) -> list[bytes]:
    return _synthesizers[chunk.config].render(chunk.labels, chunk.fonts, chunk.seed)

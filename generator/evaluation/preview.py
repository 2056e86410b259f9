"""A one-image preview of a config: each font's exemplars, then random samples per class, labelled."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from generator.layout import write_atomic
from generator.registry import NumeralSystem
from generator.synthesis.fonts import family_name
from generator.synthesis.normalize import FRAME, normalize_exemplars
from generator.synthesis.recipe import default_recipe
from generator.synthesis.synthesizer import Synthesizer, exemplar_canvases
from generator.synthesis.tiling import GAP, GREY, labelled_png, tile

_SEPARATOR = 6  # px of grey between the exemplar rows and the samples


def preview_grid(system: NumeralSystem, samples_per_class: int = 8, seed: int = 0) -> np.ndarray:
    """A ``uint8`` image with one column per class.

    The first rows show each font's exemplar, MNIST-normalised; the rows below show
    ``samples_per_class`` random images per class drawn from the recipe.
    """
    canvases = exemplar_canvases(system)
    exemplar_rows = normalize_exemplars(canvases)
    synthesizer = Synthesizer(canvases, default_recipe(seed=seed))
    rng = np.random.default_rng(seed)
    fonts = [
        [font for font in range(len(canvases)) if system.draws(font, label)] for label in range(system.num_classes)
    ]
    sample_rows = [
        [
            synthesizer.image(label, fonts[label][int(rng.integers(len(fonts[label])))])
            for label in range(system.num_classes)
        ]
        for _ in range(samples_per_class)
    ]
    return np.vstack([tile(exemplar_rows), np.full((_SEPARATOR, _width(system)), GREY, np.uint8), tile(sample_rows)])


def row_labels(system: NumeralSystem, samples_per_class: int) -> tuple[list[str], list[float]]:
    """The labels of the preview's rows (each exemplar row's font family, then the samples) and their centres."""
    fonts = len(system.fonts)
    labels = [family_name(path) for path in system.fonts] + ["samples"] + [""] * (samples_per_class - 1)
    centres = [GAP + row * (FRAME + GAP) + FRAME / 2 for row in range(fonts)]
    below = fonts * (FRAME + GAP) + GAP + _SEPARATOR
    centres += [below + GAP + row * (FRAME + GAP) + FRAME / 2 for row in range(samples_per_class)]
    return labels, centres


def write_preview(system: NumeralSystem, path: Path, samples_per_class: int = 8, seed: int = 0) -> None:
    """Writes the preview as a PNG, atomically: font names left of the exemplar rows, class names above."""
    labels, centres = row_labels(system, samples_per_class)
    title = f"{system.name}: {system.script} numerals, each font's exemplar, then random samples (seed {seed})"
    png = labelled_png(
        preview_grid(system, samples_per_class, seed),
        title=title,
        row_labels=labels,
        row_centres=centres,
        column_labels=list(system.class_names),
    )
    write_atomic(path, png)


def _width(system: NumeralSystem) -> int:
    return system.num_classes * (FRAME + GAP) + GAP

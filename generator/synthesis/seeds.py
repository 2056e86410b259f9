"""Handwritten seeds: a few real examples per class, deformed instead of, or beside, the font exemplars.

    afro-mnist generate --spec tamil.toml --exemplars my_digits/                      # beside the fonts
    afro-mnist generate --spec tamil.toml --exemplars my_digits/ --exemplar-weight 1  # seeds alone

The Afro-MNIST paper notes that where a few handwritten examples of a numeral exist, they can be
deformed instead of font exemplars. ``DIR`` holds one subfolder per class, named by class name
(``my_digits/0/``, ``my_digits/1/`` ...), with images of any format, size and polarity. Each image
is cleaned exactly as a real test digit is (``generator.synthesis.handwriting.clean_real_image``: polarity,
paper, specks) and put on the recipe's canvas as a font exemplar is. Seeds that do not look like
their class are left out (``generator.synthesis.sanitation.check_seeds``) and recorded with the reason.

``--exemplar-weight W`` is the share of images drawn from seeds; the rest come from the fonts.
Within a class, every seed and every font is equally likely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator.errors import InputError
from generator.layout import sha256_file
from generator.registry import NumeralSystem
from generator.settings import DEFAULT_WEIGHT
from generator.synthesis.handwriting import clean_real_image, image_files, read_grey
from generator.synthesis.normalize import EmptyImageError, mnist_normalize, to_canvas
from generator.synthesis.sanitation import check_seeds


@dataclass(frozen=True)
class Seed:
    """One handwritten seed image.

    Attributes:
        file: its path relative to the seeds folder, with ``/`` separators.
        label: the class it was filed under.
        sha256: of the file, so that a config records exactly which seeds made it.
        canvas: the cleaned image on the recipe's canvas; ``None`` when it has no ink.
        image: the cleaned image, MNIST-normalised; all black when it has no ink.
    """

    file: str
    label: int
    sha256: str
    canvas: np.ndarray | None
    image: np.ndarray


@dataclass(frozen=True)
class SeedSet:
    """The seeds of one numeral system, after sanitation.

    Attributes:
        folder: where they were read from.
        weight: the share of generated images drawn from seeds.
        kept: the seeds used, in file order.
        dropped: ``(seed, reason)`` for each seed left out.
    """

    folder: Path
    weight: float
    kept: tuple[Seed, ...]
    dropped: tuple[tuple[Seed, str], ...] = field(default=())

    def canvases(self, label: int) -> list[np.ndarray]:
        """The kept seeds of one class on the recipe's canvas (an empty seed is never kept)."""
        return [seed.canvas for seed in self.kept if seed.label == label]

    def images(self, label: int) -> list[np.ndarray]:
        """The kept seeds of one class, MNIST-normalised, in the same order."""
        return [seed.image for seed in self.kept if seed.label == label]

    def metadata(self, class_names: tuple[str, ...]) -> dict:
        return {
            "folder": self.folder.name,
            "weight": self.weight,
            "kept": [_describe(seed, class_names) for seed in self.kept],
            "dropped": [{**_describe(seed, class_names), "reason": reason} for seed, reason in self.dropped],
        }


def _describe(seed: Seed, class_names: tuple[str, ...]) -> dict:
    return {"file": seed.file, "class": class_names[seed.label], "sha256": seed.sha256}


def check_weight(weight: float) -> None:
    if not 0 < weight <= 1:
        raise InputError(f"--exemplar-weight {weight} must lie in (0, 1]: the share of images drawn from seeds")


def read_seeds(
    folder: Path, system: NumeralSystem, font_images: list[list[np.ndarray]], weight: float = DEFAULT_WEIGHT
) -> SeedSet:
    """Reads, cleans and checks the seeds in ``folder`` for ``system``.

    Args:
        folder: one subfolder per class, named by class name.
        system: the numeral system the seeds belong to.
        font_images: ``[font][label]`` MNIST-normalised font exemplars, the reference of each class
            (``None`` where the spec excludes a glyph).
        weight: the share of images to draw from seeds.

    Raises:
        InputError: the folder is missing or empty, a subfolder is not a class, a file is not an
            image, or a class has no usable seed left.
    """
    check_weight(weight)
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--exemplars {folder} is not a folder; give one with a subfolder per class")
    names = list(system.class_names)
    entries = sorted(entry for entry in folder.iterdir() if not entry.name.startswith("."))
    seeds = []
    for entry in entries:
        if not entry.is_dir() or entry.name not in names:
            raise InputError(
                f"--exemplars {folder}: {entry.name!r} is not a class folder of {system.name}; "
                f"use subfolders named {', '.join(names)}"
            )
        for file in image_files(entry):
            seeds.append(_read_seed(file, folder, names.index(entry.name)))

    fonts = [image for images in font_images for image in images if image is not None]
    font_labels = [label for images in font_images for label, image in enumerate(images) if image is not None]
    reasons = check_seeds([seed.image for seed in seeds], [seed.label for seed in seeds], fonts, font_labels, names)
    kept = tuple(seed for seed, reason in zip(seeds, reasons, strict=True) if reason is None)
    dropped = tuple((seed, reason) for seed, reason in zip(seeds, reasons, strict=True) if reason is not None)
    for label, name in enumerate(names):
        if not any(seed.label == label for seed in kept):
            left_out = sum(1 for seed, _ in dropped if seed.label == label)
            raise InputError(
                f"--exemplars {folder}: class {name} of {system.name} has no usable handwritten seed "
                f"({left_out} left out by sanitation); add images to {folder / name}"
            )
    return SeedSet(folder, weight, kept, dropped)


def _read_seed(file: Path, folder: Path, label: int) -> Seed:
    grey = read_grey(file)
    try:
        clean = clean_real_image(grey)
        canvas, image = to_canvas(clean), mnist_normalize(clean)
    except EmptyImageError:
        canvas, image = None, np.zeros((28, 28), np.uint8)
    return Seed(file.relative_to(folder).as_posix(), label, sha256_file(file), canvas, image)

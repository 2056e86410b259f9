"""The figures of a config, as PNG, for the dataset card and the README.

    afro-mnist figures geez --out figures/

writes four images, named after the config:

- ``geez-exemplars.png``: each font's exemplar of every class, MNIST-normalised (the paper's Fig. 2);
- ``geez-samples.png``: random training images, one column per class;
- ``geez-class-means.png``: the mean training image of each class (the paper's Fig. 4);
- ``geez-deformation-sweep.png``: one exemplar under the recipe with its elastic strength (alpha)
  scaled from 0 to 4 times its own, one row per strength (the paper's Fig. 11). Each column keeps
  one seed, so down a column the random displacement field is the same and only its strength grows;
  the row at 1x is exactly what the generator draws for that seed.

The confusion matrix of ``afro-mnist evaluate-real`` is drawn here too. Everything is drawn with
Pillow and NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import albumentations as A
import numpy as np
from PIL import Image, ImageDraw

from generator.errors import InputError
from generator.layout import (
    DEFAULT_BUILD_DIR,
    check_output_paths,
    check_seed,
    config_folder,
    read_metadata,
    sha256_file,
)
from generator.registry import NumeralSystem
from generator.repository.export import load_split
from generator.repository.output import hold, repair, write_atomic_recorded
from generator.synthesis.fonts import family_name
from generator.synthesis.normalize import FRAME, normalize_exemplars
from generator.synthesis.recipe import default_recipe
from generator.synthesis.synthesizer import Synthesizer, exemplar_canvases
from generator.synthesis.tiling import annotate, png_bytes, text_font, tile

FIGURES = ("exemplars", "samples", "class-means", "deformation-sweep")
ELASTIC_SCALES = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
ZOOM = 3  # screen pixels per image pixel: 28 px digits are too small to read on a card


# --- the grids ---------------------------------------------------------------------------------------------------


def exemplar_rows(system: NumeralSystem) -> list[list[np.ndarray]]:
    """``[font][label]``: every font's exemplar of every class, MNIST-normalised; ``None`` where excluded."""
    return normalize_exemplars(exemplar_canvases(system))


def sample_rows(
    images: np.ndarray, labels: np.ndarray, num_classes: int, per_class: int = 8, seed: int = 0
) -> list[list[np.ndarray]]:
    """``[sample][label]``: images of each class drawn at random without replacement.

    That is ``per_class`` rows, or fewer if a class has fewer images.

    Raises:
        InputError: a class has no images at all.
    """
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(labels == label) for label in range(num_classes)]
    empty = [label for label in range(num_classes) if not len(members[label])]
    if empty:
        raise InputError(f"class {empty[0]} has no training images; regenerate the config")
    per_class = min(per_class, *(len(m) for m in members))
    columns = [images[rng.choice(m, per_class, replace=False)] for m in members]
    return [[column[row] for column in columns] for row in range(per_class)]


def class_means(images: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """The mean image of each class, ``float64`` ``(num_classes, 28, 28)`` in 0..255."""
    sums = np.zeros((num_classes, *images.shape[1:]), np.float64)
    np.add.at(sums, labels, images)
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    return sums / np.maximum(counts, 1)[:, None, None]


def stretch(image: np.ndarray) -> np.ndarray:
    """A non-negative image scaled so its brightest pixel is 255, as ``uint8``: a mean is dim."""
    peak = float(image.max())
    return np.round(image * (255 / peak) if peak else image).astype(np.uint8)


def elastic_recipe(scale: float) -> A.Compose:
    """The default recipe with its first elastic field's alpha multiplied by ``scale``; nothing else changes."""
    recipe = default_recipe()
    for transform in recipe.transforms:
        if isinstance(transform, A.ElasticTransform):
            transform.alpha *= scale
            return recipe
    raise ValueError("the default recipe has no ElasticTransform to scale")


def deformation_sweep(
    system: NumeralSystem,
    scales: Sequence[float] = ELASTIC_SCALES,
    seeds: Sequence[int] = range(8),
    label: int = 0,
    font: int = 0,
) -> list[list[np.ndarray]]:
    """``[scale][seed]``: one exemplar through the recipe at each elastic strength, for each seed.

    The recipe draws its random numbers in the same order whatever alpha is, so a seed gives the
    same pen width, affine transform and displacement field at every scale.
    """
    canvases = exemplar_canvases(system)
    rows = []
    for scale in scales:
        synthesizer = Synthesizer(canvases, elastic_recipe(scale))
        row = []
        for seed in seeds:
            synthesizer.recipe.set_random_seed(seed)
            row.append(synthesizer.image(label, font))
        rows.append(row)
    return rows


# --- drawing -----------------------------------------------------------------------------------------------------


def grid_figure(
    rows: list[list[np.ndarray]],
    *,
    title: str,
    row_labels: Sequence[str] = (),
    column_labels: Sequence[str] = (),
    zoom: int = ZOOM,
) -> Image.Image:
    """Rows of 28x28 images tiled by ``generator.synthesis.tiling.tile``, enlarged, titled and labelled."""
    grid = tile(rows)
    gap = (grid.shape[1] - len(rows[0]) * FRAME) / (len(rows[0]) + 1)
    centres = [zoom * (gap + index * (FRAME + gap) + FRAME / 2) for index in range(max(len(rows), len(rows[0])))]
    body = Image.fromarray(grid).resize((grid.shape[1] * zoom, grid.shape[0] * zoom), Image.Resampling.NEAREST)
    return annotate(
        body,
        title=title,
        row_labels=row_labels,
        row_centres=centres[: len(row_labels)],
        column_labels=column_labels,
        column_centres=centres[: len(column_labels)],
    )


def confusion_matrix_image(matrix: np.ndarray, class_names: Sequence[str], title: str = "") -> Image.Image:
    """A confusion matrix (rows true, columns predicted) as a heat map with the count in each cell.

    Each cell's shade is its share of the true class's images, so rows compare whatever their sizes.
    """
    cell = 40
    count = len(class_names)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    # From white (0) to a deep blue (1), a ramp that stays readable in greyscale print.
    white, blue = np.array([255, 255, 255]), np.array([8, 48, 107])
    colours = np.round(white + shares[..., None] * (blue - white)).astype(np.uint8)
    body = Image.fromarray(np.kron(colours, np.ones((cell, cell, 1), np.uint8)))
    draw = ImageDraw.Draw(body)
    for true in range(count):
        for predicted in range(count):
            ink = "white" if shares[true, predicted] > 0.5 else "black"
            centre = ((predicted + 0.5) * cell, (true + 0.5) * cell)
            draw.text(centre, str(matrix[true, predicted]), fill=ink, font=text_font(), anchor="mm")
    for edge in range(count + 1):  # grid lines, so that empty cells still read as cells
        draw.line([(edge * cell, 0), (edge * cell, count * cell)], fill=(200, 200, 200))
        draw.line([(0, edge * cell), (count * cell, edge * cell)], fill=(200, 200, 200))
    centres = [(index + 0.5) * cell for index in range(count)]
    return annotate(
        body,
        title="; ".join(part for part in (title, "rows: true class, columns: predicted") if part),
        row_labels=list(class_names),
        row_centres=centres,
        column_labels=list(class_names),
        column_centres=centres,
    )


# --- the command -------------------------------------------------------------------------------------------------


def figure_paths(config: str, out: Path) -> list[Path]:
    return [out / f"{config}-{name}.png" for name in FIGURES]


def write_figures(
    system: NumeralSystem,
    out: str | Path,
    build_dir: str | Path = DEFAULT_BUILD_DIR,
    *,
    seed: int = 0,
    overwrite: bool = False,
) -> list[Path]:
    """Draws the four figures of a generated config into ``out`` and returns their paths.

    Exemplars and the sweep come from the numeral system's fonts; samples and means from the
    config's training split, which must have been generated with those same fonts.

    Raises:
        InputError: the config is missing or was made with other fonts, an output exists without
            ``overwrite``, ``out`` is a file, or ``seed`` is negative.
    """
    out = Path(out)
    paths = figure_paths(system.name, out)
    check_seed(seed)
    check_output_paths(out, paths, overwrite)
    if not Path(build_dir).is_dir():
        config_folder(system.name, build_dir)  # its error, before --out is made
    with hold(out):
        repair(out)  # temporary files an interrupted run recorded
        check_output_paths(out, paths, overwrite)  # again, now that no other run can change it
        return _write_figures_locked(system, out, paths, build_dir, seed)


def _write_figures_locked(system: NumeralSystem, out: Path, paths: list[Path], build_dir: str | Path, seed: int):
    folder = config_folder(system.name, build_dir)
    metadata = read_metadata(folder)
    if [font["sha256"] for font in metadata["fonts"]] != [sha256_file(path) for path in system.fonts]:
        raise InputError(
            f"{folder} was generated with other fonts than config {system.name!r} has now; "
            "regenerate it, or pass the --spec it was made with"
        )
    images, labels = load_split(folder, "train", metadata)
    names = list(system.class_names)
    figures = [
        grid_figure(
            exemplar_rows(system),
            title=f"{system.script} numerals: the exemplar of each font",
            row_labels=[family_name(path) for path in system.fonts],
            column_labels=names,
        ),
        grid_figure(
            sample_rows(images, labels, system.num_classes, seed=seed),
            title=f"{system.name}: random training images",
            column_labels=names,
        ),
        grid_figure(
            [[stretch(mean) for mean in class_means(images, labels, system.num_classes)]],
            title=f"{system.name}: mean training image per class",
            column_labels=names,
        ),
        grid_figure(
            deformation_sweep(system),
            title=f"{system.name}: elastic alpha scaled, one seed per column",
            row_labels=[f"alpha x{scale:g}" for scale in ELASTIC_SCALES],
        ),
    ]
    for figure, path in zip(figures, paths, strict=True):
        write_atomic_recorded(path, png_bytes(figure, optimize=True))
    return paths

"""Distribution checks: Morpho-MNIST's shape measures per class, beside real digits if there are some.

    afro-mnist stats tamil                            # the table of build/afro_mnist/tamil's train split
    afro-mnist stats tamil --real digits.npz --out build/stats

Castro et al. (2019), *Morpho-MNIST: Quantitative Assessment and Diagnostics for Representation
Learning*, describe a digit by a few measures of its shape. They are computed here from the paper's
definitions, on each 28x28 image, and reported in pixels of the 28x28 frame:

- **binarisation**: the image is upsampled ``SCALE`` times (bilinear, pixel centres aligned, so a
  pixel's edge stays an edge) and thresholded at half the full grey level, ``THRESHOLD``; every
  measure below is taken on this binary image and divided back by ``SCALE``;
- **area**: the number of ink pixels (px²);
- **length**: the length of the skeleton (``skimage.morphology.skeletonize``, Zhang's thinning):
  1 for each pair of side-by-side skeleton pixels, √2 for each pair of corner-to-corner ones not
  already joined through a shared side neighbour (px);
- **thickness**: twice the mean, over the skeleton, of the Euclidean distance transform (the
  distance of an ink pixel to the nearest background pixel): the stroke's mean width (px);
- **slant**: the horizontal shear that makes the digit upright, from the second-order central
  moments of the ink, ``atan(-mu11 / mu02)`` with y pointing down; positive when the digit leans
  right, as italics do (degrees);
- **width** and **height**: the extent of the ink once that shear is undone, that is the sides of
  the slanted bounding parallelogram (px).
- **pieces**: not Morpho-MNIST's: the number of 8-connected pieces of ink at or above 64, counted
  on the 28x28 image itself; and per class the **broken** share, the images in more pieces than
  the class's exemplars usually have (``pieces_per_class`` in ``metadata.json``): strokes cut where
  the numeral has no gap.

Per class, and over all classes, each measure gets its mean and its standard deviation (population,
``ddof=0``); each class also gets its mean image, its pixel-wise standard deviation image and the
mean of that image (the **spread**, in grey levels). With real digits (read and normalised by
``generator.evaluation.realdata.read_real``, exactly as generated images are), the same numbers are computed
for them, and the difference is always real minus generated.

Measuring runs on batches: upsampling, binarising, moments and extents are array operations on a
whole batch; only the skeleton and the distance transform run image by image, each on the image's
cropped ink, on one thread. On one core that is about 0.45 ms an image: 60,000 images in under 30 s,
two thirds of it in the skeleton and the distance transform.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage.morphology import skeletonize

import generator
from generator.errors import InputError
from generator.evaluation.figures import grid_figure
from generator.evaluation.realdata import read_real
from generator.layout import DEFAULT_BUILD_DIR, SPLITS, check_output_paths, config_folder, read_metadata, write_atomic
from generator.repository.export import load_split
from generator.synthesis.normalize import count_pieces
from generator.synthesis.tiling import png_bytes

# Morpho-MNIST's processing: 4x upsampling, then a threshold at half of the full grey level.
SCALE = 4
THRESHOLD = 128
# (key, table header, decimals in the table); the JSON keeps full precision.
MEASURES = (
    ("thickness", "thickness px", 2),
    ("slant", "slant deg", 1),
    ("width", "width px", 1),
    ("height", "height px", 1),
    ("area", "area px2", 1),
    ("length", "length px", 1),
    ("pieces", "pieces", 2),
)
DEFINITIONS = {
    "thickness": "px: twice the mean Euclidean distance transform along the skeleton",
    "slant": "degrees: atan(-mu11/mu02) of the ink's central moments, y down; positive leans right",
    "width": "px: horizontal extent of the ink once the slant's shear is undone",
    "height": "px: vertical extent of the ink",
    "area": "px^2: ink pixels",
    "length": "px: skeleton length, 1 per side neighbour and sqrt(2) per corner neighbour",
    "pieces": "count: 8-connected pieces of ink at or above 64 in the 28x28 image (not upsampled)",
    "spread": "grey levels 0..255: the mean over the frame of the class's pixel-wise standard deviation",
    "broken": "share of images in more pieces than their class's exemplars usually have (metadata.json)",
}
_BATCH = 1_024
_ROOT2 = math.sqrt(2)


# --- the measures ------------------------------------------------------------------------------------------------


def upsampling_matrix(size: int, scale: int = SCALE) -> np.ndarray:
    """``(size * scale, size)``: bilinear interpolation with pixel centres aligned and edges clamped.

    ``A @ image @ A.T`` upsamples an image as OpenCV's ``INTER_LINEAR`` does: output pixel ``i`` sits
    at source coordinate ``(i + 0.5) / scale - 0.5``.
    """
    source = np.clip((np.arange(size * scale) + 0.5) / scale - 0.5, 0, size - 1)
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    weight = source - low
    matrix = np.zeros((size * scale, size))
    rows = np.arange(size * scale)
    np.add.at(matrix, (rows, low), 1 - weight)
    np.add.at(matrix, (rows, high), weight)
    return matrix


def binarise(images: np.ndarray, scale: int = SCALE, threshold: int = THRESHOLD) -> np.ndarray:
    """``uint8`` ``(N, H, W)`` -> ``bool`` ``(N, H * scale, W * scale)``: upsampled, then thresholded."""
    count, height, width = images.shape
    rows = upsampling_matrix(height, scale).astype(np.float32)
    columns = upsampling_matrix(width, scale).astype(np.float32)
    # rows @ image @ columns.T for every image, as two large matrix products rather than 2N small ones.
    wide = (images.reshape(count * height, width).astype(np.float32) @ columns.T).reshape(count, height, -1)
    tall = rows @ wide.transpose(1, 0, 2).reshape(height, -1)
    return np.ascontiguousarray((tall.reshape(len(rows), count, -1) >= threshold).transpose(1, 0, 2))


def measure(images: np.ndarray, scale: int = SCALE, threshold: int = THRESHOLD) -> dict[str, np.ndarray]:
    """The measures of each image, in pixels of the original frame (slant in degrees).

    Args:
        images: ``uint8`` ``(N, H, W)``, or one ``(H, W)`` image; white ink on black.

    Returns:
        ``{measure: float64 (N,)}`` for every key of ``MEASURES``; NaN for an image with no ink
        above the threshold.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    results = {key: np.full(len(images), np.nan) for key, _, _ in MEASURES}
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # per image, OpenCV's thread pool costs more than it gives
    try:
        for start in range(0, len(images), _BATCH):
            batch = _measure_batch(images[start : start + _BATCH], scale, threshold)
            for key, values in batch.items():
                results[key][start : start + len(values)] = values
    finally:
        cv2.setNumThreads(threads)
    return results


def _measure_batch(images: np.ndarray, scale: int, threshold: int) -> dict[str, np.ndarray]:
    ink = binarise(images, scale, threshold)
    count, height, width = ink.shape
    row_ink = ink.sum(axis=2, dtype=np.float64)  # (N, H): ink pixels in each row
    column_ink = ink.sum(axis=1, dtype=np.float64)  # (N, W)
    area = row_ink.sum(axis=1)
    found = area > 0
    mass = np.where(found, area, 1)
    y = np.arange(height, dtype=np.float64)
    x = np.arange(width, dtype=np.float64)
    y_mean = row_ink @ y / mass
    x_mean = column_ink @ x / mass
    mu02 = row_ink @ y**2 / mass - y_mean**2
    row_moment = (ink.reshape(-1, width).astype(np.float32) @ x.astype(np.float32)).reshape(count, height)
    mu11 = row_moment.astype(np.float64) @ y / mass - x_mean * y_mean
    # x' = x + tan(slant) * (y - y_mean) makes the digit upright: its x no longer drifts with y.
    shear = np.divide(-mu11, mu02, out=np.zeros(count), where=mu02 > 0)
    slant = np.degrees(np.arctan(shear)) + 0.0  # + 0.0: no -0.0 for an upright digit

    # Height: first and last ink rows. Width: within a row the shear is one offset, so the row's
    # leftmost and rightmost ink pixels bound the sheared row.
    has_ink = row_ink > 0
    top = has_ink.argmax(axis=1)
    bottom = height - 1 - has_ink[:, ::-1].argmax(axis=1)
    left = np.where(has_ink, ink.argmax(axis=2), width).astype(np.float64)
    right = np.where(has_ink, width - 1 - ink[:, :, ::-1].argmax(axis=2), -1).astype(np.float64)
    offset = shear[:, None] * (y[None, :] - y_mean[:, None])
    sheared_left = np.where(has_ink, left + offset, np.inf).min(axis=1)
    sheared_right = np.where(has_ink, right + offset, -np.inf).max(axis=1)
    first_column = (column_ink > 0).argmax(axis=1)
    last_column = width - 1 - (column_ink[:, ::-1] > 0).argmax(axis=1)

    # The skeleton and the distance transform, on each image's ink cropped with one background pixel
    # all round (the background beyond the frame counts as background).
    padded = np.zeros((count, height + 2, width + 2), np.uint8)
    padded[:, 1:-1, 1:-1] = ink
    thickness = np.full(count, np.nan)
    length = np.full(count, np.nan)
    for index in np.flatnonzero(found).tolist():
        crop = padded[index, top[index] : bottom[index] + 3, first_column[index] : last_column[index] + 3]
        thickness[index], length[index] = _skeleton_measures(np.ascontiguousarray(crop))

    nan = np.where(found, 1.0, np.nan)
    return {
        "thickness": thickness / scale,
        "slant": slant * nan,
        "width": (sheared_right - sheared_left + 1) / scale * nan,
        "height": (bottom - top + 1) / scale * nan,
        "area": area / scale**2 * nan,
        "length": length / scale,
        "pieces": np.array([count_pieces(image) for image in images], np.float64) * nan,
    }


def _skeleton_measures(ink: np.ndarray) -> tuple[float, float]:
    """``(thickness, length)`` of one binary ``uint8`` image with a background border, in its pixels."""
    skeleton = skeletonize(ink.view(bool))
    distance = cv2.distanceTransform(ink, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    pixels = np.flatnonzero(skeleton)
    return 2 * float(distance.ravel()[pixels].mean()), skeleton_length(skeleton, pixels)


def skeleton_length(skeleton: np.ndarray, pixels: np.ndarray | None = None) -> float:
    """The length of a ``bool`` skeleton whose border pixels are all background, in its pixels.

    Neighbours side by side add 1; neighbours corner to corner add √2, unless a pixel beside both
    joins them (then the path runs through that pixel, whose two sides are counted instead).

    Args:
        pixels: the skeleton's flat indices, if already known.
    """
    flat = skeleton.ravel()
    pixels = np.flatnonzero(flat) if pixels is None else pixels
    width = skeleton.shape[1]
    right, below = flat[pixels + 1], flat[pixels + width]
    left = flat[pixels - 1]
    below_right, below_left = flat[pixels + width + 1], flat[pixels + width - 1]
    # Each pair is counted once, from its upper (or, side by side, its left) pixel.
    sides = np.count_nonzero(right) + np.count_nonzero(below)
    corners = np.count_nonzero(below_right & ~right & ~below) + np.count_nonzero(below_left & ~left & ~below)
    return sides + _ROOT2 * corners


# --- per class ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The measures of a set of images, per class and over all of them.

    Attributes:
        examples: images per class, ``(C,)``; ``total``: all images.
        means, stds: per class, ``(C, len(MEASURES))``, NaN for a class without images.
        overall_mean, overall_std: over all images, ``(len(MEASURES),)``.
        mean_images, std_images: per class, ``float64`` ``(C, H, W)`` in grey levels.
        spread: the mean of each class's std image, ``(C,)``; ``overall_spread``: of all images.
        seconds: the time the measures took.
    """

    examples: np.ndarray
    total: int
    means: np.ndarray
    stds: np.ndarray
    overall_mean: np.ndarray
    overall_std: np.ndarray
    mean_images: np.ndarray
    std_images: np.ndarray
    spread: np.ndarray
    overall_spread: float
    seconds: float
    broken: np.ndarray | None = None
    overall_broken: float = math.nan


def summarise(
    images: np.ndarray, labels: np.ndarray, num_classes: int, usual_pieces: Sequence[int] | None = None
) -> Summary:
    """Measures every image and aggregates the measures and the pixels per class.

    With ``usual_pieces`` (per class), also the share of each class's images in more pieces than that.
    """
    started = time.perf_counter()
    values = measure(images)
    seconds = time.perf_counter() - started
    table = np.stack([values[key] for key, _, _ in MEASURES], axis=1)  # (N, M)
    means = np.full((num_classes, len(MEASURES)), np.nan)
    stds = np.full_like(means, np.nan)
    # Pixel sums and sums of squares per class: 255 ** 2 fits uint16, and the sums are exact in float64.
    sums = np.zeros((num_classes, *images.shape[1:]))
    squares = np.zeros_like(sums)
    for label in range(num_classes):
        members = labels == label
        means[label], stds[label] = _mean_std(table[members])
        pixels = images[members]
        sums[label] = pixels.sum(axis=0, dtype=np.float64)
        squares[label] = np.square(pixels, dtype=np.uint16).sum(axis=0, dtype=np.float64)
    overall_mean, overall_std = _mean_std(table)
    examples = np.bincount(labels, minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):  # a class without images: NaN
        mean_images = sums / examples[:, None, None]
        std_images = _std(squares / examples[:, None, None], mean_images)
    overall_spread = (
        float(_std(squares.sum(0) / len(labels), sums.sum(0) / len(labels)).mean()) if len(labels) else math.nan
    )
    broken, overall_broken = None, math.nan
    if usual_pieces is not None:
        over = values["pieces"] > np.asarray(usual_pieces, np.float64)[labels]
        with np.errstate(invalid="ignore", divide="ignore"):
            broken = np.bincount(labels, weights=over, minlength=num_classes) / examples
        overall_broken = float(over.mean()) if len(labels) else math.nan
    return Summary(
        broken=broken,
        overall_broken=overall_broken,
        examples=examples,
        total=len(labels),
        means=means,
        stds=stds,
        overall_mean=overall_mean,
        overall_std=overall_std,
        mean_images=mean_images,
        std_images=std_images,
        spread=std_images.mean(axis=(1, 2)),
        overall_spread=overall_spread,
        seconds=seconds,
    )


def _std(mean_square: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Standard deviation from E[x^2] and E[x]; rounding can leave a variance a hair below 0."""
    return np.sqrt(np.maximum(mean_square - mean**2, 0))


def _mean_std(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations over the finite values; NaN where a column has none."""
    means = np.full(table.shape[1], np.nan)
    stds = np.full(table.shape[1], np.nan)
    for column in range(table.shape[1]):
        finite = table[:, column][np.isfinite(table[:, column])]
        if len(finite):
            means[column], stds[column] = finite.mean(), finite.std()
    return means, stds


# --- the table, the JSON and the figure --------------------------------------------------------------------------


def format_table(
    config: str, split: str, class_names: Sequence[str], generated: Summary, real: Summary | None = None
) -> str:
    """The per-class table: mean ± std of each measure, and with real digits their rows and the difference."""
    title = f"{config}, {split} split: {generated.total} generated images"
    if real is not None:
        title += f"; {real.total} real images; difference = real - generated (means)"
    header = ["class", "set", "n", *(name for _, name, _ in MEASURES), "spread", "broken"]
    rows = [header]
    groups = [(name, label) for label, name in enumerate(class_names)] + [("all", None)]
    for name, label in groups:
        rows.append([name, "generated", *_cells(generated, label)])
        if real is not None:
            rows.append(["", "real", *_cells(real, label)])
            rows.append(["", "difference", "", *_difference_cells(generated, real, label)])
    lines = [title, *_align(rows)]
    if real is not None:
        lines += ["", "largest per-class gaps (real - generated):", *_largest_gaps(class_names, generated, real)]
    return "\n".join(lines)


def _cells(summary: Summary, label: int | None) -> list[str]:
    means, stds, examples, spread = _row(summary, label)
    cells = [str(examples)]
    for (_, _, decimals), mean, std in zip(MEASURES, means, stds, strict=True):
        cells.append("-" if math.isnan(mean) else f"{mean:.{decimals}f} ± {std:.{decimals}f}")
    cells.append("-" if math.isnan(spread) else f"{spread:.1f}")
    broken = _broken(summary, label)
    cells.append("-" if math.isnan(broken) else f"{broken:.1%}")
    return cells


def _broken(summary: Summary, label: int | None) -> float:
    if summary.broken is None:
        return math.nan
    return summary.overall_broken if label is None else float(summary.broken[label])


def _difference_cells(generated: Summary, real: Summary, label: int | None) -> list[str]:
    gen_means, _, _, gen_spread = _row(generated, label)
    real_means, _, _, real_spread = _row(real, label)
    cells = []
    for (_, _, decimals), gen, other in zip(MEASURES, gen_means, real_means, strict=True):
        cells.append("-" if math.isnan(gen - other) else f"{other - gen:+.{decimals}f}")
    cells.append("-" if math.isnan(gen_spread - real_spread) else f"{real_spread - gen_spread:+.1f}")
    gap = _broken(real, label) - _broken(generated, label)
    cells.append("-" if math.isnan(gap) else f"{gap:+.1%}")
    return cells


def _row(summary: Summary, label: int | None) -> tuple[np.ndarray, np.ndarray, int, float]:
    if label is None:
        return summary.overall_mean, summary.overall_std, summary.total, summary.overall_spread
    return summary.means[label], summary.stds[label], int(summary.examples[label]), float(summary.spread[label])


def _largest_gaps(class_names: Sequence[str], generated: Summary, real: Summary) -> list[str]:
    lines = []
    gaps = real.means - generated.means
    for column, (_, name, decimals) in enumerate(MEASURES):
        if np.isnan(gaps[:, column]).all():
            continue
        label = int(np.nanargmax(np.abs(gaps[:, column])))
        lines.append(
            f"  {name}: class {class_names[label]} {gaps[label, column]:+.{decimals}f} "
            f"(generated {generated.means[label, column]:.{decimals}f}, real {real.means[label, column]:.{decimals}f})"
        )
    spread_gaps = real.spread - generated.spread
    if not np.isnan(spread_gaps).all():
        label = int(np.nanargmax(np.abs(spread_gaps)))
        lines.append(
            f"  spread: class {class_names[label]} {spread_gaps[label]:+.1f} "
            f"(generated {generated.spread[label]:.1f}, real {real.spread[label]:.1f})"
        )
    return lines


def _align(rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell: the first two left-aligned, numbers right-aligned."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if column < 2 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _number(value: float, decimals: int | None = None) -> float | None:
    """A float for JSON: None for NaN, which JSON cannot hold."""
    value = float(value)
    if math.isnan(value):
        return None
    return round(value, decimals) if decimals is not None else value


def _summary_json(summary: Summary, class_names: Sequence[str], source: str) -> dict:
    def entry(label: int | None) -> dict:
        means, stds, examples, spread = _row(summary, label)
        values: dict = {"examples": examples}
        for (key, _, _), mean, std in zip(MEASURES, means, stds, strict=True):
            values[key] = {"mean": _number(mean), "std": _number(std)}
        values["spread"] = _number(spread)
        values["broken"] = _number(_broken(summary, label))
        return values

    return {
        "source": source,
        "examples": summary.total,
        "measure_seconds": round(summary.seconds, 3),
        "overall": entry(None),
        "per_class": {name: entry(label) for label, name in enumerate(class_names)},
    }


def _difference_json(generated: Summary, real: Summary, class_names: Sequence[str]) -> dict:
    def entry(label: int | None) -> dict:
        gen_means, _, _, gen_spread = _row(generated, label)
        real_means, _, _, real_spread = _row(real, label)
        values = {key: _number(b - a) for (key, _, _), a, b in zip(MEASURES, gen_means, real_means, strict=True)}
        values["spread"] = _number(real_spread - gen_spread)
        if label is not None:
            # How far apart the two mean images are: the mean absolute difference per pixel.
            values["mean_image_abs_difference"] = _number(
                np.abs(real.mean_images[label] - generated.mean_images[label]).mean()
            )
        return values

    return {
        "direction": "real minus generated, of the means",
        "overall": entry(None),
        "per_class": {name: entry(label) for label, name in enumerate(class_names)},
    }


def _images_json(summary: Summary, class_names: Sequence[str]) -> dict:
    def grid(image: np.ndarray) -> list | None:
        if np.isnan(image).any():
            return None
        return np.round(image, 2).tolist()

    return {
        name: {"mean": grid(summary.mean_images[label]), "std": grid(summary.std_images[label])}
        for label, name in enumerate(class_names)
    }


def results_json(
    config: str,
    split: str,
    class_names: Sequence[str],
    generated: Summary,
    generated_source: str,
    real: Summary | None = None,
    real_source: str | None = None,
) -> dict:
    """Every number of the stats, as written to ``<config>-stats.json``."""
    return {
        "config": config,
        "split": split,
        "class_names": list(class_names),
        "measures": DEFINITIONS,
        "binarisation": {"upsampling": SCALE, "threshold": THRESHOLD, "std": "population (ddof=0)"},
        "generated": _summary_json(generated, class_names, generated_source),
        "real": None if real is None else _summary_json(real, class_names, str(real_source)),
        "difference": None if real is None else _difference_json(generated, real, class_names),
        "generator_version": generator.__version__,
        "images": {
            "axes": "per class: mean and pixel-wise standard deviation, 28x28 grey levels",
            "generated": _images_json(generated, class_names),
            "real": None if real is None else _images_json(real, class_names),
        },
    }


def stats_figure(config: str, split: str, class_names: Sequence[str], generated: Summary, real: Summary | None = None):
    """Per class, the mean and the std image of the generated set (and of the real one).

    Shades share one scale per kind: every mean image is scaled by the brightest mean pixel of all of
    them, every std image by the largest std, so rows compare directly.
    """
    summaries = [("generated", generated)] + ([("real", real)] if real is not None else [])
    mean_peak = max(float(np.nanmax(s.mean_images, initial=0)) for _, s in summaries) or 1.0
    std_peak = max(float(np.nanmax(s.std_images, initial=0)) for _, s in summaries) or 1.0
    rows, labels = [], []
    for name, summary in summaries:
        for kind, stack, peak in (("mean", summary.mean_images, mean_peak), ("std", summary.std_images, std_peak)):
            shaded = np.nan_to_num(stack, nan=0.0) * (255 / peak)
            rows.append(list(np.round(shaded).clip(0, 255).astype(np.uint8)))
            labels.append(f"{name} {kind}")
    return grid_figure(
        rows,
        title=f"{config}, {split} split: mean and pixel-wise std per class (one shade scale per kind)",
        row_labels=labels,
        column_labels=list(class_names),
    )


# --- the command -------------------------------------------------------------------------------------------------


def output_paths(config: str, out: Path) -> tuple[Path, Path]:
    """The JSON and the PNG that ``run_stats`` writes into ``out``."""
    return out / f"{config}-stats.json", out / f"{config}-stats.png"


@dataclass(frozen=True)
class StatsRun:
    """What ``run_stats`` computed: the table as printed, the JSON's content, and the files written."""

    table: str
    results: dict
    written: tuple[Path, ...]


def run_stats(
    config: str,
    build_dir: str | Path = DEFAULT_BUILD_DIR,
    *,
    split: str = "train",
    real: str | Path | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
) -> StatsRun:
    """Measures a generated config's split, and real digits if given; writes the files if ``out``.

    Args:
        config: the generated config, a folder of ``build_dir``.
        build_dir: the folder that ``afro-mnist generate --out`` wrote.
        split: ``train`` or ``test``.
        real: a folder of class subfolders or an ``.npz`` (see ``generator.evaluation.realdata.read_real``).
        out: the folder for ``<config>-stats.json`` and ``<config>-stats.png``; nothing is written
            when ``None``.
        overwrite: replace existing outputs.

    Raises:
        InputError: an unknown split, an ``out`` that is a file, an output that exists without
            ``overwrite``, a missing config, or real digits that cannot be read.
    """
    if split not in SPLITS:
        raise InputError(f"--split {split!r} is not one of {', '.join(SPLITS)}")
    paths: tuple[Path, ...] = ()
    if out is not None:
        out = Path(out)
        paths = output_paths(config, out)
        check_output_paths(out, paths, overwrite)
    folder = config_folder(config, build_dir)
    metadata = read_metadata(folder)
    class_names = list(metadata["numeral_system"]["class_names"])
    digits = read_real(real, class_names) if real is not None else None

    images, labels = load_split(folder, split, metadata)
    usual = metadata.get("exemplars", {}).get("pieces_per_class")
    usual = [usual[name] for name in class_names] if usual else None
    generated = summarise(images, labels, len(class_names), usual)
    real_summary = summarise(digits.images, digits.labels, len(class_names), usual) if digits is not None else None
    table = format_table(config, split, class_names, generated, real_summary)
    results = results_json(
        config, split, class_names, generated, f"{folder} ({split})", real_summary, None if real is None else str(real)
    )
    if out is not None:
        json_path, png_path = paths
        figure = stats_figure(config, split, class_names, generated, real_summary)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(png_path, png_bytes(figure, optimize=True))
        write_atomic(json_path, (json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode())
    return StatsRun(table, results, paths)

"""Real handwritten digits, normalised exactly as generated ones, and the synthetic-to-real evaluation.

    afro-mnist evaluate-real geez --real scans/          # scans/1/*.jpg, scans/2/*.png, ... scans/10/...
    afro-mnist evaluate-real geez --real digits.npz      # x: (N, H, W) uint8, y: (N,) class indices
    afro-mnist evaluate-real geez --real collected/geez_handwritten   # a config of real digits (collect export)

A real image is cleaned (``generator.synthesis.handwriting``: polarity, paper, specks), then normalised by
``generator.synthesis.normalize.mnist_normalize``, the very function every generated image goes through.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import generator
from generator import layout
from generator.errors import InputError, import_torch
from generator.evaluation import baseline
from generator.evaluation.figures import confusion_matrix_image
from generator.registry import builtin_systems
from generator.repository.export import load_split
from generator.synthesis.handwriting import (
    MAX_IMAGE_PIXELS,
    image_files,
    prepare_real_image,
    read_grey,
)
from generator.synthesis.normalize import EmptyImageError
from generator.synthesis.tiling import png_bytes

if TYPE_CHECKING:
    import torch

# The most an .npz of real digits may hold: far more than any set of real handwritten digits.
MAX_NPZ_BYTES = 2 * 2**30


@dataclass(frozen=True)
class RealDigits:
    """Real images, normalised, with their labels.

    Attributes:
        images: ``uint8`` ``(N, 28, 28)``, white ink on black, MNIST-normalised.
        labels: class indices, ``int64`` ``(N,)``.
        sources: where each image came from: a file path, or ``FILE.npz[i]``.
    """

    images: np.ndarray
    labels: np.ndarray
    sources: tuple[str, ...]


# --- a set of images ---------------------------------------------------------------------------------------------


def read_real(path: str | Path, class_names: list[str], *, denoise: bool = True) -> RealDigits:
    """Real digits from a folder of class subfolders or an ``.npz`` file, normalised.

    Args:
        path: a folder with one subfolder per class, named by class name (``DIR/1/...``), holding
            images of any format and size; a config folder of real digits (with ``metadata.json``
            and parquet shards, as ``afro-mnist collect export`` writes); or an ``.npz`` with ``x``
            ``(N, H, W)`` ``uint8`` and ``y`` ``(N,)`` class indices.
        class_names: the config's class names, label 0 first.
        denoise: see ``prepare_real_image``.

    Raises:
        InputError: the path is missing or of another kind; a class folder is unknown or empty; a
            file is unreadable or holds no ink; the arrays are malformed.
    """
    path = Path(path)
    if path.is_dir() and (path / layout.METADATA_FILE).is_file():
        return read_real_config(path, class_names)
    if path.is_dir():
        return read_real_folder(path, class_names, denoise=denoise)
    if path.is_file() and path.suffix == ".npz":
        return read_real_npz(path, len(class_names), denoise=denoise)
    if not path.exists():
        raise InputError(f"--real {path} does not exist; give a folder of class subfolders or an .npz file")
    raise InputError(f"--real {path} is neither a folder nor an .npz file; give one of those")


def read_real_folder(folder: Path, class_names: list[str], *, denoise: bool = True) -> RealDigits:
    """Images from ``folder/<class name>/**``; hidden files (``.DS_Store``) are skipped."""
    entries = sorted(entry for entry in folder.iterdir() if not entry.name.startswith("."))
    if not entries:
        raise InputError(f"--real {folder} is empty; add one subfolder per class, named {_names(class_names)}")
    images, labels, sources = [], [], []
    for entry in entries:
        if not entry.is_dir():
            raise InputError(f"{entry} is not a class folder; put images in subfolders named {_names(class_names)}")
        if entry.name not in class_names:
            raise InputError(f"{entry}: {entry.name!r} is not a class of this config; use {_names(class_names)}")
        files = image_files(entry)
        if not files:
            raise InputError(f"class folder {entry} holds no images; add some or remove the folder")
        for file in files:
            images.append(_prepare(read_grey(file), str(file), denoise))
            labels.append(class_names.index(entry.name))
            sources.append(str(file))
    return RealDigits(np.stack(images), np.array(labels, np.int64), tuple(sources))


def read_real_config(folder: Path, class_names: list[str]) -> RealDigits:
    """Every image of a config folder of real digits (``afro-mnist collect export --format parquet``),
    both splits: they are MNIST-normalised already, and all of them are real."""
    metadata = layout.read_metadata(folder)
    names = list(metadata["numeral_system"]["class_names"])
    if names != list(class_names):
        raise InputError(
            f"--real {folder} has the classes {_names(names)}, not {_names(class_names)}; "
            "evaluate it against a config of the same numerals"
        )
    images, labels, sources = [], [], []
    for split in metadata["splits"]:
        x, y = load_split(folder, split, metadata)
        images.append(x)
        labels.append(y)
        sources += [f"{folder.name}/{split}[{index}]" for index in range(len(y))]
    return RealDigits(np.concatenate(images), np.concatenate(labels), tuple(sources))


def read_real_npz(path: Path, num_classes: int, *, denoise: bool = True) -> RealDigits:
    """Images ``x`` ``(N, H, W)`` ``uint8`` and labels ``y`` ``(N,)`` from an ``.npz`` file."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            missing = [key for key in ("x", "y") if key not in arrays.files]
            if missing:
                raise InputError(f"{path} lacks the array(s) {', '.join(missing)}; it needs x (images) and y (labels)")
            _check_npz_shapes(path)
            x, y = arrays["x"], arrays["y"]
    except InputError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(
            f"{path} cannot be read as an .npz ({exc}); write it with numpy.savez(path, x=..., y=...)"
        ) from None
    if x.dtype != np.uint8 or x.ndim != 3 or 0 in x.shape:
        raise InputError(f"{path}: x is {x.dtype} of shape {x.shape}; it must be uint8 (N, H, W) with N > 0")
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"{path}: y is {y.dtype} of shape {y.shape}; it must hold {len(x)} integer class indices")
    if y.min() < 0 or y.max() >= num_classes:
        raise InputError(f"{path}: y holds labels {y.min()}..{y.max()}; class indices must lie in 0..{num_classes - 1}")
    sources = tuple(f"{path}[{index}]" for index in range(len(x)))
    images = [_prepare(image, source, denoise) for image, source in zip(x, sources, strict=True)]
    return RealDigits(np.stack(images), y.astype(np.int64), sources)


def _check_npz_shapes(path: Path) -> None:
    """Reads the headers of ``x`` and ``y`` in an ``.npz`` and refuses shapes too large to load, before loading.

    A header may claim any shape; without this, loading would try to allocate it.
    """
    with zipfile.ZipFile(path) as archive:
        for key in ("x", "y"):
            with archive.open(f"{key}.npy") as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(member)
            pixels = math.prod(shape[1:])  # of one image, for x
            if (key == "x" and pixels > MAX_IMAGE_PIXELS) or math.prod(shape) * dtype.itemsize > MAX_NPZ_BYTES:
                raise InputError(
                    f"{path}: {key} claims shape {shape} of {dtype}, more than this reads "
                    f"({MAX_NPZ_BYTES / 2**30:.0f} GiB, {MAX_IMAGE_PIXELS:,} pixels an image); split or shrink it"
                )


def _prepare(grey: np.ndarray, source: str, denoise: bool) -> np.ndarray:
    try:
        return prepare_real_image(grey, denoise=denoise)
    except EmptyImageError:
        raise InputError(f"{source} holds no ink once its background is removed; remove it") from None


def _names(class_names: list[str]) -> str:
    return ", ".join(class_names)


# --- the evaluation ----------------------------------------------------------------------------------------------


def output_paths(config: str, out: Path) -> tuple[Path, Path]:
    """The results JSON and the confusion-matrix PNG that ``evaluate_real`` writes into ``out``."""
    return out / f"{config}-real.json", out / f"{config}-real-confusion.png"


@dataclass(frozen=True)
class Score:
    """How a trained model reads a set of labelled digits.

    Attributes:
        matrix: the confusion matrix, ``matrix[true, predicted]``, class order as the config's class names.
    """

    matrix: np.ndarray

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.matrix) / max(self.matrix.sum(), 1))

    @property
    def per_class(self) -> list[float | None]:
        """The fraction of each class's digits read right; ``None`` for a class with none."""
        return baseline.per_class_accuracy(self.matrix)

    @property
    def examples(self) -> list[int]:
        return [int(count) for count in self.matrix.sum(axis=1)]


def score(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, num_classes: int) -> Score:
    """Scores ``model`` on labelled ``uint8`` ``(N, 28, 28)`` digits, generated or real; reads and writes no file."""
    return Score(baseline.confusion_matrix(labels, baseline.predict(model, images), num_classes))


def evaluate_real(
    config: str,
    real: str | Path,
    out: str | Path,
    build_dir: str | Path = layout.DEFAULT_BUILD_DIR,
    settings: baseline.TrainingSettings | None = None,
    *,
    denoise: bool = True,
    overwrite: bool = False,
    on_epoch: Callable[[int, float], None] | None = None,
) -> dict:
    """Trains the baseline on a generated config, then scores it on real handwritten digits (``score``).

    Everything is checked before training starts: the outputs, the config and every real image.

    Args:
        config: the generated config to train on.
        real: a folder of class subfolders or an ``.npz`` (see ``read_real``).
        out: the folder for ``<config>-real.json`` and ``<config>-real-confusion.png``.
        build_dir: where the config was generated.
        settings: how to train; ``TrainingSettings()`` when ``None``.
        denoise: see ``prepare_real_image``.
        overwrite: replace existing outputs.
        on_epoch: passed to ``generator.evaluation.baseline.train``.

    Returns:
        The results as written to the JSON: real accuracy overall and per class, the confusion
        matrix (rows true, columns predicted), the synthetic test accuracy, settings and versions.

    Raises:
        InputError: any bad input named above, or PyTorch missing.
    """
    settings = settings or baseline.TrainingSettings()
    settings.check()
    import_torch()
    out = Path(out)
    json_path, png_path = output_paths(config, out)
    layout.check_output_paths(out, (json_path, png_path), overwrite)
    folder = layout.config_folder(config, build_dir)
    metadata = layout.read_metadata(folder)
    class_names = list(metadata["numeral_system"]["class_names"])
    digits = read_real(real, class_names, denoise=denoise)

    x_train, y_train = load_split(folder, "train", metadata)
    x_test, y_test = load_split(folder, "test", metadata)
    model = baseline.train(x_train, y_train, len(class_names), settings, on_epoch)
    synthetic = score(model, x_test, y_test, len(class_names))
    on_real = score(model, digits.images, digits.labels, len(class_names))
    system = builtin_systems().get(config)  # the paper's figure, for a config the paper had

    results = {
        "config": config,
        "real_source": str(real),
        "real_examples": len(digits.labels),
        "real_accuracy": on_real.accuracy,
        "paper_real_accuracy": system.paper_real_accuracy if system else None,
        "synthetic_test_accuracy": synthetic.accuracy,
        "per_class": {
            name: {"examples": examples, "accuracy": accuracy}
            for name, examples, accuracy in zip(class_names, on_real.examples, on_real.per_class, strict=True)
        },
        "confusion_matrix": on_real.matrix.tolist(),
        "confusion_matrix_axes": "rows: true class; columns: predicted class; class order as class_names",
        "class_names": class_names,
        "denoise": denoise,
        "model": baseline.MODEL_NAME,
        "training": asdict(settings),
        "train_examples": len(y_train),
        "threads": baseline.THREADS,
        "torch_version": baseline.torch_version(),
        "cpu_capability": baseline.cpu_capability(),
        "generator_version": generator.__version__,
    }
    out.mkdir(parents=True, exist_ok=True)
    title = f"{config}: trained on generated, tested on {len(digits.labels)} real images"
    layout.write_atomic(png_path, png_bytes(confusion_matrix_image(on_real.matrix, class_names, title), optimize=True))
    layout.write_atomic(json_path, (json.dumps(results, indent=2, ensure_ascii=False) + "\n").encode())
    return results


def per_class_table(per_class: dict[str, dict]) -> str:
    """``evaluate_real``'s per-class results as a small text table: class, real images, accuracy."""
    width = max(len("class"), *(len(name) for name in per_class))
    lines = [f"{'class':>{width}}  images  accuracy"]
    for name, result in per_class.items():
        accuracy = "" if result["accuracy"] is None else f"{result['accuracy']:.2%}"
        lines.append(f"{name:>{width}}  {result['examples']:>6}  {accuracy:>8}")
    return "\n".join(lines)

"""The paper's baseline: LeNet-5, trained with Adam on a config's train split, scored on its test split.

    afro-mnist baseline geez          # writes build/afro_mnist/geez/baseline.json

The network is that of Table 2 of Wu, Yang & Prabhu (2020): two 5x5 convolutions (6 and 16 maps),
each followed by 2x2 max-pooling and tanh, then dense layers of 120 and 84 units with tanh and one
output per class. Training is seeded and deterministic: the same seed, data, PyTorch version and CPU
instruction set give the same weights and the same accuracy. PyTorch picks its CPU kernels by instruction
set (AVX-512, AVX2, or none), and each sums in its own order, so another kind of CPU gives other weights
(measured: three instruction sets, three sets of weights from one seed). Results record it.

PyTorch is an optional dependency (``pip install 'afro-mnist[baseline]'``). It is imported inside
the functions that need it, so this module, and the generator, import without it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import generator
from generator.errors import InputError, import_torch
from generator.layout import (
    BASELINE_FILE,
    DEFAULT_BUILD_DIR,
    check_output_paths,
    check_seed,
    config_folder,
    read_metadata,
)
from generator.registry import builtin_systems
from generator.repository.export import load_split
from generator.repository.output import hold, repair, write_atomic_recorded

if TYPE_CHECKING:
    import torch

MODEL_NAME = "LeNet-5 (Wu, Yang & Prabhu 2020, Table 2)"
# One thread: results can depend on how a reduction is split between threads, and on a shared
# 2-core machine one thread is also the fastest (a second one runs 4x slower under contention).
THREADS = 1
_EVAL_BATCH = 1_000


@dataclass(frozen=True)
class TrainingSettings:
    """How the baseline is trained; recorded with every result.

    Attributes:
        epochs: passes over the training split.
        seed: seeds the weights' initialisation and the shuffling of every epoch.
        batch_size: images per Adam step.
        learning_rate: Adam's step size (Keras' and PyTorch's default).
    """

    epochs: int = 10
    seed: int = 0
    batch_size: int = 128
    learning_rate: float = 1e-3

    def check(self) -> None:
        """Raises InputError for a setting that cannot train, naming its command-line flag."""
        for flag, value, least in (("--epochs", self.epochs, 1), ("--batch-size", self.batch_size, 1)):
            if value < least:
                raise InputError(f"{flag} {value} must be at least {least}")
        check_seed(self.seed)  # PyTorch's manual_seed fails past 2**64, and metadata records none past this
        if not self.learning_rate > 0:
            raise InputError(f"learning rate {self.learning_rate} must be positive")


def lenet5(num_classes: int) -> torch.nn.Module:
    """LeNet-5 as in the paper's Table 2, for 28x28 single-channel input scaled to [0, 1]."""
    nn = import_torch().nn
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5),  # 28 -> 24
        nn.MaxPool2d(2),  # -> 12
        nn.Tanh(),
        nn.Conv2d(6, 16, kernel_size=5),  # -> 8
        nn.MaxPool2d(2),  # -> 4
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, num_classes),
    )


@contextmanager
def deterministic_torch(seed: int) -> Iterator[None]:
    """Seeds PyTorch, pins its thread count and forces deterministic kernels, for the block only.

    The caller's random state, thread count and determinism flag are restored afterwards.
    """
    torch = import_torch()
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(THREADS)
        torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(deterministic)


def _as_input(images: torch.Tensor) -> torch.Tensor:
    """``uint8`` ``(N, 28, 28)`` -> ``float32`` ``(N, 1, 28, 28)`` in [0, 1]."""
    return images.unsqueeze(1).float().div_(255)


def train(
    images: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    settings: TrainingSettings,
    on_epoch: Callable[[int, float], None] | None = None,
) -> torch.nn.Module:
    """Trains LeNet-5 with Adam and cross-entropy; the same inputs and settings give the same weights.

    The images stay ``uint8`` in memory (47 MB for 60,000) and each batch is scaled as it is drawn;
    every epoch visits the images in a fresh permutation drawn from a generator seeded once.

    Args:
        images: ``uint8`` ``(N, 28, 28)``, white ink on black.
        labels: class indices, ``(N,)``.
        num_classes: the number of outputs.
        settings: epochs, seed, batch size, learning rate.
        on_epoch: called after each epoch with its number (from 1) and mean training loss.

    Returns:
        The trained model, in evaluation mode.
    """
    settings.check()
    torch = import_torch()
    x = torch.from_numpy(np.ascontiguousarray(images))
    y = torch.from_numpy(labels.astype(np.int64))
    with deterministic_torch(settings.seed):
        model = lenet5(num_classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
        loss_function = torch.nn.CrossEntropyLoss()  # softmax + categorical cross-entropy, as Keras' pair
        shuffling = torch.Generator().manual_seed(settings.seed)
        model.train()
        for epoch in range(1, settings.epochs + 1):
            order = torch.randperm(len(x), generator=shuffling)
            total_loss = 0.0
            for start in range(0, len(x), settings.batch_size):
                batch = order[start : start + settings.batch_size]
                optimizer.zero_grad()
                loss = loss_function(model(_as_input(x[batch])), y[batch])
                loss.backward()
                optimizer.step()
                total_loss += loss.item() * len(batch)
            if on_epoch is not None:
                on_epoch(epoch, total_loss / max(len(x), 1))
    return model.eval()


def predict(model: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    """The predicted class index of each ``uint8`` ``(N, 28, 28)`` image, as ``int64``."""
    torch = import_torch()
    x = torch.from_numpy(np.ascontiguousarray(images))
    predictions = np.empty(len(x), np.int64)
    with deterministic_torch(seed=0), torch.inference_mode():
        model.eval()
        for start in range(0, len(x), _EVAL_BATCH):
            logits = model(_as_input(x[start : start + _EVAL_BATCH]))
            predictions[start : start + _EVAL_BATCH] = logits.argmax(dim=1).numpy()
    return predictions


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """``matrix[true, predicted]``: how many images of each class went to each class."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> list[float | None]:
    """The fraction of each class's images predicted correctly; ``None`` for a class without images."""
    counts = matrix.sum(axis=1)
    return [float(matrix[c, c] / counts[c]) if counts[c] else None for c in range(len(matrix))]


def torch_version() -> str:
    return str(import_torch().__version__)


def cpu_capability() -> str:
    """The instruction set PyTorch's CPU kernels were chosen for (``AVX512``, ``AVX2``, ``DEFAULT``...).

    Results depend on it as they do on the PyTorch version; ``ATEN_CPU_CAPABILITY`` set before PyTorch is
    imported chooses a lower one, to compare with a result measured elsewhere.
    """
    return str(import_torch().backends.cpu.get_cpu_capability())


def run_baseline(
    config: str,
    build_dir: str | Path = DEFAULT_BUILD_DIR,
    settings: TrainingSettings | None = None,
    *,
    overwrite: bool = False,
    on_epoch: Callable[[int, float], None] | None = None,
) -> dict:
    """Trains the baseline on a config's train split, scores it on the test split, writes ``baseline.json``.

    Returns:
        The results, as written to ``<build_dir>/<config>/baseline.json``: ``test_accuracy`` and
        ``paper_accuracy`` are fractions (the latter ``None`` for a config the paper did not have),
        with the settings, sizes, timing and versions that produced them.

    Raises:
        InputError: PyTorch is missing, a setting is bad, the config is missing or damaged, or
            ``baseline.json`` exists and ``overwrite`` is off.
    """
    settings = settings or TrainingSettings()
    settings.check()
    import_torch()
    # The folder's lock, held from the first read to the last write: a generate --overwrite in between would leave
    # a baseline.json measured on other data than the config it sits in.
    if not Path(build_dir).is_dir():
        config_folder(config, build_dir)  # its error names the missing folder and how to make it
    with hold(Path(build_dir), create=False, flag="--from"):
        return _run_baseline_locked(config, build_dir, settings, overwrite, on_epoch)


def _run_baseline_locked(
    config: str,
    build_dir: str | Path,
    settings: TrainingSettings,
    overwrite: bool,
    on_epoch: Callable[[int, float], None] | None,
) -> dict:
    folder = config_folder(config, build_dir)
    # A killed run's .baseline.json.<pid>.partial, recorded in the config folder's work file before it was made.
    repair(folder)
    path = folder / BASELINE_FILE
    check_output_paths(None, [path], overwrite)
    metadata = read_metadata(folder)
    class_names = metadata["numeral_system"]["class_names"]
    x_train, y_train = load_split(folder, "train", metadata)
    x_test, y_test = load_split(folder, "test", metadata)

    started = time.perf_counter()
    model = train(x_train, y_train, len(class_names), settings, on_epoch)
    train_seconds = time.perf_counter() - started
    matrix = confusion_matrix(y_test, predict(model, x_test), len(class_names))
    system = builtin_systems().get(config)  # the paper's figure, for a config the paper had

    results = {
        "config": config,
        "test_accuracy": float(np.trace(matrix) / max(matrix.sum(), 1)),
        "paper_accuracy": system.paper_accuracy if system else None,
        "seed": settings.seed,
        "epochs": settings.epochs,
        "train_examples": len(y_train),
        "test_examples": len(y_test),
        "per_class_accuracy": dict(zip(class_names, per_class_accuracy(matrix), strict=True)),
        "model": MODEL_NAME,
        "optimizer": "Adam",
        "loss": "categorical cross-entropy",
        "training": asdict(settings),
        "train_seconds": round(train_seconds, 1),
        "threads": THREADS,
        "torch_version": torch_version(),
        "cpu_capability": cpu_capability(),
        "generator_version": generator.__version__,
        "dataset": {"seed": metadata["seed"], "generator_version": metadata["generator"]["version"]},
    }
    # Its temporary name is recorded first, so that the next run's repair can remove it if this one is killed.
    write_atomic_recorded(path, (json.dumps(results, indent=2, ensure_ascii=False) + "\n").encode())
    return results

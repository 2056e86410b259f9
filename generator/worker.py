"""The start of a generation worker process, kept importable without albumentations.

albumentations imports PyTorch, when it is installed, for its ``ToTensorV2`` transform. A worker
only deforms NumPy images, and PyTorch would cost each one about 1.3 s of start-up and 300 MB, so
the worker marks it absent before albumentations is first imported. The main process is untouched.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.synthesis import Exemplars


def start(exemplars: dict[str, Exemplars], recipe: dict) -> None:
    """The pool's initializer: builds this worker's synthesizers (see ``synthesis.init_worker``)."""
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]
    from generator import synthesis

    synthesis.init_worker(exemplars, recipe)

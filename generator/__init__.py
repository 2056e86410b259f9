"""Afro-MNIST generator: MNIST-style numeral datasets rendered from fonts and deformed elastically.

The package's folders are its layers, and data flows down through them one way
(``tests/test_architecture.py`` holds them to it):

- ``synthesis``: fonts and handwritten seeds in, finished 28x28 images out (exemplars, the recipe and its
  transforms, sanitation, the plan of a split, the workers);
- ``repository``: the dataset repository: parquet shards, the card and root files, the output folder's lock,
  publishing to the Hub, and reading a config back (export, download, the PyTorch dataset);
- ``evaluation``: LeNet-5 baselines, real handwriting, shape statistics, figures and the preview;
- ``collect``: collecting real handwriting from writers (``afro-mnist collect``; the ``collect`` extra);
- at the top, what they all share: ``registry`` (the numeral systems), ``layout`` (the repository's file names
  and atomic writes), ``errors``, ``settings``; ``generate``, a run of generation; and ``cli``, the command.

The package's public face is this module: ``from generator import load_data, AfroMNIST``. Both are imported on
first use, not here, so that the command line, which imports this package, does not load pyarrow, the Hub client
or PyTorch before it needs them.
"""

import importlib
import os

__version__ = "0.11.0"

# Public names and the modules that define them, imported when first asked for (PEP 562).
_LAZY = {
    "load_data": "generator.repository.export",
    "AfroMNIST": "generator.repository.torch",  # needs the baseline extra (PyTorch)
}
__all__ = ["AfroMNIST", "__version__", "load_data"]


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


# albumentations asks PyPI for a newer version on import unless told not to: a generator that must
# give the same bytes offline has no business calling out, in the main process or in any worker.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

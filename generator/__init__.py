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
"""

import os

__version__ = "0.10.0"

# albumentations asks PyPI for a newer version on import unless told not to: a generator that must
# give the same bytes offline has no business calling out, in the main process or in any worker.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

"""Afro-MNIST generator: MNIST-style numeral datasets rendered from fonts and deformed elastically.

The pieces, in the order data flows through them:

- ``registry``: the numeral systems (built-in ``numeral_systems/*/spec.toml`` and user spec files);
- ``fonts``: coverage checks and exemplar rendering with the bundled subset fonts;
- ``normalize``: MNIST's normalisation (20x20 box, centre of mass in a 28x28 frame);
- ``recipe``: the albumentations pipeline that deforms exemplars, saved beside the data it made;
- ``shards``: the parquet schema with Hugging Face features and the shard writer;
- ``generate``: seeding, worker processes, atomic config folders and their metadata;
- ``layout``: the dataset repository's file names and atomic writes;
- ``card`` and ``publish``: the dataset card and root files, and the atomic push to the Hub;
- ``baseline`` and ``realdata``: LeNet-5, and real handwriting normalised like generated data;
- ``export``, ``figures``, ``tiling`` and ``preview``: drop-in formats and pictures;
- ``download`` and ``torch``: a published config fetched from the Hub and checked; the PyTorch Dataset;
- ``settings``: the Hub repository id, the project's links and the command line's defaults;
- ``collect``: collecting real handwriting from writers (``afro-mnist collect``; the ``collect`` extra);
- ``cli``: the ``afro-mnist`` command.
"""

import os

__version__ = "0.4.0"

# albumentations asks PyPI for a newer version on import unless told not to: a generator that must
# give the same bytes offline has no business calling out, in the main process or in any worker.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

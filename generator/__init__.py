"""Afro-MNIST generator: MNIST-style numeral datasets rendered from fonts and deformed elastically.

The pieces, in the order data flows through them:

- ``registry``: the numeral systems (built-in ``numeral_systems/*/spec.toml`` and user spec files);
- ``fonts``: coverage checks and exemplar rendering with the bundled subset fonts;
- ``normalize``: MNIST's normalisation (20x20 box, centre of mass in a 28x28 frame);
- ``recipe``: the albumentations pipeline that deforms exemplars, saved beside the data it made;
- ``shards``: the parquet schema with Hugging Face features and the shard writer;
- ``generate``: seeding, worker processes, atomic config folders and their metadata;
- ``preview`` and ``cli``: the ``afro-mnist`` command.
"""

__version__ = "0.1.0"

"""Collecting real handwriting from native writers: a drawing page, its sanitation, and exports.

- ``storage``: the database (SQLite by default, PostgreSQL by URL) behind one small interface;
- ``drawing``: a submitted drawing: validation, renderings, Quick, Draw!'s simplified strokes;
- ``anomaly``: the per-class anomaly model that flags drawings for review;
- ``web``, ``app`` and ``review``: security shared by both pages, the public drawing page, the review page;
- ``export``: seeds for ``generate --exemplars``, a real handwritten parquet config, NDJSON strokes;
- ``command``: ``afro-mnist collect serve|review|export``.

It needs the ``collect`` extra: ``pip install "afro-mnist[collect]"``.
"""

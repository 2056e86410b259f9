"""Parquet shards that carry their Hugging Face features.

Each row is ``{"image": {"bytes": PNG, "path": None}, "label": int}``. The schema's ``huggingface``
metadata holds the features (``Image`` and ``ClassLabel`` with the class names), so
``datasets.load_dataset("parquet", data_files=...)`` recovers the class names from a bare shard.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from generator.layout import SPLITS

__all__ = ["SPLITS", "ShardInfo", "ShardWriter", "features", "shard_name"]


def features(class_names: tuple[str, ...]) -> datasets.Features:
    return datasets.Features(
        {
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=list(class_names)),
        }
    )


def shard_name(split: str, index: int, count: int) -> str:
    """The Hub's shard naming: ``train-00000-of-00006.parquet``."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


@dataclass(frozen=True)
class ShardInfo:
    """What a written shard holds, for the config's metadata."""

    file: str
    num_examples: int
    num_bytes: int  # Arrow in-memory size, what dataset_info calls num_bytes
    size_bytes: int  # on disk, what the Hub downloads
    sha256: str


class ShardWriter:
    """Writes one shard, a row group per chunk of images, so memory stays bounded by a chunk."""

    def __init__(self, path: Path, class_names: tuple[str, ...]):
        self.path = path
        self.schema = features(class_names).arrow_schema
        self.num_examples = 0
        self.num_bytes = 0
        self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")

    def write(self, pngs: list[bytes], labels: list[int]) -> None:
        images = pa.StructArray.from_arrays(
            [pa.array(pngs, pa.binary()), pa.nulls(len(pngs), pa.string())], names=["bytes", "path"]
        )
        table = pa.Table.from_arrays([images, pa.array(labels, pa.int64())], schema=self.schema)
        self._writer.write_table(table)
        self.num_examples += table.num_rows
        self.num_bytes += table.nbytes

    def close(self) -> ShardInfo:
        self._writer.close()
        data = self.path.read_bytes()
        return ShardInfo(
            file=self.path.name,
            num_examples=self.num_examples,
            num_bytes=self.num_bytes,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )

"""The plan of a split: which label and which exemplar each image gets, cut into chunks of work.

Determinism comes from how the work is cut, not from who does it. Each split is planned up front
(a balanced, shuffled list of labels and a font per image) and cut into fixed chunks; every chunk
seeds the recipe from ``(seed, config, split, chunk start)`` alone. Workers may take chunks in any
order, and the main process writes them in order, so ``--workers`` never changes a byte.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np

from generator.errors import InputError
from generator.layout import SPLITS
from generator.registry import NumeralSystem
from generator.synthesis.seeds import SeedSet

# A chunk is one task for a worker and one parquet row group (~300 KB).
CHUNK_SIZE = 1_000
# What the plan holds per image (labels, sources and their chunk tuples), with room to spare:
# benchmarks/plan_memory.py measures 16-19 bytes held and 32-41 at the peak of planning a split.
PLAN_BYTES_PER_IMAGE = 64
# Seed-stream purposes, so that no two uses of the seed ever share a stream.
_PLAN, _CHUNK, _EXCLUDED = 0, 1, 2


@dataclass(frozen=True)
class Chunk:
    """One worker task: images ``start .. start + len(labels)`` of a split."""

    config: str
    split: str
    shard: int
    start: int
    labels: tuple[int, ...]
    sources: tuple[int, ...]
    seed: int


def seed_stream(seed: int, config: str, split: str, purpose: int, index: int = 0) -> np.random.SeedSequence:
    """An independent stream for each ``(seed, config, split, purpose, index)``.

    Train and test differ in the split key, so their streams are disjoint; the config name enters
    as a hash, so adding a config never changes another.
    """
    config_key = int.from_bytes(hashlib.sha256(config.encode()).digest()[:8], "little")
    return np.random.SeedSequence([seed, config_key, SPLITS.index(split), purpose, index])


def plan_split(
    system: NumeralSystem, split: str, size: int, seed: int, seeds: SeedSet | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The label and exemplar source of every image of a split: equal counts per class, shuffled.

    A source below the font count is a font; with handwritten ``seeds``, a share ``seeds.weight`` of
    the images instead get source ``fonts + i``, seed ``i`` of their class, each seed equally likely.
    A font whose glyph the spec excludes for a class is replaced by one of the class's other fonts,
    each equally likely, from a stream of its own, so that a system without exclusions draws as before.
    """
    rng = np.random.default_rng(seed_stream(seed, system.name, split, _PLAN))
    labels = rng.permutation(np.repeat(np.arange(system.num_classes), size // system.num_classes))
    sources = rng.integers(len(system.fonts), size=size)
    if system.excluded:
        replace = np.random.default_rng(seed_stream(seed, system.name, split, _EXCLUDED))
        for index in np.flatnonzero(
            [not system.draws(font, label) for font, label in zip(sources, labels, strict=True)]
        ):
            allowed = [font for font in range(len(system.fonts)) if system.draws(font, labels[index])]
            sources[index] = allowed[replace.integers(len(allowed))]
    if seeds is not None:
        per_class = np.array([len(seeds.canvases(label)) for label in range(system.num_classes)])
        from_seed = rng.random(size) < seeds.weight
        picks = (rng.random(size) * per_class[labels]).astype(np.int64)
        sources = np.where(from_seed, len(system.fonts) + picks, sources)
    return labels, sources


def plan_chunks(
    system: NumeralSystem,
    split: str,
    size: int,
    seed: int,
    chunk_size: int,
    rows_per_shard: int,
    seeds: SeedSet | None = None,
) -> list[Chunk]:
    labels, sources = plan_split(system, split, size, seed, seeds)
    chunks = []
    for start in range(0, size, chunk_size):
        stop = min(start + chunk_size, size)
        chunk_seed = int(seed_stream(seed, system.name, split, _CHUNK, start).generate_state(1)[0])
        chunks.append(
            Chunk(
                config=system.name,
                split=split,
                shard=start // rows_per_shard,
                start=start,
                labels=tuple(labels[start:stop].tolist()),
                sources=tuple(sources[start:stop].tolist()),
                seed=chunk_seed,
            )
        )
    return chunks


def check_plan_fits(images: int, available: int | None = None) -> None:
    """Refuses a run whose plan (a label and a source per image, held at once) would not fit in memory.

    The plan is drawn whole, as a permutation of the labels, so that a seed gives the same images whatever the
    chunking; it cannot be streamed without changing the output. So its size is bounded up front: at most half the
    memory available now.

    Raises:
        InputError: naming the image count, the memory the plan needs and the memory available.
    """
    available = available if available is not None else available_memory()
    needed = images * PLAN_BYTES_PER_IMAGE
    if available is not None and needed > available // 2:
        raise InputError(
            f"{images:,} images need about {needed / 2**30:,.1f} GiB for their plan, more than half of the "
            f"{available / 2**30:,.1f} GiB of memory available; pick smaller --train-size / --test-size or fewer "
            "--configs, and run several times"
        )


def available_memory() -> int | None:
    """The memory available to new allocations now (MemAvailable), in bytes; None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None

"""Generation: seeding, worker processes, and atomic config folders with their metadata.

Determinism comes from how the work is cut, not from who does it. Each split is planned up front
(a balanced, shuffled list of labels and a font per image) and cut into fixed chunks; every chunk
seeds the recipe from ``(seed, config, split, chunk start)`` alone. Workers may take chunks in any
order, and the main process writes them in order, so ``--workers`` never changes a byte.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import albumentations as A
import numpy as np
from tqdm import tqdm

import generator
from generator import worker
from generator.card import write_repository_files
from generator.errors import InputError
from generator.fonts import family_name
from generator.layout import METADATA_FILE, RECIPE_FILE, sha256_file
from generator.normalize import BOX, FRAME, WORKING_BOX, WORKING_SIZE, mnist_normalize
from generator.recipe import default_recipe, save_recipe
from generator.registry import NumeralSystem, format_code_point
from generator.sanitation import BLUR_SIGMA, MARGIN
from generator.seeds import DEFAULT_WEIGHT, SeedSet, check_weight, read_seeds
from generator.shards import SPLITS, ShardInfo, ShardWriter, shard_name
from generator.synthesis import (
    MAX_SANITATION_REDRAWS,
    Exemplars,
    Rendered,
    exemplar_canvases,
    init_worker,
    render_chunk,
    templates_for,
)

DEFAULT_TRAIN_SIZE = 60_000
DEFAULT_TEST_SIZE = 10_000
# A chunk is one task for a worker and one parquet row group (~300 KB).
CHUNK_SIZE = 1_000
ROWS_PER_SHARD = 10_000
# Libraries whose versions can change a pixel or a byte of the output.
_OUTPUT_LIBRARIES = ("albumentations", "albucore", "opencv-python-headless", "numpy", "pillow", "pyarrow")
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


def _render_all(chunks: list[Chunk], exemplars: dict[str, Exemplars], recipe: dict, workers: int) -> Iterator[Rendered]:
    """Renders chunks on ``workers`` processes and yields their images in chunk order."""
    if workers == 1:
        init_worker(exemplars, recipe)
        yield from map(render_chunk, chunks)
        return
    # spawn, not fork: the parent holds Arrow and OpenCV thread pools that fork would copy mid-state.
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=worker.start, initargs=(worker.payload(exemplars, recipe),)) as pool:
        yield from pool.imap(worker.render, chunks)


def check_sizes(systems: list[NumeralSystem], train_size: int, test_size: int) -> None:
    """Raises InputError unless each split size is a positive multiple of every class count."""
    for flag, size in (("--train-size", train_size), ("--test-size", test_size)):
        for system in systems:
            if size <= 0 or size % system.num_classes:
                raise InputError(
                    f"{flag} {size} is not a positive multiple of {system.num_classes}, "
                    f"the class count of {system.name}; pick a size that gives equal classes"
                )


def generate(
    systems: list[NumeralSystem],
    out: Path,
    *,
    seed: int = 0,
    train_size: int = DEFAULT_TRAIN_SIZE,
    test_size: int = DEFAULT_TEST_SIZE,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    chunk_size: int = CHUNK_SIZE,
    rows_per_shard: int = ROWS_PER_SHARD,
    recipe: A.Compose | None = None,
    exemplars_dir: Path | None = None,
    exemplar_weight: float = DEFAULT_WEIGHT,
    sanitize: bool = True,
) -> list[Path]:
    """Generates one folder per numeral system under ``out`` and returns their paths.

    Every input is checked before anything is written: a bad size, seed, font or an existing
    output (without ``overwrite``) raises InputError and leaves ``out`` as it was.

    Raises:
        InputError: bad input, as above.
    """
    if workers is None:
        workers = len(os.sched_getaffinity(0))
    if workers < 1:
        raise InputError(f"--workers {workers} must be at least 1")
    if seed < 0:
        raise InputError(f"--seed {seed} must be a non-negative integer")
    if rows_per_shard % chunk_size:
        raise ValueError(f"rows_per_shard={rows_per_shard} must be a multiple of chunk_size={chunk_size}")
    check_sizes(systems, train_size, test_size)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder")
    for system in systems:
        if (out / system.name).exists() and not overwrite:
            raise InputError(f"output {out / system.name} already exists; pass --overwrite to replace it")
    if exemplars_dir is not None:
        check_weight(exemplar_weight)
        if len(systems) != 1:
            names = " ".join(system.name for system in systems)
            raise InputError(
                f"--exemplars {exemplars_dir} serves one config, not {names}; pass --configs with one name"
            )
    recipe = recipe if recipe is not None else default_recipe()
    exemplars: dict[str, Exemplars] = {}
    seed_sets: dict[str, SeedSet] = {}
    for system in systems:
        exemplars[system.name], seeds = _exemplars(system, recipe, exemplars_dir, exemplar_weight, sanitize)
        if seeds is not None:
            seed_sets[system.name] = seeds

    recipe_dict = A.to_dict(recipe)
    sizes = {"train": train_size, "test": test_size}
    chunks = [
        chunk
        for system in systems
        for split in SPLITS
        for chunk in plan_chunks(
            system, split, sizes[split], seed, chunk_size, rows_per_shard, seed_sets.get(system.name)
        )
    ]
    out.mkdir(parents=True, exist_ok=True)
    rendered = _render_all(chunks, exemplars, recipe_dict, workers)
    bar = tqdm(total=sum(sizes.values()) * len(systems), unit="img", disable=None if progress else True)
    written = []
    with bar:
        for system in systems:
            config_chunks = [chunk for chunk in chunks if chunk.config == system.name]
            bar.set_description(system.name)
            partial = out / f".partial-{system.name}"
            shutil.rmtree(partial, ignore_errors=True)  # left by a killed run
            partial.mkdir()
            try:
                save_recipe(recipe, partial / RECIPE_FILE)
                shards, redraws = _write_shards(system, partial, config_chunks, rendered, sizes, rows_per_shard, bar)
                metadata = _metadata(system, seed, sizes, shards, partial / RECIPE_FILE, chunk_size, rows_per_shard)
                metadata["exemplars"] = _exemplars_metadata(system, seed_sets.get(system.name))
                metadata["sanitation"] = _sanitation_metadata(system, sanitize, sizes, redraws)
                # The metadata file is written last: a folder without it never passes as complete.
                (partial / METADATA_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
                written.append(_publish(partial, out / system.name))
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
    # The card, sample grids and builder script describe every config now in ``out``.
    write_repository_files(out)
    return written


def _exemplars(
    system: NumeralSystem, recipe: A.Compose, exemplars_dir: Path | None, weight: float, sanitize: bool
) -> tuple[Exemplars, SeedSet | None]:
    """What a config's workers draw from: its font canvases, its kept seeds, and sanitation's templates."""
    canvases = exemplar_canvases(system)
    seeds = None
    if exemplars_dir is not None:
        font_images = [[None if canvas is None else mnist_normalize(canvas) for canvas in font] for font in canvases]
        seeds = read_seeds(exemplars_dir, system, font_images, weight)
    labels = range(system.num_classes)
    seed_canvases = [seeds.canvases(label) for label in labels] if seeds else None
    templates = None
    if sanitize:
        templates = templates_for(canvases, [seeds.images(label) for label in labels] if seeds else None, recipe)
    return Exemplars(canvases, seed_canvases, templates), seeds


def _write_shards(
    system: NumeralSystem,
    folder: Path,
    chunks: list[Chunk],
    rendered: Iterator[Rendered],
    sizes: dict[str, int],
    rows_per_shard: int,
    bar: tqdm,
) -> tuple[dict[str, list[ShardInfo]], dict[str, dict[str, np.ndarray]]]:
    """Writes a config's shards; returns them and, per split, sanitation's per-class redraw counts."""
    shards: dict[str, list[ShardInfo]] = {split: [] for split in SPLITS}
    redraws = {
        split: {key: np.zeros(system.num_classes, np.int64) for key in ("redrawn", "kept_out_of_class")}
        for split in SPLITS
    }
    writer: ShardWriter | None = None
    writer_split = ""
    for chunk in chunks:
        result = next(rendered)
        pngs = result.pngs
        redraws[chunk.split]["redrawn"] += result.redrawn
        redraws[chunk.split]["kept_out_of_class"] += result.kept_out_of_class
        name = shard_name(chunk.split, chunk.shard, math.ceil(sizes[chunk.split] / rows_per_shard))
        if writer is None or writer.path.name != name:
            if writer is not None:
                shards[writer_split].append(writer.close())
            writer, writer_split = ShardWriter(folder / name, system.class_names), chunk.split
        writer.write(pngs, list(chunk.labels))
        bar.update(len(pngs))
    if writer is not None:
        shards[writer_split].append(writer.close())
    return shards, redraws


def _publish(partial: Path, final: Path) -> Path:
    """Moves a finished folder into place; an old one is renamed aside first, then removed."""
    if final.exists():
        replaced = final.with_name(f".replaced-{final.name}")
        shutil.rmtree(replaced, ignore_errors=True)
        final.rename(replaced)
        partial.rename(final)
        shutil.rmtree(replaced)
    else:
        partial.rename(final)
    return final


def _metadata(
    system: NumeralSystem,
    seed: int,
    sizes: dict[str, int],
    shards: dict[str, list[ShardInfo]],
    recipe_path: Path,
    chunk_size: int,
    rows_per_shard: int,
) -> dict:
    """Everything needed to trust, cite and rerun a config; nothing that differs between machines."""
    return {
        "config": system.name,
        "generator": {"name": "afro-mnist", "version": generator.__version__},
        "libraries": {name: version(name) for name in _OUTPUT_LIBRARIES},
        "numeral_system": {
            "name": system.name,
            "script": system.script,
            "iso15924": system.iso15924,
            "languages": list(system.languages),
            "code_points": [format_code_point(cp) for cp in system.code_points],
            "characters": list(system.characters),
            "class_names": list(system.class_names),
        },
        "seed": seed,
        "image": {
            "shape": [FRAME, FRAME],
            "dtype": "uint8",
            "ink": "white on black",
            "format": "PNG",
            "box": BOX,
            "working_size": WORKING_SIZE,
            "working_box": WORKING_BOX,
        },
        "chunk_size": chunk_size,
        "rows_per_shard": rows_per_shard,
        "fonts": [
            {"file": path.name, "family": family_name(path), "sha256": sha256_file(path)}
            | _excluded_metadata(system, font)
            for font, path in enumerate(system.fonts)
        ],
        "recipe_file": recipe_path.name,
        "recipe_sha256": sha256_file(recipe_path),
        "recipe": json.loads(recipe_path.read_text()),
        "splits": {
            split: {
                "num_examples": sizes[split],
                "examples_per_class": sizes[split] // system.num_classes,
                "num_bytes": sum(shard.num_bytes for shard in shards[split]),
                "download_size": sum(shard.size_bytes for shard in shards[split]),
                "shards": [asdict(shard) for shard in shards[split]],
            }
            for split in SPLITS
        },
    }


def _excluded_metadata(system: NumeralSystem, font: int) -> dict:
    """``exclude_classes`` for a font whose glyph the spec excludes for some classes; else nothing."""
    names = [name for label, name in enumerate(system.class_names) if not system.draws(font, label)]
    return {"exclude_classes": names} if names else {}


def _exemplars_metadata(system: NumeralSystem, seeds: SeedSet | None) -> dict:
    return {
        "fonts": len(system.fonts),
        "handwritten_seeds": seeds.metadata(system.class_names) if seeds is not None else None,
    }


def _sanitation_metadata(
    system: NumeralSystem, sanitize: bool, sizes: dict[str, int], redraws: dict[str, dict[str, np.ndarray]]
) -> dict:
    """What sanitation did to the generated samples, per split and class."""
    if not sanitize:
        return {"samples": None}
    return {
        "samples": {
            "rule": (
                "a sample is redrawn when, after a Gaussian blur, its Pearson correlation with some other "
                "class's exemplars (traced with the recipe's pen at its thinnest and thickest nib, when it "
                "has one) beats that with its own class's by more than the margin; after max_redraws "
                "rejections the last draw is kept"
            ),
            "blur_sigma": BLUR_SIGMA,
            "margin": MARGIN,
            "max_redraws": MAX_SANITATION_REDRAWS,
            **{
                split: {
                    "redrawn": int(redraws[split]["redrawn"].sum()),
                    "redrawn_share": float(redraws[split]["redrawn"].sum() / sizes[split]),
                    "kept_out_of_class": int(redraws[split]["kept_out_of_class"].sum()),
                    "redrawn_per_class": dict(zip(system.class_names, redraws[split]["redrawn"].tolist(), strict=True)),
                }
                for split in SPLITS
            },
        }
    }


def sanitation_summary(metadata: dict) -> str:
    """A config's sanitation in a few lines, for the terminal."""
    config = metadata["config"]
    lines = []
    seeds = metadata["exemplars"]["handwritten_seeds"]
    if seeds is not None:
        lines.append(f"{config}: {len(seeds['kept'])} handwritten seeds kept, {len(seeds['dropped'])} left out")
        lines += [f"  left out {seed['file']}: {seed['reason']}" for seed in seeds["dropped"]]
    samples = metadata["sanitation"]["samples"]
    if samples is not None:
        for split in SPLITS:
            info = samples[split]
            lines.append(
                f"{config} {split}: {info['redrawn']} draws ({info['redrawn_share']:.2%}) redrawn as out of class, "
                f"{info['kept_out_of_class']} kept after {samples['max_redraws']} redraws"
            )
    return "\n".join(lines)

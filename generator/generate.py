"""Generation: a run's checks, its lock on the output, worker processes, and atomic config folders with their metadata.

The images themselves come from ``generator.synthesis``: the plan (``synthesis.plan``) fixes every image's
label, exemplar and seed, so ``--workers`` never changes a byte; the shards go out through
``generator.repository``.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from importlib.metadata import version
from pathlib import Path

import albumentations as A
import numpy as np
from tqdm import tqdm

import generator
from generator.errors import InputError
from generator.layout import MAX_EXAMPLES, METADATA_FILE, RECIPE_FILE, check_output_paths, check_seed, sha256_file
from generator.registry import NumeralSystem, system_metadata
from generator.repository.output import check_scratch_free, hold, repair, replace_folder
from generator.repository.shards import SPLITS, ShardInfo, ShardWriter, shard_name
from generator.settings import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE
from generator.synthesis import worker
from generator.synthesis.fonts import family_name
from generator.synthesis.normalize import BOX, FRAME, WORKING_BOX, WORKING_SIZE, normalize_exemplars, usual_pieces
from generator.synthesis.plan import CHUNK_SIZE, Chunk, check_plan_fits, plan_chunks
from generator.synthesis.recipe import check_recipe, default_recipe, save_recipe
from generator.synthesis.sanitation import (
    EXTRA_PIECES,
    REASONS,
    SCRIBBLE_Z,
    STRUCTURE_TOLERANCE,
)
from generator.synthesis.seeds import DEFAULT_WEIGHT, SeedSet, check_weight, read_seeds
from generator.synthesis.synthesizer import (
    MAX_SANITATION_REDRAWS,
    Exemplars,
    Rendered,
    exemplar_canvases,
    init_worker,
    render_chunk,
    templates_for,
)

ROWS_PER_SHARD = 10_000
# More workers than this many per core only cost memory.
MAX_WORKERS_PER_CORE = 2
# Libraries whose versions can change a pixel or a byte of the output.
_OUTPUT_LIBRARIES = ("albumentations", "albucore", "opencv-python-headless", "numpy", "pillow", "pyarrow")


def _render_all(chunks: list[Chunk], exemplars: dict[str, Exemplars], recipe: dict, workers: int) -> Iterator[Rendered]:
    """Renders chunks on ``workers`` processes and yields their images in chunk order."""
    if workers == 1:
        init_worker(exemplars, recipe)
        yield from map(render_chunk, chunks)
        return
    yield from worker.render_all(chunks, worker.payload(exemplars, recipe), workers)


def check_sizes(systems: list[NumeralSystem], train_size: int, test_size: int) -> None:
    """Raises InputError unless each split size is a positive multiple of every class count, and not absurd."""
    for flag, size in (("--train-size", train_size), ("--test-size", test_size)):
        if size > MAX_EXAMPLES:
            raise InputError(f"{flag} {size} is more than {MAX_EXAMPLES:,} images; pick a smaller size")
        for system in systems:
            if size <= 0 or size % system.num_classes:
                raise InputError(
                    f"{flag} {size} is not a positive multiple of {system.num_classes}, "
                    f"the class count of {system.name}; pick a size that gives equal classes"
                )


def worker_count(requested: int, chunks: int, cores: int | None = None) -> int:
    """The workers a run starts: as requested, but no more than it has chunks, nor twice the cores."""
    cores = cores if cores is not None else len(os.sched_getaffinity(0))
    return max(1, min(requested, chunks, MAX_WORKERS_PER_CORE * cores))


def check_outputs(out: Path, systems: list[NumeralSystem], overwrite: bool, before_repair: bool = False) -> None:
    """Refuses, before anything is written, an output that would replace what is not the tool's to replace.

    Checked ``before_repair``, a config that exists is let pass: the repair may find it to be the new half of an
    interrupted ``--overwrite``, or put one back.

    Raises:
        InputError: ``out`` is a file; a config's path is a link or a file (always); a config exists (without
            ``overwrite``).
    """
    if out.is_symlink() and not out.exists():
        raise InputError(f"--out {out} is a broken link; give a folder")
    check_output_paths(out, [], overwrite)
    if not out.is_dir():
        return
    if (out / METADATA_FILE).exists():
        raise InputError(f"--out {out} is a config folder (it holds {METADATA_FILE}); give the folder above it")
    finals = [out / system.name for system in systems]
    for final in finals:
        if final.is_symlink() or (final.exists() and not final.is_dir()):
            raise InputError(f"{final} is a link or a file, not a config folder; move it out of {out}")
    check_output_paths(out, [] if before_repair else finals, overwrite)
    if not before_repair:
        check_scratch_free(out, [system.name for system in systems])


@dataclass(frozen=True)
class GenerateSettings:
    """How a run generates, whatever the systems and the folder: the options of ``afro-mnist generate``.

    Attributes:
        seed: with the version, fixes every byte of the output.
        train_size: images in train, a multiple of every class count.
        test_size: images in test, likewise.
        workers: worker processes (None: one per core); never changes the output.
        overwrite: replace configs that exist in the folder.
        progress: a progress bar on a terminal, one line per split in a log.
        chunk_size: images per worker task and parquet row group.
        rows_per_shard: images per shard, a multiple of ``chunk_size``.
        recipe: the albumentations pipeline (None: ``default_recipe()``).
        exemplars_dir: handwritten seeds, one subfolder per class name (one config at a time).
        exemplar_weight: the share of images drawn from the seeds.
        sanitize: redraw samples that left their class.
    """

    seed: int = 0
    train_size: int = DEFAULT_TRAIN_SIZE
    test_size: int = DEFAULT_TEST_SIZE
    workers: int | None = None
    overwrite: bool = False
    progress: bool = True
    chunk_size: int = CHUNK_SIZE
    rows_per_shard: int = ROWS_PER_SHARD
    recipe: A.Compose | None = None
    exemplars_dir: Path | None = None
    exemplar_weight: float = DEFAULT_WEIGHT
    sanitize: bool = True


def generate(systems: list[NumeralSystem], out: Path, settings: GenerateSettings | None = None) -> list[Path]:
    """Generates one folder per numeral system under ``out`` and returns their paths.

    Every input is checked before anything is written: a bad size, seed, font, recipe or an existing
    output (without ``overwrite``) raises InputError and leaves ``out`` as it was (a folder the run
    created is removed again). One run at a time writes into ``out`` (see ``generator.repository.output``); a
    run first repairs what an interrupted one left there.

    The configs are all it writes: the repository's root files (card, sample grids, builder script) are the
    caller's to write once the configs are in place, with ``generator.repository.card.write_repository_files``,
    as ``afro-mnist generate`` does.

    Raises:
        InputError: bad input, as above, or a folder in use by another run.
    """
    settings = settings or GenerateSettings()
    workers = settings.workers if settings.workers is not None else len(os.sched_getaffinity(0))
    if workers < 1:
        raise InputError(f"--workers {workers} must be at least 1")
    check_seed(settings.seed)
    if settings.rows_per_shard % settings.chunk_size:
        raise ValueError(
            f"rows_per_shard={settings.rows_per_shard} must be a multiple of chunk_size={settings.chunk_size}"
        )
    check_sizes(systems, settings.train_size, settings.test_size)
    check_plan_fits((settings.train_size + settings.test_size) * len(systems))
    if settings.exemplars_dir is not None:
        check_weight(settings.exemplar_weight)
        if len(systems) != 1:
            names = " ".join(system.name for system in systems)
            raise InputError(
                f"--exemplars {settings.exemplars_dir} serves one config, not {names}; pass --configs with one name"
            )
    recipe = settings.recipe
    if recipe is not None and not isinstance(recipe, A.Compose):
        raise InputError(f"the recipe is a single {type(recipe).__name__}; wrap it in albumentations.Compose([...])")
    check_outputs(out, systems, settings.overwrite, before_repair=True)
    settings = replace(settings, workers=workers, recipe=recipe if recipe is not None else default_recipe())
    with hold(out):
        repaired = repair(out)
        if repaired:
            print(f"afro-mnist: {out} held what an interrupted run left: {'; '.join(repaired)}", file=sys.stderr)
        check_outputs(out, systems, settings.overwrite)  # again, now that no other run can change it
        return _generate_locked(systems, out, settings)


def _generate_locked(systems: list[NumeralSystem], out: Path, settings: GenerateSettings) -> list[Path]:
    recipe, sizes = settings.recipe, {"train": settings.train_size, "test": settings.test_size}
    canvases = {system.name: exemplar_canvases(system) for system in systems}  # checks every font
    check_recipe(recipe, canvases[systems[0].name][0][0])
    exemplars: dict[str, Exemplars] = {}
    seed_sets: dict[str, SeedSet] = {}
    for system in systems:
        exemplars[system.name], seeds = _exemplars(
            system, recipe, settings.exemplars_dir, settings.exemplar_weight, settings.sanitize, canvases[system.name]
        )
        if seeds is not None:
            seed_sets[system.name] = seeds
    families = {system.name: [family_name(path) for path in system.fonts] for system in systems}

    recipe_dict = A.to_dict(recipe)
    chunks = [
        chunk
        for system in systems
        for split in SPLITS
        for chunk in plan_chunks(
            system,
            split,
            sizes[split],
            settings.seed,
            settings.chunk_size,
            settings.rows_per_shard,
            seed_sets.get(system.name),
        )
    ]
    rendered = _render_all(chunks, exemplars, recipe_dict, worker_count(settings.workers, len(chunks)))
    progress = settings.progress
    bar = tqdm(total=sum(sizes.values()) * len(systems), unit="img", disable=None if progress else True)
    # tqdm draws only on a terminal; in a log (make dataset > log) each finished split gets one line instead.
    log_lines = progress and bar.disable
    written = []
    try:
        with bar:
            for system in systems:
                config_chunks = [chunk for chunk in chunks if chunk.config == system.name]
                bar.set_description(system.name)

                def fill(partial: Path, system: NumeralSystem = system, config_chunks: list[Chunk] = config_chunks):
                    save_recipe(recipe, partial / RECIPE_FILE)
                    shards, redraws = _write_shards(
                        system, partial, config_chunks, rendered, sizes, settings.rows_per_shard, bar, log_lines
                    )
                    metadata = _metadata(system, settings, sizes, shards, partial / RECIPE_FILE, families)
                    metadata["exemplars"] = _exemplars_metadata(
                        system, seed_sets.get(system.name), exemplars[system.name].canvases
                    )
                    metadata["sanitation"] = _sanitation_metadata(system, settings.sanitize, sizes, redraws)
                    # The metadata file is written last: a folder without it never passes as complete.
                    text = json.dumps(metadata, indent=2, ensure_ascii=False) + "\n"
                    (partial / METADATA_FILE).write_text(text, encoding="utf-8")

                try:
                    # A run killed between the two renames of an --overwrite leaves .replaced-<config> and no
                    # <config>; the next run puts the old folder back (generator.repository.output.repair).
                    written.append(replace_folder(out / system.name, fill))
                except OSError as exc:
                    raise InputError(
                        f"cannot write {system.name} into {out} ({exc.strerror or exc}); free space or fix "
                        f"permissions, then rerun"
                    ) from None
                except worker.WorkerStopped as exc:
                    raise InputError(f"{exc}; nothing of {system.name} was kept, rerun to generate it") from None
    finally:
        rendered.close()  # stops the worker pool at once if the run ends early
    return written


def _exemplars(
    system: NumeralSystem,
    recipe: A.Compose,
    exemplars_dir: Path | None,
    weight: float,
    sanitize: bool,
    canvases: list[list[np.ndarray]] | None = None,
) -> tuple[Exemplars, SeedSet | None]:
    """What a config's workers draw from: its font canvases, its kept seeds, and sanitation's templates."""
    canvases = canvases if canvases is not None else exemplar_canvases(system)
    seeds = None
    if exemplars_dir is not None:
        font_images = normalize_exemplars(canvases)
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
    log_lines: bool = False,
) -> tuple[dict[str, list[ShardInfo]], dict[str, dict[str, np.ndarray]]]:
    """Writes a config's shards; returns them and, per split, sanitation's per-class redraw counts.

    With ``log_lines``, a line goes to stderr at every tenth of a split and at its end: the split's images done, and the
    seconds and rate of the whole config so far (workers render ahead, so a later split timed alone looked far faster
    than it was: "vai test: 500 of 500 images in 0.0 s (41,047 images/s)").
    """
    shards: dict[str, list[ShardInfo]] = {split: [] for split in SPLITS}
    redraws = {
        split: {key: np.zeros(system.num_classes, np.int64) for key in ("redrawn", "kept_after_redraws", *REASONS)}
        for split in SPLITS
    }
    writer: ShardWriter | None = None
    writer_split = ""
    done = dict.fromkeys(SPLITS, 0)
    started = time.perf_counter()
    for index, chunk in enumerate(chunks):
        result = next(rendered)
        pngs = result.pngs
        redraws[chunk.split]["redrawn"] += result.redrawn
        redraws[chunk.split]["kept_after_redraws"] += result.kept_after_redraws
        for reason, counts in result.rejected.items():
            redraws[chunk.split][reason] += counts
        name = shard_name(chunk.split, chunk.shard, math.ceil(sizes[chunk.split] / rows_per_shard))
        if writer is None or writer.path.name != name:
            if writer is not None:
                shards[writer_split].append(writer.close())
            writer, writer_split = ShardWriter(folder / name, system.class_names), chunk.split
        writer.write(pngs, list(chunk.labels))
        bar.update(len(pngs))
        done[chunk.split] += len(pngs)
        size, now = sizes[chunk.split], done[chunk.split]
        split_done = index + 1 == len(chunks) or chunks[index + 1].split != chunk.split
        # In a log (make dataset > log) a line every tenth of a split, as a terminal gets its bar, and one at its end.
        if log_lines and (split_done or (now - len(pngs)) * 10 // size < now * 10 // size):
            seconds, total = time.perf_counter() - started, sum(done.values())
            print(
                f"{system.name} {chunk.split}: {now:,} of {size:,} images in {seconds:.1f} s "
                f"({total / max(seconds, 1e-9):,.0f} images/s)",
                file=sys.stderr,
                flush=True,
            )
    if writer is not None:
        shards[writer_split].append(writer.close())
    return shards, redraws


def _metadata(
    system: NumeralSystem,
    settings: GenerateSettings,
    sizes: dict[str, int],
    shards: dict[str, list[ShardInfo]],
    recipe_path: Path,
    families: dict[str, list[str]],
) -> dict:
    """Everything needed to trust, cite and rerun a config; nothing that differs between machines."""
    return {
        "config": system.name,
        "generator": {"name": "afro-mnist", "version": generator.__version__},
        "libraries": {name: version(name) for name in _OUTPUT_LIBRARIES},
        "numeral_system": system_metadata(system),
        "seed": settings.seed,
        "image": {
            "shape": [FRAME, FRAME],
            "dtype": "uint8",
            "ink": "white on black",
            "format": "PNG",
            "box": BOX,
            "working_size": WORKING_SIZE,
            "working_box": WORKING_BOX,
        },
        "chunk_size": settings.chunk_size,
        "rows_per_shard": settings.rows_per_shard,
        "fonts": [
            {"file": path.name, "family": family, "sha256": sha256_file(path)} | _excluded_metadata(system, font)
            for font, (path, family) in enumerate(zip(system.fonts, families[system.name], strict=True))
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


def _exemplars_metadata(system: NumeralSystem, seeds: SeedSet | None, canvases: list[list[np.ndarray]]) -> dict:
    return {
        "fonts": len(system.fonts),
        # The usual number of pieces of each class's exemplars: `afro-mnist stats` counts images in more as broken.
        "pieces_per_class": dict(
            zip(
                system.class_names,
                usual_pieces(normalize_exemplars(canvases)),
                strict=True,
            )
        ),
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
                "a sample is redrawn when it lost its structure (against its exemplar traced with a thin pen: "
                "holes differ, or pieces are fewer, by more than structure_tolerance, or there are more than "
                "extra_pieces more pieces), or when it "
                "is a blot (its inked share lies more than scribble_z robust standard deviations above its "
                "class's exemplars'); after max_redraws rejections the last draw is kept. A sample that "
                "resembles another class more than its own is kept; only handwritten seeds are checked for that"
            ),
            "structure_tolerance": STRUCTURE_TOLERANCE,
            "extra_pieces": EXTRA_PIECES,
            "scribble_z": SCRIBBLE_Z,
            "max_redraws": MAX_SANITATION_REDRAWS,
            **{
                split: {
                    "redrawn": int(redraws[split]["redrawn"].sum()),
                    "redrawn_share": float(redraws[split]["redrawn"].sum() / sizes[split]),
                    "kept_after_redraws": int(redraws[split]["kept_after_redraws"].sum()),
                    "redrawn_per_class": dict(zip(system.class_names, redraws[split]["redrawn"].tolist(), strict=True)),
                    "rejected_per_reason": {
                        reason: dict(zip(system.class_names, redraws[split][reason].tolist(), strict=True))
                        for reason in REASONS
                    },
                }
                for split in SPLITS
            },
        }
    }


# What each of sanitation's reasons (synthesis.sanitation.REASONS) means, for the summary a user reads.
_REASON_WORDS = {
    "lost_structure": "had lost the numeral's shape (a hole or a piece too many or too few)",
    "blot": "were blots of ink",
}


def sanitation_summary(metadata: dict) -> str:
    """A config's sanitation in a few plain lines, for the terminal."""
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
            size = metadata["splits"][split]["num_examples"]
            reasons = "; ".join(
                f"{sum(info['rejected_per_reason'][reason].values()):,} "
                f"{_REASON_WORDS.get(reason, 'were rejected as ' + reason.replace('_', ' '))}"
                for reason in REASONS
            )
            line = (
                f"{config} {split}: {info['redrawn']:,} draws were thrown away and drawn again, "
                f"{info['redrawn_share']:.1%} as many as the split's {size:,} images ({reasons})"
            )
            if info["kept_after_redraws"]:
                line += (
                    f"; {info['kept_after_redraws']:,} images still failed after {samples['max_redraws']} "
                    "new draws and were kept as last drawn"
                )
            lines.append(line)
    return "\n".join(lines)

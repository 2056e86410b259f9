"""Collected drawings out of the database, in three formats.

- ``exemplars``: ``OUT/<config>/<class name>/<id>.png``, the layout ``afro-mnist generate --exemplars`` reads;
- ``parquet``: a real handwritten config, ``OUT/<config>_handwritten/``, with the shards, schema and
  ``metadata.json`` of a generated config, its train and test split by writer so that no writer is
  in both; ``datasets.load_dataset("parquet", ...)`` and ``afro-mnist evaluate-real --real`` read it;
- ``strokes``: ``OUT/<config>.ndjson``, one drawing a line, in Quick, Draw!'s simplified format.

Exported are the drawings a reviewer accepted, and the new ones that the anomaly model does not
flag; rejected drawings never are, nor drawings their writers deleted (those are gone from the
database). Before it reads them, an export rescores the drawings awaiting a decision against the
current reference (fonts and accepted drawings) and stores the verdicts (``anomaly.rescore``).
Writers are named by a hash of their session id, never the id itself. Contacts (names and emails) are
never exported. The same database gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

import cv2

import generator
from generator.collect.anomaly import rescore
from generator.collect.drawing import mnist_image, simplified
from generator.collect.settings import DEFAULT_TEST_SHARE, FORMATS, HANDWRITTEN_SUFFIX, LICENCE, LICENCE_URL
from generator.collect.storage import ACCEPTED, NEW, REJECTED, Drawing, Storage
from generator.errors import InputError
from generator.layout import METADATA_FILE, check_output_paths, class_folder, format_code_point
from generator.registry import NumeralSystem, system_metadata
from generator.repository.output import hold, repair, replace_folder, write_atomic_recorded
from generator.repository.shards import SPLITS, ShardWriter, shard_name
from generator.synthesis.normalize import BOX, FRAME

_LIBRARIES = ("numpy", "opencv-python-headless", "pillow", "pyarrow")


def writer_id(session: str) -> str:
    """A writer's public name: a hash of the session id, which itself stays in the database."""
    return hashlib.sha256(f"afro-mnist writer {session}".encode()).hexdigest()[:16]


def usable(storage: Storage, system: NumeralSystem) -> tuple[list[Drawing], dict[str, int]]:
    """The drawings of ``system`` to export, and how many were left out, by why."""
    rescore(storage, system)
    drawings = storage.drawings(system.name)
    kept = [d for d in drawings if d.status == ACCEPTED or (d.status == NEW and d.flag is None)]
    left_out = {
        "rejected": sum(1 for d in drawings if d.status == REJECTED),
        "flagged_awaiting_review": sum(1 for d in drawings if d.status == NEW and d.flag is not None),
        "deleted_by_writers": storage.deleted_drawings(),
    }
    return kept, left_out


def split_by_writer(drawings: Sequence[Drawing], test_share: float) -> dict[str, list[Drawing]]:
    """Train and test with no writer in both: writers in a fixed pseudo-random order (by their public
    id) go to test until it holds ``test_share`` of the drawings, the rest to train.

    Raises:
        InputError: fewer than two writers, so no split can keep them apart.
    """
    per_writer: dict[str, list[Drawing]] = {}
    for d in drawings:
        per_writer.setdefault(writer_id(d.session), []).append(d)
    if len(per_writer) < 2:
        raise InputError(
            f"{len(per_writer)} writer(s) among {len(drawings)} usable drawings: a train and test split by "
            "writer needs at least two; collect from more people"
        )
    order = sorted(per_writer)
    test: list[Drawing] = []
    target = test_share * len(drawings)
    for writer in order[:-1]:  # the last writer always stays in train
        if len(test) >= target:
            break
        test += per_writer[writer]
    test_ids = {d.id for d in test}
    return {
        "train": [d for d in drawings if d.id not in test_ids],
        "test": [d for d in drawings if d.id in test_ids],
    }


def export(
    storage: Storage,
    systems: Sequence[NumeralSystem],
    file_format: str,
    out: Path,
    *,
    test_share: float = DEFAULT_TEST_SHARE,
    overwrite: bool = False,
) -> list[tuple[Path, str]]:
    """Writes each config's usable drawings in ``file_format`` into ``out``.

    Returns:
        ``(path written, a line saying what it holds)`` for each config.

    Raises:
        InputError: an unknown format, an output that exists without ``overwrite``, a config with no
            usable drawing, a bad ``test_share``, too few writers for a split.
    """
    if file_format not in FORMATS:
        raise InputError(f"--format {file_format}: choose one of {', '.join(FORMATS)}")
    if not 0 < test_share < 1:
        raise InputError(f"--test-share {test_share} must lie strictly between 0 and 1")
    targets = {system.name: _target(out, system.name, file_format) for system in systems}
    check_output_paths(out, targets.values(), overwrite)
    chosen = []
    for system in systems:
        drawings, left_out = usable(storage, system)
        if not drawings:
            raise InputError(
                f"config {system.name} has no usable drawing in {storage.url.split('://')[0]} database "
                f"({left_out['flagged_awaiting_review']} flagged awaiting review, {left_out['rejected']} rejected); "
                "collect some, or accept flagged ones with `afro-mnist collect review`"
            )
        chosen.append((system, drawings, left_out))
    if file_format == "parquet":  # check every split before anything is written
        splits = {system.name: split_by_writer(drawings, test_share) for system, drawings, _ in chosen}
    written = []
    with hold(out):  # the lock every writer into a folder takes (generator.repository.output)
        repair(out)  # what an interrupted export recorded and left
        check_output_paths(out, targets.values(), overwrite)  # again, now that no other run can change it
        for system, drawings, left_out in chosen:
            path = targets[system.name]
            note = (
                f"{len(drawings)} drawings of {system.name}, "
                f"{left_out['flagged_awaiting_review']} flagged awaiting review"
            )
            if file_format == "exemplars":
                replace_folder(path, lambda folder, s=system, d=drawings: _write_exemplars(folder, s, d))
            elif file_format == "strokes":
                write_atomic_recorded(path, "".join(_ndjson_line(system, d) for d in drawings).encode("utf-8"))
            else:
                split = splits[system.name]
                replace_folder(
                    path, lambda folder, s=system, p=split, o=left_out: _write_config(folder, s, p, o, test_share)
                )
                note += f"; train {len(split['train'])}, test {len(split['test'])}, split by writer"
            written.append((path, note))
    return written


def _target(out: Path, config: str, file_format: str) -> Path:
    if file_format == "exemplars":
        return out / config
    if file_format == "strokes":
        return out / f"{config}.ndjson"
    return out / f"{config}{HANDWRITTEN_SUFFIX}"


def _write_exemplars(folder: Path, system: NumeralSystem, drawings: Sequence[Drawing]) -> None:
    for name in system.class_names:
        class_folder(folder, name).mkdir()  # a class name is a label: it never leads out of the folder
    for d in drawings:
        (class_folder(folder, system.class_names[d.label]) / f"{d.id:06d}.png").write_bytes(d.png)


def _ndjson_line(system: NumeralSystem, d: Drawing) -> str:
    record = {
        "key_id": str(d.id),
        "config": system.name,
        "word": system.class_names[d.label],
        "label": d.label,
        "code_point": format_code_point(system.code_points[d.label]),
        "writer": writer_id(d.session),
        "pointer": d.pointer,
        "timestamp": d.created_at,
        "drawing": simplified(d.strokes),
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _write_config(
    folder: Path, system: NumeralSystem, splits: dict[str, list[Drawing]], left_out: dict, test_share: float
) -> None:
    name = f"{system.name}{HANDWRITTEN_SUFFIX}"
    shards = {}
    for split in SPLITS:
        writer = ShardWriter(folder / shard_name(split, 0, 1), system.class_names)
        pngs = [_png28(d) for d in splits[split]]
        writer.write(pngs, [d.label for d in splits[split]])
        shards[split] = writer.close()
    per_class = {
        split: [sum(1 for d in splits[split] if d.label == label) for label in range(system.num_classes)]
        for split in SPLITS
    }
    # With few writers, a writer-disjoint split often leaves a class out of one split: said, not hidden.
    missing = {
        split: [name for name, count in zip(system.class_names, per_class[split], strict=True) if count == 0]
        for split in SPLITS
    }
    every = [d for split in SPLITS for d in splits[split]]
    metadata = {
        "config": name,
        "source": "handwritten",
        "generator": {"name": "afro-mnist", "version": generator.__version__},
        "libraries": {library: version(library) for library in _LIBRARIES},
        "numeral_system": system_metadata(system),
        "image": {"shape": [FRAME, FRAME], "dtype": "uint8", "ink": "white on black", "format": "PNG", "box": BOX},
        "fonts": [],
        "collection": {
            "licence": LICENCE,
            "licence_url": LICENCE_URL,
            "drawn_on": "a web page (afro-mnist collect), with finger, pen or mouse",
            "first_drawing": min(d.created_at for d in every),
            "last_drawing": max(d.created_at for d in every),
            "pointers": {p: sum(1 for d in every if d.pointer == p) for p in sorted({d.pointer for d in every})},
            "writers": {split: len({d.session for d in splits[split]}) for split in SPLITS},
            "split_rule": (
                "by writer: writers in the order of their hashed id go to test until it holds "
                f"{test_share:.0%} of the drawings; no writer is in both splits"
            ),
            "left_out": left_out,
            "missing_classes": missing,
            "normalisation": "rendered from the strokes with a round pen, then fitted into a 20x20 box and "
            "centred by mass in 28x28 (generator.synthesis.normalize.mnist_normalize), as every image is",
        },
        "splits": {
            split: {
                "num_examples": len(splits[split]),
                "examples_per_class": min(per_class[split]),
                "examples_by_class": dict(zip(system.class_names, per_class[split], strict=True)),
                "num_bytes": shards[split].num_bytes,
                "download_size": shards[split].size_bytes,
                "shards": [asdict(shards[split])],
            }
            for split in SPLITS
        },
    }
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _png28(d: Drawing) -> bytes:
    ok, encoded = cv2.imencode(".png", mnist_image(d.strokes, d.canvas_size))
    if not ok:
        raise RuntimeError("OpenCV could not encode a PNG")
    return encoded.tobytes()

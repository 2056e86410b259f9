#!/usr/bin/env python3
"""Learn how handwriting departs from type, from fonts alone: letters only, never digits.

    python scripts/learn_hand_forms.py                      # write the shipped model (refuses to overwrite)
    python scripts/learn_hand_forms.py --overwrite
    python scripts/learn_hand_forms.py --out /tmp/model.npz --scripts Latin Tamil

For each script with both text faces and handwriting-style families on the npm registry
(``@fontsource`` packages, pinned by version and the registry's SHA-512, fetched with ``npm pack``
as ``scripts/bundle_fonts.py`` fetches them), every LETTER that both faces of a pair draw is rendered
in both and placed on the generator's working canvas (``normalize.to_canvas``: 40x40 box on 64x64).
Characters are letters by their Unicode category (Lu, Ll, Lo); no digit of any script (Nd, No, Nl)
is rendered, and the script checks that before it renders. A pair whose two glyphs differ in
structure (pieces, holes: a one-storey g against a two-storey one) is left out: no smooth field turns
one into the other.

The text glyph is registered to the hand glyph with a dense displacement field (Farneback's optical
flow between the two glyphs' soft distance images: ink at 255, fading with distance from it), which
gives, for each pixel of the hand glyph, where the text glyph's ink comes from. The field is reduced to
a coarse grid (``--grid`` nodes a side, over the whole canvas, in units of the 40 px box), and a
Gaussian is fitted to the grids by principal components: the mean field, the leading components and
their standard deviations. ``generator.synthesis.hand_forms`` samples it in the recipe.

Beside the model a JSON file records the provenance: every family with its package, version,
integrity, file, role and licence, the letters and pairs per script, and how well the fields explain
the hand glyphs (overlap of ink before and after warping). As a control, the same fields are measured
between pairs of text faces, so the size of a hand's departure can be set against that of another
type design's.

The Latin text and handwriting families are the example specs' (``examples/latin``,
``examples/latin_handwriting``), whose digits never train anything: only their letters are read here.
Exit status 2 with one line on stderr for bad input or a missing prerequisite.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tarfile
import tempfile
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from bundle_fonts import BundleError, npm_member, npm_tarball  # this folder is on the path when run as a script
from fontTools.ttLib import TTFont
from skimage.morphology import skeletonize

from generator.errors import InputError
from generator.synthesis.fonts import render_glyph
from generator.synthesis.glyph import INK, LEAST_PART, traced_structure
from generator.synthesis.normalize import WORKING_SIZE, to_canvas
from generator.synthesis.recipe.learned.functional import FIELD_UNIT, MODEL_PATH

ROOT = Path(__file__).resolve().parents[1]

# Families that are not in an example spec, pinned as bundle_fonts pins them: (package, version, integrity).
_PINNED = {
    "@fontsource/chilanka": (
        "sha512-xn3vzDjjiW2U9ADLgKZjN3whzG0UI018/9y9LuaJtbFylgC+1KARXLsNc4LeQfoukA6LtSLScya7DsnLgBNldA=="
    ),
    "@fontsource/noto-sans-devanagari": (
        "sha512-7khYmipS/5KAUUmrO1DKir8yL8XI00d0+ZE9BqbS8XF1jzObv6CpPOk3UeYxF+Pvi8bx9bBvprBCOcbx/eQWTQ=="
    ),
    "@fontsource/noto-sans-malayalam": (
        "sha512-JVWpPkzNkbZTLradEAu8y5dDCgDsPLzvJrY1mEtt0NGG095aPyfhpTmq+wnGBBhvNRU9WEeATGI/w/YocbjQsg=="
    ),
    "@fontsource/noto-sans-tamil": (
        "sha512-webid7fyBljiIEJ1hXuey48vCUe2Oq3/EwYjo6XBtXItO9FoUmqy0bEnXA5iE++iC324BTI8QMy80SYtDheCzA=="
    ),
    "@fontsource/hind": (
        "sha512-tN9N0AurZa2N8JakQw8Eqs5/1Rzpw7J6YA1mYpkkHZ3iTw1JjbSHq6V6hGjhRdZlUMHk1sN+jOhPmuF+RkRKEg=="
    ),
    "@fontsource/manjari": (
        "sha512-04PLTBOW7qGhZtqTVurSF+zANPvf+vAc0fN8gjdEWiQ5G2FwSTgl6WwDWtITDCQO2sxwn97Kv/sag872JwJR8A=="
    ),
    "@fontsource/gayathri": (
        "sha512-2WR3+/QTXPqhcbY2MShytctdWfjMpd3lIruC9+yhJeywBdDbUUy+HmzWFAIv/8JLFvQ/qh60FSbPXE+OZZ8RTw=="
    ),
}
_PINNED_VERSION = "5.3.0"
# The Unicode categories read as letters: upper case, lower case, and other letters (Indic consonants and vowels).
_LETTERS = frozenset({"Lu", "Ll", "Lo"})

# Per script: the fontsource subset its letters are in, where its letters lie, and its faces beyond the
# Latin example specs' (which serve Latin, Cyrillic and Greek through their other subsets).
_SCRIPTS = {
    "Latin": {"subset": "latin", "ranges": [(0x41, 0x5A), (0x61, 0x7A)], "hand": [], "text": []},
    "Cyrillic": {"subset": "cyrillic", "ranges": [(0x410, 0x44F)], "hand": [], "text": []},
    "Greek": {"subset": "greek", "ranges": [(0x391, 0x3A9), (0x3B1, 0x3C9)], "hand": [], "text": []},
    "Devanagari": {
        "subset": "devanagari",
        "ranges": [(0x904, 0x939), (0x972, 0x97F)],
        "hand": ["@fontsource/kalam"],
        "text": ["@fontsource/noto-sans-devanagari", "@fontsource/hind", "@fontsource/poppins"],
    },
    "Tamil": {
        "subset": "tamil",
        "ranges": [(0xB85, 0xBB9)],
        "hand": ["@fontsource/kavivanar"],
        "text": ["@fontsource/noto-sans-tamil", "@fontsource/hind-madurai", "@fontsource/mukta-malar"],
    },
    "Malayalam": {
        "subset": "malayalam",
        "ranges": [(0xD05, 0xD3A), (0xD7A, 0xD7F)],
        "hand": ["@fontsource/chilanka"],
        "text": ["@fontsource/noto-sans-malayalam", "@fontsource/manjari", "@fontsource/gayathri"],
    },
}
# Latin has 41 handwriting families and 68 text faces: each hand is paired with this many text faces, drawn with
# random.Random(0), so that no one script's pairs swamp the others'.
_TEXT_PER_HAND = 4
# Farneback's flow: a pyramid of 4 levels halving each time, windows of 15 px, 5 iterations, a polynomial
# neighbourhood of 7 px with sigma 1.5: smooth enough that a stroke moves with its neighbours.
_FLOW = (0.5, 4, 15, 5, 7, 1.5, 0)
# The soft distance image: ink (at least half) at 255, falling off as exp(-distance / this many px), so that
# the flow sees where every stroke is from anywhere on the canvas.
_SOFT_REACH = 6.0
# The licences a family may be under: the fitted numbers are derived from the fonts, which are not shipped.
_FREE_LICENCES = frozenset({"OFL-1.1", "Apache-2.0", "UFL-1.0"})
# StrokeWarp draws uniformly within a range: the learned ranges span these percentiles of what the hands did, and
# the largest turn is this percentile of the turns' sizes.
_RANGE_PERCENTILES = (5.0, 95.0)
_TURN_PERCENTILE = 90.0
# Fewer measured stroke edits of any kind than this means the fonts were not read.
_LEAST_EDITS = 20
# The Gaussian keeps this share of the fields' variance.
_KEPT_VARIANCE = 0.95


@dataclass(frozen=True)
class Face:
    """One font file of one family in one subset."""

    package: str
    version: str
    integrity: str
    file: str
    role: str  # "hand" or "text"
    path: Path
    licence_type: str | None
    copyright: str


def letters(ranges: list[tuple[int, int]]) -> list[str]:
    """The letters in ``ranges``: Unicode category Lu, Ll or Lo only, so no digit (Nd, Nl, No) of any script."""
    return [
        chr(code_point)
        for low, high in ranges
        for code_point in range(low, high + 1)
        if unicodedata.category(chr(code_point)) in _LETTERS
    ]


def _spec_entries(spec: Path) -> list[dict]:
    return [entry for entry in tomllib.loads(spec.read_text())["fonts"] if "npm_package" in entry]


def face_sources(script: str) -> list[tuple[str, str, str, str]]:
    """``(role, package, version, integrity)`` of every family that may serve ``script``."""
    sources = []
    for role, spec in (("text", "latin"), ("hand", "latin_handwriting")):
        for entry in _spec_entries(ROOT / "examples" / spec / "spec.toml"):
            sources.append((role, entry["npm_package"], entry["npm_version"], entry["npm_integrity"]))
    tamil = {e["npm_package"]: e for e in _spec_entries(ROOT / "examples" / "tamil" / "spec.toml")}
    latin = {s[1]: s for s in sources}
    for role in ("hand", "text"):
        for package in _SCRIPTS[script][role]:
            if package in _PINNED:
                sources.append((role, package, _PINNED_VERSION, _PINNED[package]))
            elif package in tamil:
                sources.append((role, package, tamil[package]["npm_version"], tamil[package]["npm_integrity"]))
            else:
                sources.append((role, *latin[package][1:]))
    seen: set[str] = set()
    return [source for source in sources if not (source[1] in seen or seen.add(source[1]))]


def load_faces(script: str, folder: Path) -> list[Face]:
    """Every face of ``script``'s subset that the sources ship, extracted into ``folder``."""
    subset = _SCRIPTS[script]["subset"]
    faces = []
    for role, package, version, integrity in face_sources(script):
        family = package.split("/", 1)[1]
        name = f"files/{family}-{subset}-400-normal.woff"
        with tarfile.open(fileobj=io.BytesIO(npm_tarball(package, version, integrity)), mode="r:gz") as tar:
            try:
                data = npm_member(tar, package, name)
            except BundleError:
                continue  # this family has no such subset
            licence = json.loads(npm_member(tar, package, "metadata.json")).get("license") or {}
        path = folder / f"{family}-{subset}.woff"
        path.write_bytes(data)
        attribution = licence.get("attribution", "")
        faces.append(Face(package, version, integrity, name, role, path, licence.get("type"), attribution))
    return faces


def _cmap(path: Path) -> set[int]:
    with TTFont(path, lazy=True) as font:
        return set((font.getBestCmap() or {}).keys())


def soft(canvas: np.ndarray) -> np.ndarray:
    """Ink at 255, fading with the distance from it: what the flow registers."""
    ink = (canvas >= 128).astype(np.uint8)
    distance = cv2.distanceTransform(1 - ink, cv2.DIST_L2, 3)
    return np.clip(255.0 * np.exp(-distance / _SOFT_REACH), 0, 255).astype(np.uint8)


def register(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The field ``(h, w, 2)`` (x, y) with ``target(p) ~ source(p + field(p))``: where each pixel's ink comes from."""
    return cv2.calcOpticalFlowFarneback(soft(target), soft(source), None, *_FLOW)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two glyphs' ink (at least half)."""
    a, b = a >= 128, b >= 128
    return float((a & b).sum() / max((a | b).sum(), 1))


# Centreline branches shorter than this many pixels (serifs, and the spurs a skeleton leaves) are pruned before
# strokes are measured, so that a serif's stub is not taken for a stroke.
_SPUR = 8.0
# A text face's stroke end and a hand face's are the same stroke's when they lie within this many pixels.
_SAME_END = 10.0
# Holes are matched the same way, by their centres.
_SAME_HOLE = 12.0
_NEIGHBOURHOOD = np.ones((3, 3), np.uint8)
_STEPS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]


def _walks(line: np.ndarray) -> list[tuple[tuple[float, float], tuple[float, float], float, list[tuple[int, int]]]]:
    """Each centreline stroke that runs from a free end to a junction: (end, junction) as (x, y), its length, path."""
    count = cv2.filter2D(line, -1, _NEIGHBOURHOOD, borderType=cv2.BORDER_CONSTANT) * line
    walks = []
    for y, x in np.argwhere(count == 2).tolist():
        path, length = [(y, x)], 0.0
        seen = {(y, x)}
        while True:
            here_y, here_x = path[-1]
            ahead = [
                (here_y + dy, here_x + dx)
                for dy, dx in _STEPS
                if 0 <= here_y + dy < line.shape[0]
                and 0 <= here_x + dx < line.shape[1]
                and line[here_y + dy, here_x + dx]
                and (here_y + dy, here_x + dx) not in seen
            ]
            if not ahead:
                break
            step = min(ahead, key=lambda pixel: abs(pixel[0] - here_y) + abs(pixel[1] - here_x))
            length += float(np.hypot(step[0] - here_y, step[1] - here_x))
            path.append(step)
            seen.add(step)
            if count[step] >= 4:
                walks.append(((float(x), float(y)), (float(step[1]), float(step[0])), length, path))
                break
    return walks


def hanging_strokes(canvas: np.ndarray) -> list[tuple[tuple[float, float], tuple[float, float], float]]:
    """The strokes that hang from a junction by one end, as ``StrokeWarp`` sees them: (end, pivot, length).

    Branches shorter than ``_SPUR`` are pruned first (three rounds), so a serif does not count as a stroke.
    """
    line = skeletonize(canvas >= INK).astype(np.uint8)
    for _ in range(3):
        short = [path for *_, length, path in _walks(line) if length < _SPUR]
        if not short:
            break
        for path in short:
            for pixel in path[:-1]:
                line[pixel] = 0
        line = skeletonize(line > 0).astype(np.uint8)
    return [(end, pivot, length) for end, pivot, length, _ in _walks(line)]


def holes(canvas: np.ndarray) -> list[tuple[tuple[float, float], float]]:
    """Each hole of the glyph (specks left out): its centre (x, y) and its area in pixels."""
    mask = (canvas >= INK).astype(np.uint8)
    count, labels, stats, centres = cv2.connectedComponentsWithStats(1 - mask, connectivity=4)
    outside = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())
    return [
        ((float(centres[i][0]), float(centres[i][1])), float(stats[i, cv2.CC_STAT_AREA]))
        for i in range(1, count)
        if i not in outside and stats[i, cv2.CC_STAT_AREA] >= LEAST_PART
    ]


def match(first: list[tuple[float, float]], second: list[tuple[float, float]], limit: float) -> list[tuple[int, int]]:
    """Pairs of indices of points within ``limit`` of each other, nearest first, each point used once."""
    candidates = sorted(
        (float(np.hypot(a[0] - b[0], a[1] - b[1])), i, j) for i, a in enumerate(first) for j, b in enumerate(second)
    )
    used_first, used_second, pairs = set(), set(), []
    for distance, i, j in candidates:
        if distance <= limit and i not in used_first and j not in used_second:
            used_first.add(i)
            used_second.add(j)
            pairs.append((i, j))
    return pairs


def stroke_edits(source: np.ndarray, target: np.ndarray) -> dict[str, list[float]]:
    """What a hand did to the text glyph's strokes, in ``StrokeWarp``'s terms.

    ``length``: each hanging stroke's length in the hand over the text's; ``turn``: how far it turned about its
    junction, in degrees; ``loop``: each hole's size (the square root of its area) over the text's. Strokes are
    compared only when both glyphs hang the same number of them from junctions, holes only when they have as many.
    """
    edits: dict[str, list[float]] = {"length": [], "turn": [], "loop": []}
    text, hand = hanging_strokes(source), hanging_strokes(target)
    if text and len(text) == len(hand):
        for i, j in match([s[0] for s in text], [s[0] for s in hand], _SAME_END):
            (text_end, text_pivot, text_length), (hand_end, hand_pivot, hand_length) = text[i], hand[j]
            before = np.arctan2(text_end[1] - text_pivot[1], text_end[0] - text_pivot[0])
            after = np.arctan2(hand_end[1] - hand_pivot[1], hand_end[0] - hand_pivot[0])
            edits["length"].append(hand_length / max(text_length, 1.0))
            edits["turn"].append(float((np.degrees(after - before) + 180) % 360 - 180))
    text_holes, hand_holes = holes(source), holes(target)
    if text_holes and len(text_holes) == len(hand_holes):
        for i, j in match([h[0] for h in text_holes], [h[0] for h in hand_holes], _SAME_HOLE):
            edits["loop"].append(float(np.sqrt(hand_holes[j][1] / text_holes[i][1])))
    return edits


def to_grid(field: np.ndarray, grid: int) -> np.ndarray:
    """A field reduced to ``grid`` x ``grid`` nodes by area averaging, in units of the working box."""
    return cv2.resize(field, (grid, grid), interpolation=cv2.INTER_AREA) / FIELD_UNIT


def from_grid(nodes: np.ndarray, size: int = WORKING_SIZE) -> np.ndarray:
    """A grid of nodes back to a dense field in pixels (as ``hand_forms`` does it)."""
    return cv2.resize(nodes.astype(np.float32) * FIELD_UNIT, (size, size), interpolation=cv2.INTER_CUBIC)


_GRID_XY = np.meshgrid(np.arange(WORKING_SIZE, dtype=np.float32), np.arange(WORKING_SIZE, dtype=np.float32))


def warp(canvas: np.ndarray, field: np.ndarray) -> np.ndarray:
    xs, ys = _GRID_XY
    return cv2.remap(canvas, xs + field[..., 0], ys + field[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def pair_fields(
    pairs: list[tuple[Face, Face]], characters: list[str], grid: int
) -> tuple[list[np.ndarray], dict[str, list[float]], dict[str, float]]:
    """Each pair's grid field per shared letter of equal structure, the stroke edits (``stroke_edits``) between
    them, and how well the fields explain the targets."""
    cmaps: dict[Path, set[int]] = {}
    canvases: dict[tuple[Path, str], tuple[np.ndarray, tuple[int, int]]] = {}

    def canvas(face: Face, ch: str) -> tuple[np.ndarray, tuple[int, int]] | None:
        if face.path not in cmaps:
            cmaps[face.path] = _cmap(face.path)
        if ord(ch) not in cmaps[face.path]:
            return None
        key = (face.path, ch)
        if key not in canvases:
            try:
                drawn = to_canvas(render_glyph(face.path, ch))
            except (InputError, ValueError):
                return None
            canvases[key] = drawn, traced_structure(drawn)
        return canvases[key]

    fields, before, dense, coarse, skipped = [], [], [], [], 0
    edits: dict[str, list[float]] = {"length": [], "turn": [], "loop": []}
    for source_face, target_face in pairs:
        for ch in characters:
            source, target = canvas(source_face, ch), canvas(target_face, ch)
            if source is None or target is None:
                continue
            if source[1] != target[1]:
                skipped += 1
                continue
            field = register(source[0], target[0])
            nodes = to_grid(field, grid)
            fields.append(nodes)
            before.append(overlap(source[0], target[0]))
            dense.append(overlap(warp(source[0], field), target[0]))
            coarse.append(overlap(warp(source[0], from_grid(nodes)), target[0]))
            for key, values in stroke_edits(source[0], target[0]).items():
                edits[key] += values
    quality = {
        "glyph_pairs": len(fields),
        "left_out_for_structure": skipped,
        "ink_overlap_unwarped": round(float(np.mean(before)), 4) if before else None,
        "ink_overlap_dense_field": round(float(np.mean(dense)), 4) if dense else None,
        "ink_overlap_grid_field": round(float(np.mean(coarse)), 4) if coarse else None,
        "grid_rms_box_units": round(float(np.sqrt(np.mean(np.square(fields)))), 4) if fields else None,
        **{f"{key}_edits": len(values) for key, values in edits.items()},
    }
    return fields, edits, quality


def stroke_ranges(edits: dict[str, list[float]]) -> dict[str, np.ndarray]:
    """``StrokeWarp``'s arguments from the measured edits: the largest turn (90th percentile of its size, at most
    90 degrees), and the ranges of a hanging stroke's and a loop's size factor (5th to 95th percentile)."""
    return {
        "stroke_angle": np.float64(min(np.percentile(np.abs(edits["turn"]), _TURN_PERCENTILE), 90.0)),
        "stroke_length": np.percentile(edits["length"], _RANGE_PERCENTILES),
        "stroke_loop": np.percentile(edits["loop"], _RANGE_PERCENTILES),
    }


def _edit_counts(edits: dict[str, list[float]]) -> dict[str, int]:
    return {key: len(values) for key, values in edits.items()}


def fit_gaussian(fields: np.ndarray, kept: float = _KEPT_VARIANCE) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Mean, leading components (rows) and their standard deviations, keeping ``kept`` of the variance."""
    flat = fields.reshape(len(fields), -1).astype(np.float64)
    mean = flat.mean(axis=0)
    _, singular, components = np.linalg.svd(flat - mean, full_matrices=False)
    variance = singular**2 / max(len(flat) - 1, 1)
    share = np.cumsum(variance) / variance.sum()
    count = int(np.searchsorted(share, kept) + 1)
    return mean, components[:count], np.sqrt(variance[:count]), float(share[count - 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="the model (.npz); its provenance goes beside it")
    parser.add_argument("--scripts", nargs="+", default=list(_SCRIPTS), choices=list(_SCRIPTS))
    parser.add_argument("--grid", type=int, default=8, help="nodes a side of the learned field's grid")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing model")
    args = parser.parse_args(argv)
    provenance_path = args.out.with_suffix(".json")
    if args.out.suffix != ".npz":
        print(f"learn_hand_forms: --out {args.out} must end in .npz", file=sys.stderr)
        return 2
    if not 2 <= args.grid <= 32:
        print(f"learn_hand_forms: --grid {args.grid} is outside 2..32; pass a grid from 2 to 32 nodes", file=sys.stderr)
        return 2
    if not args.overwrite and (args.out.exists() or provenance_path.exists()):
        print(f"learn_hand_forms: {args.out} already exists; pass --overwrite to replace it", file=sys.stderr)
        return 2
    all_fields, control_fields, report, families = [], [], {}, {}
    all_edits: dict[str, list[float]] = {"length": [], "turn": [], "loop": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for script in args.scripts:
                faces = load_faces(script, Path(tmp))
                hands = [face for face in faces if face.role == "hand"]
                texts = [face for face in faces if face.role == "text"]
                if not hands or not texts:
                    print(f"learn_hand_forms: {script}: no hand and text faces both; left out", file=sys.stderr)
                    continue
                characters = letters(_SCRIPTS[script]["ranges"])
                draw = random.Random(0)
                pairs = [
                    (text, hand)
                    for hand in hands
                    for text in (draw.sample(texts, _TEXT_PER_HAND) if len(texts) > _TEXT_PER_HAND else texts)
                ]
                # The control: text faces registered to other text faces, as many pairs as there are hands.
                controls = [tuple(draw.sample(texts, 2)) for _ in range(len(hands))] if len(texts) > 1 else []
                fields, edits, quality = pair_fields(pairs, characters, args.grid)
                control, _, control_quality = pair_fields(controls, characters, args.grid)
                all_fields += fields
                control_fields += control
                for key, values in edits.items():
                    all_edits[key] += values
                report[script] = {
                    "letters": len(characters),
                    "hand_faces": len(hands),
                    "text_faces": len(texts),
                    "face_pairs": len(pairs),
                    **quality,
                    "control_text_to_text": control_quality,
                }
                for face in faces:
                    record = families.setdefault(
                        face.package,
                        {
                            "package": face.package,
                            "version": face.version,
                            "integrity": face.integrity,
                            "licence": face.licence_type,
                            "copyright": face.copyright,
                            "files": [],
                            "roles": [],
                        },
                    )
                    record["files"].append(face.file)
                    if face.role not in record["roles"]:
                        record["roles"].append(face.role)
                print(f"{script}: {json.dumps(report[script])}", file=sys.stderr, flush=True)
    except (BundleError, InputError) as error:
        print(f"learn_hand_forms: {error}", file=sys.stderr)
        return 2
    if not all_fields:
        print("learn_hand_forms: no glyph pairs were found; check the fonts", file=sys.stderr)
        return 2
    mean, components, deviations, explained = fit_gaussian(np.array(all_fields))
    if min(len(values) for values in all_edits.values()) < _LEAST_EDITS:
        counts = _edit_counts(all_edits)
        print(f"learn_hand_forms: too few stroke edits measured ({counts}); check the fonts", file=sys.stderr)
        return 2
    strokes = stroke_ranges(all_edits)
    unlicensed = sorted(name for name, record in families.items() if record["licence"] not in _FREE_LICENCES)
    if unlicensed:
        print(
            f"learn_hand_forms: {unlicensed} are under none of {sorted(_FREE_LICENCES)}; check their licences",
            file=sys.stderr,
        )
        return 2
    provenance = {
        "about": (
            "How handwriting departs from type, learned from fonts alone by scripts/learn_hand_forms.py: the "
            "displacement that turns a text face's letter into a handwriting-style face's, on the generator's "
            "working canvas, as a Gaussian over coarse grids. Letters only (Unicode Lu, Ll, Lo), never digits. "
            "The fonts are not shipped; only the fitted numbers are."
        ),
        "grid": args.grid,
        "field_unit_px": FIELD_UNIT,
        "components": len(deviations),
        "explained_variance": round(explained, 4),
        "glyph_pairs": len(all_fields),
        "mean_rms_box_units": round(float(np.sqrt(np.mean(mean**2))), 4),
        "control_rms_box_units": round(float(np.sqrt(np.mean(np.square(control_fields)))), 4)
        if control_fields
        else None,
        "stroke_edits": {
            "measured": _edit_counts(all_edits),
            "median": {key: round(float(np.median(values)), 4) for key, values in all_edits.items()},
            "ranges": {key: [round(float(v), 4) for v in np.atleast_1d(value)] for key, value in strokes.items()},
        },
        "scripts": report,
        "licences": sorted({record["licence"] for record in families.values()}),
        "families": sorted(families.values(), key=lambda record: record["package"]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.parent / f".{args.out.name}.partial-{os.getpid()}"
    partial_json = args.out.parent / f".{provenance_path.name}.partial-{os.getpid()}"
    try:
        with partial.open("wb") as file:
            np.savez(
                file,
                grid=np.int64(args.grid),
                mean=mean.astype(np.float32),
                components=components.astype(np.float32),
                deviations=deviations.astype(np.float32),
                **{key: np.asarray(value, np.float64) for key, value in strokes.items()},
            )
        partial_json.write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n")
        partial.replace(args.out)
        partial_json.replace(provenance_path)
    finally:
        partial.unlink(missing_ok=True)
        partial_json.unlink(missing_ok=True)
    print(
        f"{args.out}: {len(all_fields)} letter pairs, {len(deviations)} components ({explained:.1%} of the variance); "
        f"provenance in {provenance_path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Draw what the learned hands' forms do to a Ge'ez, a Vai and an N'Ko numeral: before and after.

    python scripts/hand_forms_grid.py --out docs/hand_forms_grid.png

One row per numeral. The first column is the exemplar as the font draws it (MNIST-normalised); the
rest are seeded samples of the learned edits alone: the stroke edits learned from letters
(``learned_strokes``), then a field drawn from ``HandForms`` (``hand_forms``), each scaled to the
glyph's clearance as in a run, without the recipe's other steps and without sanitation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.evaluation.figures import grid_figure
from generator.registry import builtin_systems
from generator.synthesis.fonts import render_glyph
from generator.synthesis.glyph import clearance
from generator.synthesis.normalize import mnist_normalize, to_canvas
from generator.synthesis.recipe import build_recipe

# (config, name in the figure, class name): a numeral each script draws its own way; real Ge'ez 4 is the one its
# readers most often miss.
NUMERALS = (("geez", "Ge'ez"), ("vai", "Vai"), ("nko", "N'Ko"))
CLASS = "4"
SAMPLES = 10


def rows(seed: int) -> tuple[list[list], list[str]]:
    """Per numeral, its exemplar and ``SAMPLES`` draws of the learned edits; and the rows' labels."""
    recipe = build_recipe(("learned_strokes", "hand_forms"), seed=seed)
    images, labels = [], []
    for config, name in NUMERALS:
        system = builtin_systems()[config]
        label = system.class_names.index(CLASS)
        canvas = to_canvas(render_glyph(system.fonts[0], chr(system.code_points[label])))
        room = clearance(canvas)
        recipe.set_random_seed(seed)
        samples = [mnist_normalize(recipe(image=canvas, clearance=room)["image"]) for _ in range(SAMPLES)]
        images.append([mnist_normalize(canvas), *samples])
        labels.append(f"{name} {CLASS} (U+{system.code_points[label]:04X})")
    return images, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if args.out.suffix != ".png":
        print(f"hand_forms_grid: --out {args.out} must end in .png", file=sys.stderr)
        return 2
    if args.out.exists() and not args.overwrite:
        print(f"hand_forms_grid: {args.out} already exists; pass --overwrite to replace it", file=sys.stderr)
        return 2
    images, labels = rows(args.seed)
    figure = grid_figure(
        images,
        title="Edits learned from letters (strokes, then a field): the font's numeral, then seeded samples",
        row_labels=labels,
        column_labels=["font", *[str(i + 1) for i in range(SAMPLES)]],
    )
    partial = args.out.with_name(f".{args.out.name}.partial")
    figure.save(partial, format="PNG")
    partial.replace(args.out)
    print(f"{args.out}: {len(images)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Stand-in handwritten seeds: a spec's font designs saved as the collection page saves drawings.

    python benchmarks/stand_in_seeds.py examples/latin_handwriting/spec.toml --designs 10 --out build/stand_in
    python benchmarks/real_transfer.py --scripts latin --rows default --configs --exemplars build/stand_in

Before any writer has drawn a script's digits, this measures what handwritten seeds could add: it
takes K designs of a spec (``design_sample``: the sample ``real_transfer.py --designs K
--design-draws draw`` takes) and writes each one's glyph of every
class as a PNG, dark ink on white with a margin of a quarter of the glyph's larger side, into one
folder per class name: the layout ``afro-mnist generate --exemplars`` reads. Fonts drawn in hands'
forms (``examples/latin_handwriting``) stand in for writers; real drawings are rougher than any font,
so what they add is an estimate, not a measurement of real seeds.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from generator.errors import InputError
from generator.registry import load_spec
from generator.synthesis.fonts import render_glyph


def design_sample(available: int, count: int, draw: int) -> list[int]:
    """Indices of ``count`` of ``available`` designs, drawn with ``random.Random(draw)``, in spec order.

    ``real_transfer.py --designs`` samples with it too, so both take the same designs.
    """
    return sorted(random.Random(draw).sample(range(available), count))


def write_seeds(spec: Path, designs: int, draw: int, out: Path) -> int:
    """Writes the seed folders into ``out``, whole or not at all; returns how many designs they hold."""
    system = load_spec(spec)
    if designs > len(system.fonts):
        raise InputError(f"--designs {designs} is more than the {len(system.fonts)} designs of {spec}; pass fewer")
    kept = design_sample(len(system.fonts), designs, draw)
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    try:
        for class_name, code_point in zip(system.class_names, system.code_points, strict=True):
            folder = partial / class_name
            folder.mkdir(parents=True)
            for index in kept:
                glyph = render_glyph(system.fonts[index], chr(code_point))
                glyph = np.pad(glyph, max(glyph.shape) // 4)
                Image.fromarray(255 - glyph).save(folder / f"design-{index:02d}.png")
        partial.rename(out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return len(kept)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", type=Path, help="a spec file whose designs stand in for writers")
    parser.add_argument("--designs", type=int, required=True, metavar="K", help="how many designs")
    parser.add_argument("--draw", type=int, default=0, help="seed of the sample of designs")
    parser.add_argument("--out", type=Path, required=True, help="a new folder for the seeds")
    args = parser.parse_args(argv)
    if args.designs < 1:
        print(f"stand_in_seeds: --designs {args.designs} is not a number of designs; pass 1 or more", file=sys.stderr)
        return 2
    if args.out.exists():
        print(f"stand_in_seeds: --out {args.out} already exists; pass a new folder", file=sys.stderr)
        return 2
    try:
        count = write_seeds(args.spec, args.designs, args.draw, args.out)
    except InputError as error:
        print(f"stand_in_seeds: {error}", file=sys.stderr)
        return 2
    print(f"{args.out}: {count} designs of {args.spec}, one PNG per class each")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The memory a generation plan takes per image, behind ``plan.PLAN_BYTES_PER_IMAGE``.

    python benchmarks/plan_memory.py              # 1,000,000 images of one split
    python benchmarks/plan_memory.py --images 200000

A split is planned whole (a shuffled label and an exemplar source per image, cut into chunks), so that a seed gives
the same images whatever the chunking. This measures, with ``tracemalloc``, what the chunks hold once planned and the
peak while planning, with font exemplars only and with handwritten seeds (which draw two more arrays).
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.modules.setdefault("torch", None)  # type: ignore[arg-type]  (not needed to plan; seconds to import)

from generator.generate import ROWS_PER_SHARD  # noqa: E402
from generator.registry import builtin_systems  # noqa: E402
from generator.synthesis.plan import CHUNK_SIZE, PLAN_BYTES_PER_IMAGE, plan_chunks  # noqa: E402
from generator.synthesis.seeds import Seed, SeedSet  # noqa: E402


def bytes_per_image(images: int, seeds: SeedSet | None) -> tuple[float, float]:
    system = builtin_systems()["geez"]
    tracemalloc.start()
    chunks = plan_chunks(system, "train", images, 0, CHUNK_SIZE, ROWS_PER_SHARD, seeds)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del chunks
    return held / images, peak / images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    args = parser.parse_args()
    blank = np.zeros((1, 1), np.uint8)
    seeds = SeedSet(
        Path("seeds"),
        0.5,
        tuple(Seed(f"{label}/{i}.png", label, "0" * 64, blank, blank) for label in range(10) for i in range(300)),
    )
    print(f"| plan of {args.images:,} images | bytes/image held | bytes/image at peak |")
    print("| --- | ---: | ---: |")
    for what, seed_set in (("fonts only", None), ("with 300 seeds per class", seeds)):
        held, peak = bytes_per_image(args.images, seed_set)
        print(f"| {what} | {held:.1f} | {peak:.1f} |")
    print(f"\nplan.PLAN_BYTES_PER_IMAGE = {PLAN_BYTES_PER_IMAGE}")


if __name__ == "__main__":
    main()

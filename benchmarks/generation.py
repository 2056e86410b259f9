"""Generation speed and memory, measured in one run so that the ratios are fair on a noisy machine.

    python benchmarks/generation.py               # full size: four configs, 280,000 images
    python benchmarks/generation.py --scale 0.1   # a quick look

It reports, as a Markdown table:

- the bare saved recipe alone (``albumentations.load`` of recipe.json applied to exemplar canvases),
  on 1 and on 2 processes;
- the whole pipeline (plan, deform, normalise, sanitation, PNG, parquet, metadata) via ``generate()``,
  on 1 and 2 workers, each in a fresh process, with its wall time and peak resident memory; as
  images written per second, and as recipe runs per second (sanitation's redraws included);
- peak memory of one config generated at 1/4, 1/2 and all of the given size, to show that memory is
  bounded by shards, not by the dataset.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import albumentations as A
import cv2

from generator.generate import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE, generate
from generator.layout import read_metadata
from generator.recipe import default_recipe, load_recipe, save_recipe
from generator.registry import DEFAULT_CONFIGS, builtin_systems
from generator.synthesis import exemplar_canvases

_state: dict = {}


def _init_bare(recipe_path: str) -> None:
    cv2.setNumThreads(1)
    _state["recipe"] = load_recipe(Path(recipe_path))
    _state["canvases"] = [
        c for name in DEFAULT_CONFIGS for font in exemplar_canvases(builtin_systems()[name]) for c in font
    ]


def _bare(count_and_seed: tuple[int, int]) -> int:
    count, seed = count_and_seed
    recipe: A.Compose = _state["recipe"]
    canvases = _state["canvases"]
    recipe.set_random_seed(seed)
    for i in range(count):
        recipe(image=canvases[i % len(canvases)])
    return count


def bare_recipe_rate(recipe_path: Path, images: int, processes: int) -> float:
    """Images per second of the saved recipe alone, spread over ``processes``."""
    if processes == 1:
        _init_bare(str(recipe_path))
        start = time.perf_counter()
        _bare((images, 0))
        return images / (time.perf_counter() - start)
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_init_bare, initargs=(str(recipe_path),)) as pool:
        pool.map(_bare, [(10, seed) for seed in range(processes)])  # warm every process up
        start = time.perf_counter()
        pool.map(_bare, [(images // processes, seed) for seed in range(processes)])
        return images / (time.perf_counter() - start)


def run_child(configs: list[str], train_size: int, test_size: int, workers: int) -> dict:
    """Runs the whole pipeline in a fresh process and returns its wall time and peak memory.

    The process is started with ``python -c``, as the ``afro-mnist`` command is from a script that
    imports little: a spawned worker re-imports its parent's main file, and this file imports far
    more than the command does.
    """
    here = str(Path(__file__).parent)
    code = f"import sys; sys.path.insert(0, {here!r}); import generation; generation._child(sys.argv[1])"
    command = [sys.executable, "-c", code, json.dumps([configs, train_size, test_size, workers])]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def _child(spec: str) -> None:
    configs, train_size, test_size, workers = json.loads(spec)
    systems = [builtin_systems()[name] for name in configs]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        folders = generate(
            systems, Path(out), train_size=train_size, test_size=test_size, workers=workers, progress=False
        )
        seconds = time.perf_counter() - start
        # Sanitation redraws some samples: each redraw is one more run of the recipe.
        redrawn = sum(
            read_metadata(folder)["sanitation"]["samples"][split]["redrawn"]
            for folder in folders
            for split in ("train", "test")
        )
    images = (train_size + test_size) * len(systems)
    print(
        json.dumps(
            {
                "images": images,
                "redrawn": redrawn,
                "seconds": seconds,
                "rate": images / seconds,
                "draw_rate": (images + redrawn) / seconds,
                # ru_maxrss is in KiB on Linux; children are the pool's workers, the largest one counts.
                "main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full 60,000/10,000 sizes")
    parser.add_argument("--bare-images", type=int, default=20_000, help="images for each bare-recipe rate")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return

    def size(full: int, fraction: float = 1.0) -> int:
        return max(10, round(full * args.scale * fraction / 10) * 10)

    train, test = size(DEFAULT_TRAIN_SIZE), size(DEFAULT_TEST_SIZE)
    configs = list(DEFAULT_CONFIGS)
    with tempfile.TemporaryDirectory() as tmp:
        recipe_path = Path(tmp) / "recipe.json"
        save_recipe(default_recipe(), recipe_path)
        bare_1 = bare_recipe_rate(recipe_path, args.bare_images, 1)
        bare_2 = bare_recipe_rate(recipe_path, args.bare_images, 2)
    whole_1 = run_child(configs, train, test, 1)
    whole_2 = run_child(configs, train, test, 2)
    growth = [
        (fraction, run_child(["vai"], size(DEFAULT_TRAIN_SIZE, fraction), size(DEFAULT_TEST_SIZE, fraction), 2))
        for fraction in (0.25, 0.5, 1.0)
    ]

    images = (train + test) * len(configs)
    print(f"## Generation benchmark: {len(configs)} configs x ({train:,} + {test:,}) = {images:,} images\n")
    print(
        "| what | workers | images/s | x bare recipe on 1 core | recipe runs/s, redraws included | x bare | "
        "wall s | peak MiB main / worker |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| bare saved recipe | 1 | {bare_1:,.0f} | 1.00 | {bare_1:,.0f} | 1.00 | | |")
    print(
        f"| bare saved recipe | 2 | {bare_2:,.0f} | {bare_2 / bare_1:.2f} | {bare_2:,.0f} | {bare_2 / bare_1:.2f} | | |"
    )
    for workers, whole in ((1, whole_1), (2, whole_2)):
        print(
            f"| whole pipeline | {workers} | {whole['rate']:,.0f} | {whole['rate'] / bare_1:.2f} | "
            f"{whole['draw_rate']:,.0f} | {whole['draw_rate'] / bare_1:.2f} | "
            f"{whole['seconds']:.1f} | {whole['main_mib']:.0f} / {whole['worker_mib']:.0f} |"
        )
    share = whole_2["redrawn"] / whole_2["images"]
    print(f"\nSanitation redrew {whole_2['redrawn']:,} draws ({share:.1%} of the images).")
    print("\n| vai, 2 workers | images | wall s | peak MiB main / worker |")
    print("| --- | --- | --- | --- |")
    for fraction, run in growth:
        print(
            f"| {fraction:.2f} x size | {run['images']:,} | {run['seconds']:.1f} | "
            f"{run['main_mib']:.0f} / {run['worker_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()

"""Generation speed and memory, measured in one run so that the ratios are fair on a noisy machine.

    python benchmarks/generation.py               # full size: four configs, 280,000 images
    python benchmarks/generation.py --scale 0.1   # a quick look

It reports, as a Markdown table:

- the bare saved recipe alone (``albumentations.load`` of recipe.json applied to exemplar canvases),
  on 1 and on 2 processes: the median of four samples, taken before, between and after the
  pipeline runs, since a shared machine's speed drifts over minutes;
- the whole pipeline (plan, deform, normalise, sanitation, PNG, parquet, metadata) via ``generate()``,
  on 1 and 2 workers, each in a fresh process, with its wall time and peak resident memory; as
  images written per second, and as recipe runs per second (sanitation's redraws included);
- the efficiency on 2 workers: the pipeline's marginal recipe runs per second (between half and full
  size, so that start-up cancels out) over twice the bare recipe's rate on one core;
- the whole pipeline on 2 workers without sanitation (``--no-sanitize``): every recipe run is then
  an image written, which shows what sanitation's redraws and checks cost;
- peak memory of one config generated at 1/4, 1/2 and all of the given size, to show that memory is
  bounded by shards, not by the dataset.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import albumentations as A
import cv2

from generator.generate import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE, GenerateSettings, generate
from generator.layout import read_metadata
from generator.registry import builtin_systems, paper_configs
from generator.synthesis.glyph import clearance
from generator.synthesis.recipe import CLEARANCE_KEY, default_recipe, load_recipe, save_recipe
from generator.synthesis.synthesizer import exemplar_canvases

_state: dict = {}


def _init_bare(recipe_path: str) -> None:
    cv2.setNumThreads(1)
    _state["recipe"] = load_recipe(Path(recipe_path))
    # Each canvas with its clearance, as the pipeline hands them to the recipe.
    _state["inputs"] = [
        {"image": canvas, CLEARANCE_KEY: clearance(canvas)}
        for name in paper_configs()
        for font in exemplar_canvases(builtin_systems()[name])
        for canvas in font
        if canvas is not None
    ]


def _bare(count_and_seed: tuple[int, int]) -> int:
    count, seed = count_and_seed
    recipe: A.Compose = _state["recipe"]
    inputs = _state["inputs"]
    recipe.set_random_seed(seed)
    for i in range(count):
        recipe(**inputs[i % len(inputs)])
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


def run_child(configs: list[str], train_size: int, test_size: int, workers: int, sanitize: bool = True) -> dict:
    """Runs the whole pipeline in a fresh process and returns its wall time and peak memory.

    The process is started with ``python -c``, as the ``afro-mnist`` command is from a script that
    imports little: a spawned worker re-imports its parent's main file, and this file imports far
    more than the command does.
    """
    here = str(Path(__file__).parent)
    code = f"import sys; sys.path.insert(0, {here!r}); import generation; generation._child(sys.argv[1])"
    command = [sys.executable, "-c", code, json.dumps([configs, train_size, test_size, workers, sanitize])]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


class WorkerPeaks(threading.Thread):
    """Samples the peak resident memory (``VmHWM``) of this process's children, the pool's workers.

    ``RUSAGE_CHILDREN`` cannot tell it: on Linux a child's peak starts from its parent's at the
    fork that precedes ``exec``, so it reports the main process's size at the moment the pool starts.
    """

    def __init__(self, every: float = 0.5):
        super().__init__(daemon=True)
        self.every = every
        self.peaks: dict[int, int] = {}  # pid -> KiB
        self.stopped = threading.Event()

    def run(self) -> None:
        parent = str(os.getpid())
        while not self.stopped.wait(self.every):
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
                except OSError:  # the process ended while being read
                    continue
                if fields.get("PPid", "").strip() == parent and "VmHWM" in fields:
                    pid = int(status.parent.name)
                    self.peaks[pid] = max(self.peaks.get(pid, 0), int(fields["VmHWM"].split()[0]))

    def largest_mib(self) -> float:
        self.stopped.set()
        self.join()
        return max(self.peaks.values(), default=0) / 1024


def _child(spec: str) -> None:
    configs, train_size, test_size, workers, sanitize = json.loads(spec)
    systems = [builtin_systems()[name] for name in configs]
    peaks = WorkerPeaks()
    peaks.start()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        folders = generate(
            systems,
            Path(out),
            GenerateSettings(
                train_size=train_size, test_size=test_size, workers=workers, progress=False, sanitize=sanitize
            ),
        )
        seconds = time.perf_counter() - start
        # Sanitation redraws some samples: each redraw is one more run of the recipe.
        samples = [read_metadata(folder)["sanitation"]["samples"] for folder in folders]
        redrawn = sum(info[split]["redrawn"] for info in samples if info for split in ("train", "test"))
    images = (train_size + test_size) * len(systems)
    print(
        json.dumps(
            {
                "images": images,
                "redrawn": redrawn,
                "seconds": seconds,
                "rate": images / seconds,
                "draw_rate": (images + redrawn) / seconds,
                "main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
                # The largest worker; with 1 worker the pipeline runs in the main process.
                "worker_mib": peaks.largest_mib(),
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
    configs = list(paper_configs())
    with tempfile.TemporaryDirectory() as tmp:
        recipe_path = Path(tmp) / "recipe.json"
        save_recipe(default_recipe(), recipe_path)

        def bare() -> tuple[float, float]:
            return tuple(bare_recipe_rate(recipe_path, args.bare_images, processes) for processes in (1, 2))

        # The machine's speed drifts over minutes, so the bare rates are sampled before, between and
        # after the pipeline runs, and each ratio uses their median.
        samples = [bare()]
        whole_1 = run_child(configs, train, test, 1)
        samples.append(bare())
        whole_2 = run_child(configs, train, test, 2)
        half_2 = run_child(configs, size(DEFAULT_TRAIN_SIZE, 0.5), size(DEFAULT_TEST_SIZE, 0.5), 2)
        samples.append(bare())
        unsanitized_2 = run_child(configs, train, test, 2, sanitize=False)
        samples.append(bare())
    bare_1, bare_2 = (statistics.median(rates) for rates in zip(*samples, strict=True))
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
    for what, workers, whole in (
        ("whole pipeline", 1, whole_1),
        ("whole pipeline", 2, whole_2),
        ("whole pipeline, no sanitation", 2, unsanitized_2),
    ):
        print(
            f"| {what} | {workers} | {whole['rate']:,.0f} | {whole['rate'] / bare_1:.2f} | "
            f"{whole['draw_rate']:,.0f} | {whole['draw_rate'] / bare_1:.2f} | "
            f"{whole['seconds']:.1f} | {whole['main_mib']:.0f} / {_mib(whole['worker_mib'])} |"
        )
    print()
    for processes, rates in zip((1, 2), zip(*samples, strict=True), strict=True):
        spread = f"{min(rates):,.0f} to {max(rates):,.0f} images/s"
        print(f"Bare recipe on {processes} process(es), {len(rates)} samples: {spread}.")
    # Efficiency: the pipeline's marginal recipe runs per second on 2 workers (the extra runs of the
    # full size over half of it, per extra second, so that start-up cancels out), against twice the
    # bare recipe's rate on one core.
    marginal = (whole_2["images"] + whole_2["redrawn"] - half_2["images"] - half_2["redrawn"]) / (
        whole_2["seconds"] - half_2["seconds"]
    )
    print(
        f"Efficiency on 2 workers: {marginal:,.0f} marginal recipe runs/s / (2 x {bare_1:,.0f}) = "
        f"{marginal / (2 * bare_1):.2f} (half size took {half_2['seconds']:.1f} s, "
        f"full size {whole_2['seconds']:.1f} s)."
    )
    share = whole_2["redrawn"] / whole_2["images"]
    print(f"Sanitation redrew {whole_2['redrawn']:,} draws ({share:.1%} of the images).")
    print("\n| vai, 2 workers | images | wall s | peak MiB main / worker |")
    print("| --- | --- | --- | --- |")
    for fraction, run in growth:
        print(
            f"| {fraction:.2f} x size | {run['images']:,} | {run['seconds']:.1f} | "
            f"{run['main_mib']:.0f} / {_mib(run['worker_mib'])} |"
        )


def _mib(value: float) -> str:
    return f"{value:.0f}" if value else "-"


if __name__ == "__main__":
    main()

"""Loading speed: a config's parquet shards to NumPy arrays, against bare PNG decoding, in one run.

    python benchmarks/loading.py                        # geez from build/afro_mnist, best of 5
    python benchmarks/loading.py --config vai --from /tmp/build --repeats 3 --datasets

It times, for every image of both splits of one config:

- bare decoding: OpenCV decoding each PNG, its bytes already in memory, into a preallocated array
  (the floor for any loader that stores PNGs), and Pillow's decoder once, for reference;
- ``generator.repository.export.load_data``: from the files on disk, with its checks, to ``uint8`` images and labels;
- with ``--datasets``, the card's NumPy snippet: ``load_dataset("parquet", ...).with_format("numpy")[:]``
  on a fresh cache (it converts every image through Pillow).

Runs are interleaved and the best of ``--repeats`` is kept, so a busy shared machine slows every
row alike. The result is a Markdown table; the target is ``load_data`` within 1.5x of bare decoding.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
from PIL import Image

from generator.layout import DEFAULT_BUILD_DIR, config_folder
from generator.repository.export import load_data

TARGET = 1.5


def png_bytes_of(folder: Path) -> list[bytes]:
    """Every PNG of a config folder, train then test, as Python bytes."""
    shards = sorted(folder.glob("train-*.parquet")) + sorted(folder.glob("test-*.parquet"))
    blobs: list[bytes] = []
    for shard in shards:
        column = pq.read_table(shard, columns=["image"]).column("image").combine_chunks()
        blobs.extend(pc.struct_field(column, "bytes").to_pylist())
    return blobs


def decode_with_opencv(blobs: list[bytes]) -> np.ndarray:
    out = np.empty((len(blobs), 28, 28), np.uint8)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # as load_data does: faster for tiny images
    try:
        for index, blob in enumerate(blobs):
            out[index] = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_UNCHANGED)
    finally:
        cv2.setNumThreads(threads)
    return out


def decode_with_pillow(blobs: list[bytes]) -> np.ndarray:
    out = np.empty((len(blobs), 28, 28), np.uint8)
    for index, blob in enumerate(blobs):
        with Image.open(io.BytesIO(blob)) as image:
            out[index] = np.asarray(image)
    return out


def load_with_datasets(folder: Path) -> np.ndarray:
    from datasets import disable_progress_bars, load_dataset

    disable_progress_bars()
    files = {"train": str(folder / "train-*.parquet"), "test": str(folder / "test-*.parquet")}
    with tempfile.TemporaryDirectory() as cache:
        splits = load_dataset("parquet", data_files=files, cache_dir=cache).with_format("numpy")
        return np.concatenate([splits["train"][:]["image"], splits["test"][:]["image"]])


def seconds_for(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="geez")
    parser.add_argument("--from", dest="build_dir", type=Path, default=DEFAULT_BUILD_DIR, metavar="DIR")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each timing; the best is kept")
    parser.add_argument(
        "--datasets", action="store_true", help="also time the Hugging Face datasets NumPy route (slow)"
    )
    args = parser.parse_args()

    folder = config_folder(args.config, args.build_dir)
    blobs = png_bytes_of(folder)
    (x_train, _), (x_test, _) = load_data(args.config, args.build_dir)  # warms the page cache
    if not np.array_equal(np.concatenate([x_train, x_test]), decode_with_opencv(blobs)):
        raise SystemExit("load_data and bare decoding disagree")

    timings: dict[str, list[float]] = {"bare": [], "load_data": []}
    for _ in range(args.repeats):
        timings["bare"].append(seconds_for(lambda: decode_with_opencv(blobs)))
        timings["load_data"].append(seconds_for(lambda: load_data(args.config, args.build_dir)))
    rows = [
        ("bare PNG decode, OpenCV (bytes in memory)", min(timings["bare"])),
        ("`load_data`: parquet on disk to arrays, checked", min(timings["load_data"])),
        ("bare PNG decode, Pillow (bytes in memory, 1 run)", seconds_for(lambda: decode_with_pillow(blobs))),
    ]
    if args.datasets:
        rows.append(
            (
                'datasets `load_dataset(...).with_format("numpy")[:]`, fresh cache (1 run)',
                seconds_for(lambda: load_with_datasets(folder)),
            )
        )

    bare = rows[0][1]
    print(f"## Loading `{args.config}`: {len(blobs):,} images, best of {args.repeats}\n")
    print("| what | seconds | images/s | x bare decode |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {len(blobs) / seconds:,.0f} | {seconds / bare:.2f} |")
    ratio = rows[1][1] / bare
    verdict = "within" if ratio <= TARGET else "OVER"
    print(f"\n`load_data` takes {ratio:.2f}x bare decoding: {verdict} the {TARGET}x target.")


if __name__ == "__main__":
    main()

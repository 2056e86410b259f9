"""Variety aimed at what the reader finds hard: keep, of two generated images of a class, the one a proxy reads worse.

    python benchmarks/proxy_selection.py --train-size 20000 --epochs 5 --seeds 0 1 2 --json results/proxy_selection.json

Issue 28's second direction, measured before it is built into the generator. For each script with a real
development set, ``generate`` makes a pool of twice ``--train-size`` images with the default recipe (every one
already through sanitation, so legible by its structure checks). A proxy reader, LeNet-5 trained for
``--proxy-epochs`` on that pool alone (generated data only, never real digits), scores every image; the pool's
images of each class are paired in the order generated, and two training sets of ``--train-size`` are taken:

- **hard**: of each pair, the image the proxy gives the lower probability of its own class;
- **control**: of each pair, the first image: a random half of the same pool.

LeNet-5 is trained on each once per training seed and scored on the real digits and on the generated test split,
as ``real_transfer.py`` scores its rows. The real images only score; they never reach generation or training.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from real_transfer import REAL_SET, SCRIPTS, Row, system_for  # this folder is on the path when run as a script

import generator
from generator.evaluation import baseline
from generator.evaluation.realdata import score
from generator.generate import GenerateSettings, generate
from generator.layout import read_metadata
from generator.repository.export import load_split
from generator.synthesis.recipe import INGREDIENT_NAMES

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROW = Row("default", "the default", INGREDIENT_NAMES, True, True)


def own_class_probability(model, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The proxy's softmax probability of each image's own label."""
    torch = baseline.import_torch()
    out = np.empty(len(images))
    with baseline.deterministic_torch(seed=0), torch.inference_mode():
        model.eval()
        for start in range(0, len(images), 1024):
            batch = torch.from_numpy(np.ascontiguousarray(images[start : start + 1024])).float().div(255.0)
            probabilities = torch.softmax(model(batch.unsqueeze(1)), dim=1).numpy()
            out[start : start + 1024] = probabilities[np.arange(len(probabilities)), labels[start : start + 1024]]
    return out


def pairs_by_class(labels: np.ndarray) -> list[tuple[int, int]]:
    """Each class's images in the order generated, paired off (an odd one out is left out)."""
    pairs = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        pairs += list(zip(members[0:-1:2].tolist(), members[1::2].tolist(), strict=True))
    return sorted(pairs)


def choose(
    x_pool: np.ndarray, y_pool: np.ndarray, num_classes: int, proxy_epochs: int, proxy_seed: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The proxy's probability of each pool image's own class, and the indices of the two training sets.

    The proxy is LeNet-5 trained on the pool alone for ``proxy_epochs`` with ``proxy_seed``: the same pool and seed
    give the same choice. ``hard`` holds, of each pair of a class's images, the one the proxy reads worse; ``control``
    the first of each pair.
    """
    proxy = baseline.train(x_pool, y_pool, num_classes, baseline.TrainingSettings(epochs=proxy_epochs, seed=proxy_seed))
    read = own_class_probability(proxy, x_pool, y_pool)
    pairs = np.array(pairs_by_class(y_pool))
    worse = np.where(read[pairs[:, 0]] <= read[pairs[:, 1]], pairs[:, 0], pairs[:, 1])
    return read, {"hard": np.sort(worse), "control": np.sort(pairs[:, 0])}


def measure(name: str, args: argparse.Namespace, scratch: Path) -> dict:
    system = system_for(name, DEFAULT_ROW)
    started = time.perf_counter()
    (folder,) = generate(
        [system],
        scratch / name,
        GenerateSettings(
            seed=args.seed,
            train_size=2 * args.train_size,
            test_size=args.test_size,
            workers=args.workers,
            overwrite=True,
            progress=False,
        ),
    )
    generate_seconds = time.perf_counter() - started
    metadata = read_metadata(folder)
    x_pool, y_pool = load_split(folder, "train", metadata)
    x_test, y_test = load_split(folder, "test", metadata)
    real_name = REAL_SET.get(name, name)
    x_real = np.load(args.real_dir / f"{real_name}_x.npy")
    y_real = np.load(args.real_dir / f"{real_name}_y.npy").astype(np.int64)
    read, chosen = choose(x_pool, y_pool, system.num_classes, args.proxy_epochs, args.proxy_seed)
    result = {
        "script": name,
        "pool": len(y_pool),
        "generate_seconds": round(generate_seconds, 1),
        "proxy_pool_accuracy": float(np.mean(read > 0.5)),
        "proxy_probability_kept": {key: float(np.mean(read[index])) for key, index in chosen.items()},
    }
    for key, index in chosen.items():
        runs = []
        for seed in args.seeds:
            model = baseline.train(
                x_pool[index],
                y_pool[index],
                system.num_classes,
                baseline.TrainingSettings(epochs=args.epochs, seed=seed),
            )
            runs.append(
                {
                    "seed": seed,
                    "real_accuracy": score(model, x_real, y_real, system.num_classes).accuracy,
                    "synthetic_test_accuracy": score(model, x_test, y_test, system.num_classes).accuracy,
                }
            )
        for measure_name in ("real_accuracy", "synthetic_test_accuracy"):
            values = [run[measure_name] for run in runs]
            result[f"{key}_{measure_name}"] = float(np.mean(values))
            result[f"{key}_{measure_name}_range"] = [float(min(values)), float(max(values))]
        result[f"{key}_runs"] = runs
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-dir", type=Path, default=ROOT.parent / "shared" / "data" / "realdigits")
    parser.add_argument("--scripts", nargs="*", default=list(SCRIPTS), choices=list(SCRIPTS))
    parser.add_argument("--train-size", type=int, default=20_000, help="images each model trains on")
    parser.add_argument("--test-size", type=int, default=2_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--proxy-epochs", type=int, default=1)
    parser.add_argument("--proxy-seed", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    parser.add_argument("--seed", type=int, default=0, help="generation seed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    for script in args.scripts:
        for suffix in ("x", "y"):
            path = args.real_dir / f"{REAL_SET.get(script, script)}_{suffix}.npy"
            if not path.is_file():
                print(f"proxy_selection: {path} is missing; pass --real-dir", file=sys.stderr)
                return 2
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for script in args.scripts:
            results.append(measure(script, args, Path(tmp)))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print("\n| script | control (random half) real | hard (proxy's worse of two) real | control gen. | hard gen. |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in results:
        cells = []
        for key in ("control_real_accuracy", "hard_real_accuracy", "control_synthetic_test_accuracy",
                    "hard_synthetic_test_accuracy"):  # fmt: skip
            low, high = r[f"{key}_range"]
            cells.append(f"{r[key]:.1%} ({low:.1%} to {high:.1%})")
        print(f"| {r['script']} | " + " | ".join(cells) + " |")
    if args.json:
        document = {
            "about": (
                "Proxy selection, written by `python benchmarks/proxy_selection.py --json FILE`: of two generated "
                "images of a class, the one a proxy LeNet-5 (trained on the pool only) reads worse, against a random "
                "half of the same pool; scored on real digits that stay outside the repository."
            ),
            "generator_version": generator.__version__,
            "train_size": args.train_size,
            "test_size": args.test_size,
            "seed": args.seed,
            "epochs": args.epochs,
            "proxy_epochs": args.proxy_epochs,
            "proxy_seed": args.proxy_seed,
            "training_seeds": args.seeds,
            "results": results,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

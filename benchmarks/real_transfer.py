"""Synthetic-to-real transfer: train LeNet-5 on generated digits only, score it on real handwriting.

    python benchmarks/real_transfer.py                       # every ablation row, full size
    python benchmarks/real_transfer.py --rows plain default  # the paper's plain recipe and ours
    python benchmarks/real_transfer.py --train-size 30000    # a quicker, smaller ablation

For each script with a real development set (``examples/<script>/spec.toml`` and
``<real-dir>/<script>_x.npy``, ``_y.npy``) and each row, it generates the config, trains the
baseline with the fixed training recipe (``generator.baseline.TrainingSettings()``: LeNet-5, Adam,
10 epochs, seed 0), and reports accuracy on the real digits and on the generated test split.

The rows add the recipe's ingredients one at a time, in ``generator.recipe.INGREDIENTS`` order,
starting from the paper's plain recipe (the spec's first font, ElasticTransform only); the last
row adds sanitation and is the default. All rows of one run use the same seeds and sizes, so they
compare directly. The real images are used only to score; they never reach generation or training.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from generator import baseline
from generator.export import load_split
from generator.generate import generate
from generator.layout import read_metadata
from generator.realdata import read_real_npz
from generator.recipe import INGREDIENTS, PLAIN, build_recipe
from generator.registry import load_spec

ROOT = Path(__file__).resolve().parents[1]
# "latin" is scored on the MNIST test set; its spec holds text faces only, so MNIST measures the recipe.
SCRIPTS = ("tamil", "malayalam", "latin")


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    label: str
    ingredients: tuple[str, ...]
    all_fonts: bool
    sanitize: bool


def ablation_rows() -> list[Row]:
    rows = [Row("plain", "plain: one font, ElasticTransform only", PLAIN, False, False)]
    rows.append(Row("fonts", "+ every font design", PLAIN, True, False))
    chosen = list(PLAIN)
    for name, what in INGREDIENTS.items():
        if name in PLAIN:
            continue
        chosen.append(name)
        rows.append(Row(name, f"+ {what}", tuple(chosen), True, False))
    rows.append(Row("default", "+ sanitation (the default)", tuple(chosen), True, True))
    return rows


def real_digits(real_dir: Path, script: str, scratch: Path) -> Path:
    """The real set as the ``.npz`` that ``evaluate-real`` reads, written to scratch space."""
    x = np.load(real_dir / f"{script}_x.npy")
    y = np.load(real_dir / f"{script}_y.npy")
    path = scratch / f"{script}_real.npz"
    np.savez(path, x=x, y=y)
    return path


def measure(row: Row, script: str, real_npz: Path, args: argparse.Namespace, scratch: Path) -> dict:
    system = load_spec(ROOT / "examples" / script / "spec.toml")
    if not row.all_fonts:
        system = dataclasses.replace(system, fonts=system.fonts[:1])
    out = scratch / row.name
    start = time.perf_counter()
    (folder,) = generate(
        [system],
        out,
        seed=args.seed,
        train_size=args.train_size,
        test_size=args.test_size,
        workers=args.workers,
        overwrite=True,
        progress=False,
        recipe=build_recipe(row.ingredients),
        sanitize=row.sanitize,
    )
    generate_seconds = time.perf_counter() - start
    metadata = read_metadata(folder)
    x_train, y_train = load_split(folder, "train", metadata)
    x_test, y_test = load_split(folder, "test", metadata)
    settings = baseline.TrainingSettings()
    start = time.perf_counter()
    model = baseline.train(x_train, y_train, system.num_classes, settings)
    train_seconds = time.perf_counter() - start
    real = read_real_npz(real_npz, system.num_classes)
    predicted = baseline.predict(model, real.images)
    per_class = [float((predicted[real.labels == c] == c).mean()) for c in range(system.num_classes)]
    samples = metadata["sanitation"]["samples"]
    return {
        "row": row.name,
        "script": script,
        "real_accuracy": float((predicted == real.labels).mean()),
        "real_per_class": per_class,
        "synthetic_test_accuracy": float((baseline.predict(model, x_test) == y_test).mean()),
        "fonts": len(system.fonts),
        "redrawn_share": samples["train"]["redrawn_share"] if samples else None,
        "generate_seconds": round(generate_seconds, 1),
        "train_seconds": round(train_seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    rows = {row.name: row for row in ablation_rows()}
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-dir", type=Path, default=ROOT.parent / "shared" / "data" / "realdigits")
    parser.add_argument("--scripts", nargs="+", default=list(SCRIPTS), choices=SCRIPTS)
    parser.add_argument("--rows", nargs="+", default=list(rows), choices=list(rows))
    parser.add_argument("--train-size", type=int, default=60_000)
    parser.add_argument("--test-size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    for script in args.scripts:
        for suffix in ("x", "y"):
            if not (args.real_dir / f"{script}_{suffix}.npy").is_file():
                print(
                    f"real_transfer: {args.real_dir / f'{script}_{suffix}.npy'} is missing; pass --real-dir",
                    file=sys.stderr,
                )
                return 2

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        real = {script: real_digits(args.real_dir, script, scratch) for script in args.scripts}
        for name in args.rows:
            for script in args.scripts:
                result = measure(rows[name], script, real[script], args, scratch)
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)

    print(
        f"\n{args.train_size:,} train images, {args.test_size:,} test, seed {args.seed}, "
        f"LeNet-5 {baseline.TrainingSettings().epochs} epochs\n"
    )
    header = " | ".join(f"{script} real | {script} generated test" for script in args.scripts)
    print(f"| recipe | {header} |")
    print("| --- |" + " --- |" * (2 * len(args.scripts)))
    for name in args.rows:
        cells = []
        for script in args.scripts:
            (result,) = [r for r in results if r["row"] == name and r["script"] == script]
            cells += [f"{result['real_accuracy']:.2%}", f"{result['synthetic_test_accuracy']:.2%}"]
        print(f"| {rows[name].label} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

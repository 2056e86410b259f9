"""Synthetic-to-real transfer: train LeNet-5 on generated digits only, score it on real handwriting.

    python benchmarks/real_transfer.py                              # every row, full size, 3 seeds
    python benchmarks/real_transfer.py --rows plain default         # the paper's plain recipe and ours
    python benchmarks/real_transfer.py --train-size 20000 --epochs 5 --seeds 0   # a quick look
    python benchmarks/real_transfer.py --json results/real_transfer.json   # refresh the card's figures
    python benchmarks/real_transfer.py --scripts latin latin_handwriting --rows default   # what hands' forms add
    python benchmarks/real_transfer.py --scripts tamil --rows default --designs 4 7 --design-draws 0 1

For each script with a real development set (``examples/<script>/spec.toml`` and
``<real-dir>/<script>_x.npy``, ``_y.npy``: Tamil, Malayalam, and Latin scored on the MNIST test set)
and each row, it generates the config, trains the baseline (``generator.evaluation.baseline``: LeNet-5, Adam
1e-3, batch 128) once per training seed, and reports accuracy on the real digits and on the
generated test split, as the mean and the range over the seeds. The real digits are scored as they
are stored (already 28x28, white on black), as an outside scorer would feed them; ``--renormalise``
also scores them after ``evaluate-real``'s cleaning and MNIST normalisation. With ``--configs``,
the built-in configs (which have no real set) are generated and scored on their own test split in
the same run: a recipe that makes illegible numerals shows there.

The rows add the recipe's ingredients one at a time, in ``generator.synthesis.recipe.INGREDIENTS`` order,
starting from the paper's plain recipe (the spec's first font, ElasticTransform only); then sanitation, which
gives the default; then the default without glyph-relative strengths (every transform at full strength whatever
the glyph's clearance). The hard-variety rows (issue 28) add to the default each ingredient of
``OPTIONAL_INGREDIENTS`` (``wide_affine``, ``perspective``, ``pieces``), then all of them (``hard``). All rows
The learned rows (issue 28) replace the default's stroke edits with those learned from handwriting-style
letters (``learned_strokes``), add the field learned from them (``hand_forms``), or both (``learned``); the
``hand_forms_*`` rows (``HAND_FORMS_VARIANTS``) are the field's variants, each set by HandForms' arguments. All rows
of one run use the same seeds and sizes, so they compare directly. ``latin_handwriting`` (handwriting-style
families, apart from the text faces) is scored on the MNIST test set too, to show what fonts that already draw
hands' forms add. ``--designs K`` generates each script from K of its designs instead of all: a sample drawn
with ``random.Random(draw)``, kept in spec order, once per ``--design-draws`` seed. ``--exemplars DIR`` adds
handwritten seeds to the one script scored (``--exemplar-weight``, the share of images drawn from them, as
``afro-mnist generate`` takes it; ``stand_in_seeds.py`` makes some from fonts drawn in hands' forms). The real
images only score; they never reach generation or training. ``--json`` writes every number. Each model is scored
as ``afro-mnist evaluate-real`` scores one (``generator.evaluation.realdata.score``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import albumentations as A
import numpy as np
from stand_in_seeds import design_sample  # this folder is on the path when a benchmark runs as a script

import generator
from generator.errors import InputError
from generator.evaluation import baseline
from generator.evaluation.realdata import read_real_npz, score
from generator.generate import GenerateSettings, generate
from generator.layout import read_metadata
from generator.registry import NumeralSystem, builtin_systems, default_configs, load_spec
from generator.repository.export import load_split
from generator.settings import DEFAULT_WEIGHT
from generator.synthesis.recipe import (
    INGREDIENT_NAMES,
    INGREDIENTS,
    LEARNED_INGREDIENTS,
    OPTIONAL_INGREDIENTS,
    PLAIN,
    HandForms,
    build_recipe,
)

ROOT = Path(__file__).resolve().parents[1]
# "latin" is scored on the MNIST test set; its spec holds text faces only, so MNIST measures the recipe.
SCRIPTS = ("tamil", "malayalam", "latin")
# Example specs scored on another script's real set: the handwriting-style Latin families, on MNIST.
REAL_SET = {"latin_handwriting": "latin"}


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    label: str
    ingredients: tuple[str, ...]
    all_fonts: bool
    sanitize: bool
    glyph_relative: bool = True
    # Arguments set on the recipe's HandForms step: the learned field's variants (``HAND_FORMS_VARIANTS``).
    hand_forms: tuple[tuple[str, object], ...] = ()


def ablation_rows() -> list[Row]:
    rows = [Row("plain", "plain: one font, ElasticTransform only", PLAIN, False, False)]
    rows.append(Row("fonts", "+ every font design", PLAIN, True, False))
    chosen = list(PLAIN)
    for ingredient in INGREDIENTS:
        if ingredient.name in PLAIN:
            continue
        chosen.append(ingredient.name)
        rows.append(Row(ingredient.name, f"+ {ingredient.what}", tuple(chosen), True, False))
    rows.append(Row("default", "+ sanitation: the default", tuple(chosen), True, True))
    rows.append(
        Row("unscaled", "default, every step at full strength whatever the glyph", tuple(chosen), True, True, False)
    )
    return rows


def hard_variety_rows() -> list[Row]:
    """The default with each optional ingredient (``OPTIONAL_INGREDIENTS``: issue 28's hard variety), then all."""
    rows = [
        Row(item.name, f"default + {item.what}", (*INGREDIENT_NAMES, item.name), True, True)
        for item in OPTIONAL_INGREDIENTS
    ]
    every = tuple(item.name for item in OPTIONAL_INGREDIENTS)
    rows.append(Row("hard", "default + every hard-variety ingredient", (*INGREDIENT_NAMES, *every), True, True))
    return rows


def learned_rows() -> list[Row]:
    """The learned model's ablation (issue 28, direction 1): the default with its stroke edits learned from letters,
    with hands' forms learned from letters added, and with both (``LEARNED_INGREDIENTS``)."""
    rows = [
        Row(item.name, f"default with {item.what}", (*INGREDIENT_NAMES, item.name), True, True)
        for item in LEARNED_INGREDIENTS
    ]
    every = tuple(item.name for item in LEARNED_INGREDIENTS)
    rows.append(Row("learned", "default with both learned steps", (*INGREDIENT_NAMES, *every), True, True))
    return rows


# The learned field's variants (issue 28), each the default with ``hand_forms`` and these HandForms arguments: ways
# of keeping its transfer at less cost to the generated tests (docs/results.md).
HAND_FORMS_VARIANTS = {
    "hand_forms_half": ("the field at half its size", {"amount": 0.5}),
    "hand_forms_share": ("the field on half of the images", {"p": 0.5}),
    "hand_forms_distinct": (
        "the field scaled to how far each glyph stands from the nearest other numeral of its design",
        {"distinctness_scale": (0.25, 0.05)},
    ),
    "hand_forms_margin": (
        "a field kept only where it leaves half the glyph's margin over the nearest other numeral of its design",
        {"keep_margin": 0.5},
    ),
    "hand_forms_bends": ("the field without its affine part", {"affine": False}),
}


def hand_forms_rows() -> list[Row]:
    """The learned field's variants (``HAND_FORMS_VARIANTS``)."""
    ingredients = (*INGREDIENT_NAMES, "hand_forms")
    return [
        Row(name, f"default with the learned field: {what}", ingredients, True, True, hand_forms=tuple(args.items()))
        for name, (what, args) in HAND_FORMS_VARIANTS.items()
    ]


def recipe_for(row: Row) -> A.Compose:
    recipe = build_recipe(row.ingredients)
    for transform in recipe.transforms:
        if isinstance(transform, HandForms):
            for name, value in row.hand_forms:
                setattr(transform, name, value)
    if not row.glyph_relative:
        for transform in recipe.transforms:
            for name in ("clearance_scale", "width_per_clearance"):
                if hasattr(transform, name):
                    setattr(transform, name, None)
    return recipe


def system_for(name: str, row: Row, designs: tuple[int, int] | None = None) -> NumeralSystem:
    """The system a row generates; ``designs`` = (K, draw) keeps a seeded sample of K of its fonts."""
    builtin = builtin_systems()
    system = builtin[name] if name in builtin else load_spec(ROOT / "examples" / name / "spec.toml")
    if not row.all_fonts:
        return dataclasses.replace(system, fonts=system.fonts[:1])
    if designs is not None and designs[0] < len(system.fonts):
        kept = design_sample(len(system.fonts), *designs)
        return dataclasses.replace(system, fonts=tuple(system.fonts[i] for i in kept))
    return system


def design_samples(args: argparse.Namespace) -> list[tuple[int, int] | None]:
    """Every (K, draw) to generate from, or [None] for all designs."""
    if not args.designs:
        return [None]
    return [(count, draw) for count in args.designs for draw in args.design_draws]


def measure(
    row: Row,
    name: str,
    real_dir: Path | None,
    args: argparse.Namespace,
    scratch: Path,
    designs: tuple[int, int] | None = None,
    recipe: A.Compose | None = None,
) -> dict:
    """One row on one script: generate, train once per training seed, score. ``recipe`` replaces the row's own."""
    system = system_for(name, row, designs)
    start = time.perf_counter()
    (folder,) = generate(
        [system],
        scratch / row.name,
        GenerateSettings(
            seed=args.seed,
            train_size=args.train_size,
            test_size=args.test_size,
            workers=args.workers,
            overwrite=True,
            progress=False,
            recipe=recipe if recipe is not None else recipe_for(row),
            sanitize=row.sanitize,
            exemplars_dir=args.exemplars if real_dir is not None else None,
            exemplar_weight=args.exemplar_weight,
        ),
    )
    generate_seconds = time.perf_counter() - start
    metadata = read_metadata(folder)
    x_train, y_train = load_split(folder, "train", metadata)
    x_test, y_test = load_split(folder, "test", metadata)
    real = renormalised = None
    if real_dir is not None:
        real_name = REAL_SET.get(name, name)
        x, y = np.load(real_dir / f"{real_name}_x.npy"), np.load(real_dir / f"{real_name}_y.npy").astype(np.int64)
        real = (x, y)
        if args.renormalise:
            path = scratch / f"{name}_real.npz"
            np.savez(path, x=x, y=y)
            digits = read_real_npz(path, system.num_classes)
            renormalised = (digits.images, digits.labels)
    runs = []
    for seed in args.seeds:
        settings = baseline.TrainingSettings(epochs=args.epochs, seed=seed)
        started = time.perf_counter()
        model = baseline.train(x_train, y_train, system.num_classes, settings)
        run = {
            "seed": seed,
            "train_seconds": round(time.perf_counter() - started, 1),
            "synthetic_test_accuracy": score(model, x_test, y_test, system.num_classes).accuracy,
        }
        if real is not None:
            on_real = score(model, *real, system.num_classes)
            run["real_accuracy"], run["real_per_class"] = on_real.accuracy, on_real.per_class
        if renormalised is not None:
            run["real_accuracy_renormalised"] = score(model, *renormalised, system.num_classes).accuracy
        runs.append(run)
    samples = metadata["sanitation"]["samples"]
    result = {
        "row": row.name,
        "script": name,
        "fonts": len(system.fonts),
        "designs": list(designs) if designs is not None else None,
        "redrawn_share": samples["train"]["redrawn_share"] if samples else None,
        "generate_seconds": round(generate_seconds, 1),
    }
    # Each accuracy as its mean over the training seeds, with the range beside it.
    for key in [key for key in runs[0] if "accuracy" in key and "per_class" not in key]:
        values = [run[key] for run in runs]
        result[key], result[f"{key}_range"] = float(np.mean(values)), [float(min(values)), float(max(values))]
    if real is not None:
        per_class = np.mean([run["real_per_class"] for run in runs], axis=0)
        result["real_per_class"] = dict(zip(system.class_names, per_class.tolist(), strict=True))
    result["runs"] = runs
    return result


def _cell(result: dict, key: str) -> str:
    if key not in result:
        return "-"
    low, high = result[f"{key}_range"]
    if high - low < 5e-5:
        return f"{result[key]:.1%}"
    return f"{result[key]:.1%} ({low:.1%} to {high:.1%})"


def main(argv: list[str] | None = None) -> int:
    rows = {row.name: row for row in [*ablation_rows(), *hard_variety_rows(), *learned_rows(), *hand_forms_rows()]}
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-dir", type=Path, default=ROOT.parent / "shared" / "data" / "realdigits")
    parser.add_argument("--scripts", nargs="*", default=list(SCRIPTS), choices=[*SCRIPTS, *REAL_SET])
    parser.add_argument(
        "--configs", nargs="*", default=list(default_configs()), help="built-in configs, generated test only"
    )
    parser.add_argument("--rows", nargs="+", default=list(rows), choices=list(rows))
    parser.add_argument("--train-size", type=int, default=60_000)
    parser.add_argument("--test-size", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=baseline.TrainingSettings().epochs)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    parser.add_argument("--seed", type=int, default=0, help="generation seed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--designs", type=int, nargs="+", metavar="K", help="generate from a sample of K designs (each K in turn)"
    )
    parser.add_argument(
        "--design-draws", type=int, nargs="+", default=[0], metavar="D", help="seeds of the --designs samples"
    )
    parser.add_argument("--exemplars", type=Path, help="handwritten seeds for the one script scored")
    parser.add_argument(
        "--exemplar-weight", type=float, default=DEFAULT_WEIGHT, help="the share of images drawn from the seeds"
    )
    parser.add_argument("--renormalise", action="store_true", help="also score after evaluate-real's normalisation")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.designs and min(args.designs) < 1:
        print(
            f"real_transfer: --designs {min(args.designs)} is not a number of designs; pass 1 or more", file=sys.stderr
        )
        return 2
    if args.exemplars is not None and len(args.scripts) != 1:
        print(
            f"real_transfer: --exemplars {args.exemplars} serves one script; pass --scripts with one name",
            file=sys.stderr,
        )
        return 2
    for script in args.scripts:
        for suffix in ("x", "y"):
            real_name = REAL_SET.get(script, script)
            if not (args.real_dir / f"{real_name}_{suffix}.npy").is_file():
                print(
                    f"real_transfer: {args.real_dir / f'{real_name}_{suffix}.npy'} is missing; pass --real-dir",
                    file=sys.stderr,
                )
                return 2

    results = []
    targets = [(name, args.real_dir) for name in args.scripts] + [(name, None) for name in args.configs]
    with tempfile.TemporaryDirectory() as tmp:
        for row_name in args.rows:
            for designs in design_samples(args):
                for name, real_dir in targets:
                    try:
                        result = measure(rows[row_name], name, real_dir, args, Path(tmp), designs)
                    except InputError as error:
                        print(f"real_transfer: {error}", file=sys.stderr)
                        return 2
                    results.append(result)
                    print(json.dumps(result), file=sys.stderr, flush=True)

    seeds = ", ".join(str(seed) for seed in args.seeds)
    print(
        f"\n{args.train_size:,} train images, {args.test_size:,} test, generation seed {args.seed}, "
        f"LeNet-5 {args.epochs} epochs, training seeds {seeds}: mean (range)\n"
    )
    columns = [(script, "real_accuracy", f"{script} real ({REAL_SET.get(script, script)})") for script in args.scripts]
    columns += [(script, "synthetic_test_accuracy", f"{script} generated") for script in args.scripts]
    columns += [(config, "synthetic_test_accuracy", f"{config} generated") for config in args.configs]
    print("| recipe | " + " | ".join(title for _, _, title in columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for row_name in args.rows:
        for designs in design_samples(args):
            label = rows[row_name].label
            if designs is not None:
                label += f", {designs[0]} designs (draw {designs[1]})"
            wanted = list(designs) if designs is not None else None
            cells = []
            for name, key, _ in columns:
                (result,) = [
                    r for r in results if r["row"] == row_name and r["script"] == name and r["designs"] == wanted
                ]
                cells.append(_cell(result, key))
            print(f"| {label} | " + " | ".join(cells) + " |")
    if args.json:
        # The format of results/real_transfer.json, which the dataset card reads.
        document = {
            "about": (
                "Synthetic-to-real transfer, written by `python benchmarks/real_transfer.py --json FILE`: one entry "
                "per ablation row and script; LeNet-5 trained on generated data only and scored on real handwritten "
                f"digits from {args.real_dir.name}/, which stay outside the repository."
            ),
            "generator_version": generator.__version__,
            "train_size": args.train_size,
            "test_size": args.test_size,
            "seed": args.seed,
            "epochs": args.epochs,
            "training_seeds": args.seeds,
            "designs": args.designs,
            "design_draws": args.design_draws if args.designs else None,
            "exemplars": str(args.exemplars) if args.exemplars else None,
            "exemplar_weight": args.exemplar_weight if args.exemplars else None,
            "results": results,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

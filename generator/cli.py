"""The ``afro-mnist`` command line.

    afro-mnist generate [--configs NAME ...] [--spec FILE.toml] [--out DIR] [--seed N]
                        [--train-size N] [--test-size N] [--workers N] [--overwrite]
                        [--exemplars DIR [--exemplar-weight W]] [--recipe FILE.json] [--no-sanitize]
    afro-mnist preview CONFIG --out FILE.png [--spec FILE.toml] [--seed N] [--overwrite]
    afro-mnist baseline CONFIG [--from DIR] [--epochs N] [--seed N] [--batch-size N] [--overwrite]
    afro-mnist evaluate-real CONFIG --real DIR|FILE.npz [--from DIR] [--out DIR] [--no-denoise] ...
    afro-mnist export CONFIG --format idx|npz --out DIR [--from DIR] [--overwrite]
    afro-mnist figures CONFIG --out DIR [--from DIR] [--spec FILE.toml] [--seed N] [--overwrite]
    afro-mnist stats CONFIG [--from DIR] [--split train|test] [--real DIR|FILE.npz] [--out DIR] [--overwrite]
    afro-mnist collect serve|review|export ...   (see generator/collect/command.py)

Bad input ends with one line on stderr that names the bad value, and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from generator import __version__
from generator.errors import ArgumentParser, InputError
from generator.layout import DEFAULT_BUILD_DIR
from generator.registry import DEFAULT_CONFIGS, resolve

PROG = "afro-mnist"


def build_parser() -> argparse.ArgumentParser:
    # Imported here, not at the top: worker processes import this module too, and need none of it.
    from generator.generate import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE
    from generator.seeds import DEFAULT_WEIGHT

    parser = ArgumentParser(prog=PROG, description="MNIST-style numeral datasets for low-resource scripts.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    gen = commands.add_parser("generate", help="generate configs as parquet shards")
    gen.add_argument("--configs", nargs="+", metavar="NAME", help=f"default: {' '.join(DEFAULT_CONFIGS)}")
    gen.add_argument("--spec", action="append", type=Path, metavar="FILE", help="a numeral system's TOML spec")
    gen.add_argument("--out", type=Path, default=DEFAULT_BUILD_DIR, help=f"default: {DEFAULT_BUILD_DIR}")
    gen.add_argument("--seed", type=int, default=0, help="default: 0")
    gen.add_argument("--train-size", type=int, default=DEFAULT_TRAIN_SIZE, metavar="N", help="images in train")
    gen.add_argument("--test-size", type=int, default=DEFAULT_TEST_SIZE, metavar="N", help="images in test")
    gen.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="default: all cores")
    gen.add_argument("--overwrite", action="store_true", help="replace configs that already exist in --out")
    gen.add_argument(
        "--exemplars", type=Path, metavar="DIR", help="handwritten seeds: one subfolder per class, named by class name"
    )
    gen.add_argument(
        "--exemplar-weight",
        type=float,
        default=DEFAULT_WEIGHT,
        metavar="W",
        help=f"share of images drawn from the seeds, in (0, 1]; 1 uses seeds alone (default: {DEFAULT_WEIGHT})",
    )
    gen.add_argument("--recipe", type=Path, metavar="FILE.json", help="an albumentations recipe saved as JSON")
    gen.add_argument(
        "--no-sanitize", dest="sanitize", action="store_false", help="keep samples that look like another class"
    )

    pre = commands.add_parser("preview", help="write a PNG of a config's exemplars and samples")
    pre.add_argument("config")
    pre.add_argument("--out", type=Path, required=True, metavar="FILE.png")
    pre.add_argument("--spec", action="append", type=Path, metavar="FILE")
    pre.add_argument("--seed", type=int, default=0)
    pre.add_argument("--samples-per-class", type=int, default=8, metavar="N")
    pre.add_argument("--overwrite", action="store_true", help="replace FILE.png if it exists")
    _add_downstream_commands(commands)

    from generator import publish
    from generator.collect import command as collect_command

    push = commands.add_parser("push", help="publish configs to a Hub dataset repository in one commit")
    publish.add_arguments(push)

    collect = commands.add_parser("collect", help="collect real handwriting: serve a drawing page, review, export")
    collect_command.add_arguments(collect)
    return parser


def run(args: argparse.Namespace) -> None:
    if args.command == "generate":
        from generator.generate import generate, sanitation_summary
        from generator.layout import read_metadata

        systems = resolve(args.configs, args.spec)
        recipe = _read_recipe(args.recipe) if args.recipe else None
        written = generate(
            systems,
            args.out,
            seed=args.seed,
            train_size=args.train_size,
            test_size=args.test_size,
            workers=args.workers,
            overwrite=args.overwrite,
            recipe=recipe,
            exemplars_dir=args.exemplars,
            exemplar_weight=args.exemplar_weight,
            sanitize=args.sanitize,
        )
        for folder in written:
            print(sanitation_summary(read_metadata(folder)), file=sys.stderr)
            print(folder)
    elif args.command == "preview":
        from generator.preview import write_preview

        (system,) = resolve([args.config], args.spec)
        if args.out.exists() and not args.overwrite:
            raise InputError(f"--out {args.out} already exists; pass --overwrite to replace it")
        if not args.out.parent.is_dir():
            raise InputError(f"--out {args.out}: folder {args.out.parent} does not exist; create it first")
        if args.samples_per_class < 1:
            raise InputError(f"--samples-per-class {args.samples_per_class} must be at least 1")
        write_preview(system, args.out, args.samples_per_class, args.seed)
        print(args.out)
    elif args.command in DOWNSTREAM_COMMANDS:
        _run_downstream_command(args)
    elif args.command == "push":
        from generator import publish

        publish.push(args)
    elif args.command == "collect":
        from generator.collect import command as collect_command

        collect_command.run(args)


# --- downstream commands: they use a generated build (baseline, evaluate-real, export, figures, stats) ------------

DOWNSTREAM_COMMANDS = ("baseline", "evaluate-real", "export", "figures", "stats")
DEFAULT_REAL_OUT = Path("build/evaluate_real")


def _add_downstream_commands(commands: argparse._SubParsersAction) -> None:
    from generator.baseline import TrainingSettings  # imports without PyTorch
    from generator.export import FORMATS

    from_help = f"the folder that generate wrote (default: {DEFAULT_BUILD_DIR})"
    defaults = TrainingSettings()

    def training_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--epochs", type=int, default=defaults.epochs, metavar="N", help=f"default: {defaults.epochs}"
        )
        command.add_argument("--seed", type=int, default=defaults.seed, help="seeds weights and shuffling (default: 0)")
        command.add_argument(
            "--batch-size", type=int, default=defaults.batch_size, metavar="N", help=f"default: {defaults.batch_size}"
        )

    base = commands.add_parser("baseline", help="train LeNet-5 on a config and write its baseline.json")
    base.add_argument("config")
    base.add_argument("--from", dest="build_dir", type=Path, default=DEFAULT_BUILD_DIR, metavar="DIR", help=from_help)
    training_options(base)
    base.add_argument("--overwrite", action="store_true", help="replace an existing baseline.json")

    real = commands.add_parser("evaluate-real", help="train on a config, test on real handwritten digits")
    real.add_argument("config")
    real.add_argument(
        "--real", type=Path, required=True, metavar="DIR|FILE.npz", help="class subfolders, or x/y arrays"
    )
    real.add_argument("--from", dest="build_dir", type=Path, default=DEFAULT_BUILD_DIR, metavar="DIR", help=from_help)
    real.add_argument("--out", type=Path, metavar="DIR", help=f"default: {DEFAULT_REAL_OUT}")
    training_options(real)
    real.add_argument("--no-denoise", dest="denoise", action="store_false", help="no median filter, no noise margin")
    real.add_argument("--overwrite", action="store_true", help="replace existing results")

    export = commands.add_parser("export", help="write a config as MNIST's IDX files or a Keras-style .npz")
    export.add_argument("config")
    export.add_argument("--format", dest="file_format", choices=FORMATS, required=True)
    export.add_argument("--out", type=Path, required=True, metavar="DIR")
    export.add_argument("--from", dest="build_dir", type=Path, default=DEFAULT_BUILD_DIR, metavar="DIR", help=from_help)
    export.add_argument("--overwrite", action="store_true", help="replace existing files")

    figs = commands.add_parser("figures", help="draw a config's exemplars, samples, class means and deformation sweep")
    figs.add_argument("config")
    figs.add_argument("--out", type=Path, required=True, metavar="DIR")
    figs.add_argument("--from", dest="build_dir", type=Path, default=DEFAULT_BUILD_DIR, metavar="DIR", help=from_help)
    figs.add_argument("--spec", action="append", type=Path, metavar="FILE")
    figs.add_argument("--seed", type=int, default=0, help="picks the random samples (default: 0)")
    figs.add_argument("--overwrite", action="store_true", help="replace existing figures")

    stats = commands.add_parser("stats", help="Morpho-MNIST shape measures per class, beside real digits if given")
    stats.add_argument("config")
    stats.add_argument("--from", dest="build_dir", type=Path, default=DEFAULT_BUILD_DIR, metavar="DIR", help=from_help)
    stats.add_argument("--split", choices=("train", "test"), default="train", help="default: train")
    stats.add_argument("--real", type=Path, metavar="DIR|FILE.npz", help="real digits: class subfolders, or x/y arrays")
    stats.add_argument("--out", type=Path, metavar="DIR", help="write <config>-stats.json and <config>-stats.png here")
    stats.add_argument("--overwrite", action="store_true", help="replace existing files")


def _run_downstream_command(args: argparse.Namespace) -> None:
    # Imported on use: the baseline's modules need PyTorch, which generating does not.
    if args.command == "baseline":
        from generator.baseline import BASELINE_FILE, TrainingSettings, run_baseline

        settings = TrainingSettings(epochs=args.epochs, seed=args.seed, batch_size=args.batch_size)
        results = run_baseline(
            args.config, args.build_dir, settings, overwrite=args.overwrite, on_epoch=_epoch_printer(settings.epochs)
        )
        paper = results["paper_accuracy"]
        print(
            f"{args.config}: test accuracy {results['test_accuracy']:.2%}"
            + (f" (paper: {paper:.2%})" if paper is not None else "")
            + f", {settings.epochs} epochs in {results['train_seconds']:.0f} s"
        )
        print(args.build_dir / args.config / BASELINE_FILE)
        from generator.card import write_repository_files

        write_repository_files(args.build_dir)  # the card's baseline table renders from baseline.json
    elif args.command == "evaluate-real":
        from generator.baseline import TrainingSettings
        from generator.realdata import evaluate_real, output_paths

        settings = TrainingSettings(epochs=args.epochs, seed=args.seed, batch_size=args.batch_size)
        out = args.out or DEFAULT_REAL_OUT
        results = evaluate_real(
            args.config,
            args.real,
            out,
            args.build_dir,
            settings,
            denoise=args.denoise,
            overwrite=args.overwrite,
            on_epoch=_epoch_printer(settings.epochs),
        )
        print(
            f"{args.config}: {results['real_accuracy']:.2%} of {results['real_examples']} real images "
            f"(generated test split: {results['synthetic_test_accuracy']:.2%})"
        )
        for path in output_paths(args.config, out):
            print(path)
    elif args.command == "export":
        from generator.export import export_config

        for path in export_config(args.config, args.file_format, args.out, args.build_dir, overwrite=args.overwrite):
            print(path)
    elif args.command == "figures":
        from generator.figures import write_figures

        (system,) = resolve([args.config], args.spec)
        for path in write_figures(system, args.out, args.build_dir, seed=args.seed, overwrite=args.overwrite):
            print(path)
    elif args.command == "stats":
        from generator.stats import run_stats

        result = run_stats(
            args.config, args.build_dir, split=args.split, real=args.real, out=args.out, overwrite=args.overwrite
        )
        print(result.table)
        for path in result.written:
            print(path)


def _read_recipe(path: Path):
    from generator.recipe import load_recipe

    if not path.is_file():
        raise InputError(f"--recipe {path} does not exist; give a recipe.json saved by albumentations.save")
    try:
        return load_recipe(path)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"--recipe {path} is not an albumentations recipe ({exc}); save one with albumentations.save"
        ) from None


def _epoch_printer(epochs: int) -> Callable[[int, float], None]:
    def report(epoch: int, loss: float) -> None:
        print(f"epoch {epoch}/{epochs}: training loss {loss:.4f}", file=sys.stderr, flush=True)

    return report


def main(argv: list[str] | None = None) -> int:
    try:
        run(build_parser().parse_args(argv))
    except InputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0

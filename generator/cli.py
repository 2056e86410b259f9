"""The ``afro-mnist`` command line.

    afro-mnist generate [--configs NAME ...] [--spec FILE.toml] [--numerals NAME] [--out DIR] [--seed N]
                        [--train-size N] [--test-size N] [--workers N] [--overwrite]
                        [--exemplars DIR [--exemplar-weight W]] [--recipe FILE.json] [--no-sanitize]
    afro-mnist preview CONFIG --out FILE.png [--spec FILE.toml] [--seed N] [--overwrite]
    afro-mnist numerals
    afro-mnist baseline CONFIG [--from DIR] [--epochs N] [--seed N] [--batch-size N] [--overwrite]
    afro-mnist evaluate-real CONFIG --real DIR|FILE.npz [--from DIR] [--out DIR] [--no-denoise] ...
    afro-mnist export CONFIG --format idx|npz --out DIR [--from DIR] [--overwrite]
    afro-mnist figures CONFIG --out DIR [--from DIR] [--spec FILE.toml] [--seed N] [--overwrite]
    afro-mnist stats CONFIG [--from DIR] [--split train|test] [--real DIR|FILE.npz] [--out DIR] [--overwrite]
    afro-mnist collect serve|review|export ...   (see generator/collect/command.py)

Bad input ends with one line on stderr that names the bad value, and exit status 2; Ctrl-C with one line and
status 130. Every line printed from an exception or a server is redacted of tokens (``errors.redact``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from generator import __version__
from generator.errors import ArgumentParser, InputError, one_line
from generator.layout import DEFAULT_BUILD_DIR, check_config_name, format_code_point
from generator.registry import default_configs, resolve

if TYPE_CHECKING:
    from generator.synthesis.numerals import DigitSet

PROG = "afro-mnist"
# Set only by the README's own test (tests/test_readme.py), which runs every README command as written:
# it shrinks the default sizes, epochs and workers so that the whole README runs in seconds. It is not an
# option for users, and an explicit flag always wins over it.
TINY_ENV = "AFRO_MNIST_TINY"
TINY_DEFAULTS = {"train_size": 60, "test_size": 20, "epochs": 1, "workers": 1}


def tiny() -> bool:
    return os.environ.get(TINY_ENV) == "1"


def build_parser() -> argparse.ArgumentParser:
    # Imported here, not at the top: worker processes import this module too, and need none of it. Nothing
    # imported to build the parser brings in albumentations, datasets or PyTorch: each costs seconds a start.
    from generator.settings import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE, DEFAULT_WEIGHT

    train_size, test_size = (
        (TINY_DEFAULTS["train_size"], TINY_DEFAULTS["test_size"]) if tiny() else (DEFAULT_TRAIN_SIZE, DEFAULT_TEST_SIZE)
    )
    workers = TINY_DEFAULTS["workers"] if tiny() else len(os.sched_getaffinity(0))

    parser = ArgumentParser(prog=PROG, description="MNIST-style numeral datasets for low-resource scripts.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    gen = commands.add_parser("generate", help="generate configs as parquet shards")
    gen.add_argument("--configs", nargs="+", metavar="NAME", help=f"default: {' '.join(default_configs())}")
    gen.add_argument("--spec", action="append", type=Path, metavar="FILE", help="a numeral system's TOML spec")
    gen.add_argument(
        "--numerals",
        metavar="NAME",
        help="a Unicode digit set by name or ISO 15924 code (see `numerals`), from the fonts installed here",
    )
    gen.add_argument("--out", type=Path, default=DEFAULT_BUILD_DIR, help=f"default: {DEFAULT_BUILD_DIR}")
    gen.add_argument("--seed", type=int, default=0, help="default: 0")
    gen.add_argument("--train-size", type=int, default=train_size, metavar="N", help="images in train")
    gen.add_argument("--test-size", type=int, default=test_size, metavar="N", help="images in test")
    gen.add_argument("--workers", type=int, default=workers, help="default: all cores")
    gen.add_argument("--overwrite", action="store_true", help="replace configs that already exist in --out")
    gen.add_argument(
        "--exemplars", type=Path, metavar="DIR", help="handwritten seeds: one subfolder per class, named by class name"
    )
    gen.add_argument(
        "--exemplar-weight",
        type=float,
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
    commands.add_parser("numerals", help="list Unicode's decimal digit sets and the installed fonts covering each")
    _add_downstream_commands(commands)

    from generator.collect import command as collect_command
    from generator.repository import publish

    push = commands.add_parser("push", help="publish configs to a Hub dataset repository in one commit")
    publish.add_arguments(push)

    collect = commands.add_parser("collect", help="collect real handwriting: serve a drawing page, review, export")
    collect_command.add_arguments(collect)
    return parser


def run(args: argparse.Namespace) -> None:
    if args.command == "generate":
        from generator.generate import generate, sanitation_summary
        from generator.layout import read_metadata
        from generator.synthesis.seeds import DEFAULT_WEIGHT

        if args.exemplar_weight is not None and args.exemplars is None:
            raise InputError(f"--exemplar-weight {args.exemplar_weight} needs --exemplars DIR, the seeds it weighs")
        spec_file, digit_set = None, None
        if args.numerals:
            spec_file, digit_set = _numerals_spec(args.numerals, args.out, args.overwrite)
            args.spec = [*(args.spec or []), spec_file]
            args.configs = args.configs or [digit_set.name]
        try:
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
                exemplar_weight=DEFAULT_WEIGHT if args.exemplar_weight is None else args.exemplar_weight,
                sanitize=args.sanitize,
            )
            if spec_file is not None:  # beside the config it made, so that --spec repeats the run
                spec_file.replace(args.out / f"{digit_set.name}.spec.toml")
                print(args.out / f"{digit_set.name}.spec.toml", file=sys.stderr)
        finally:
            if spec_file is not None:
                spec_file.unlink(missing_ok=True)
        for folder in written:
            print(sanitation_summary(read_metadata(folder)), file=sys.stderr)
            print(folder)
        _warn_about_spec_configs(systems, args.out)
    elif args.command == "preview":
        from generator.evaluation.preview import write_preview

        (system,) = resolve([args.config], args.spec)
        if args.out.is_dir():
            raise InputError(f"--out {args.out} is a folder; give the PNG file to write, such as {args.out / 'x.png'}")
        if args.out.exists() and not args.overwrite:
            raise InputError(f"--out {args.out} already exists; pass --overwrite to replace it")
        folder = next((parent for parent in args.out.parents if parent.exists()), None)
        if folder is not None and not folder.is_dir():
            raise InputError(f"--out {args.out}: {folder} is a file, not a folder; write the PNG elsewhere")
        if args.samples_per_class < 1:
            raise InputError(f"--samples-per-class {args.samples_per_class} must be at least 1")
        args.out.parent.mkdir(parents=True, exist_ok=True)  # as generate makes its --out
        write_preview(system, args.out, args.samples_per_class, args.seed)
        print(args.out)
    elif args.command == "numerals":
        from generator.synthesis import numerals

        fonts = numerals.installed_fonts()
        print(f"{'name':28} {'zero':8} {'script':26} fonts")
        for digit_set in numerals.digit_sets():
            script = f"{digit_set.script} ({digit_set.iso15924})"
            count = numerals.count_covering(fonts, digit_set.code_points)
            print(f"{digit_set.name:28} {format_code_point(digit_set.zero):8} {script:26} {count}")
        folders = ", ".join(str(folder) for folder in numerals.font_dirs())
        print(f"fonts: installed fonts that map all ten digits, under {folders}", file=sys.stderr)
    elif args.command in DOWNSTREAM_COMMANDS:
        _run_downstream_command(args)
    elif args.command == "push":
        from generator.repository import publish

        publish.push(args)
    elif args.command == "collect":
        from generator.collect import command as collect_command

        collect_command.run(args)


def _numerals_spec(name: str, out: Path, overwrite: bool) -> tuple[Path, DigitSet]:
    """Builds the spec of a Unicode digit set from the installed fonts; writes it to a temporary file in ``out``."""
    import tempfile

    from generator.synthesis import numerals

    digit_set = numerals.find_digit_set(name)
    if digit_set.name in default_configs():
        # A built-in config keeps its name (a spec may not take it): this one is made of the installed fonts.
        print(
            f"{digit_set.name} is a built-in config (--configs {digit_set.name}); this one, of the installed fonts, "
            f"is named {digit_set.name}_installed",
            file=sys.stderr,
        )
        digit_set = dataclasses.replace(digit_set, name=f"{digit_set.name}_installed")
    found = numerals.discover(digit_set)
    fonts = found.fonts
    for font, why in found.skipped:
        print(f"{digit_set.name}: left out {font}: {why}", file=sys.stderr)
    if not fonts:
        folders = ", ".join(str(folder) for folder in numerals.font_dirs())
        raise InputError(
            f"--numerals {name}: no installed font draws all ten {digit_set.name} digits (looked in {folders}); "
            f"install one, or list font folders in ${numerals.FONT_DIRS_ENV}"
        )
    final = out / f"{digit_set.name}.spec.toml"
    if final.exists() and not overwrite:
        raise InputError(f"{final} already exists; pass --overwrite to replace it")
    print(f"{digit_set.name}: {len(fonts)} font design(s) installed", file=sys.stderr)
    if len(fonts) == 1:
        numerals.warn(f"{digit_set.name} has one design only, {fonts[0].name}: every image is drawn from one font")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".spec.toml", dir=out, delete=False, encoding="utf-8") as file:
        file.write(numerals.spec_text(digit_set, found))
    return Path(file.name), digit_set


# --- downstream commands: they use a generated build (baseline, evaluate-real, export, figures, stats) ------------

DOWNSTREAM_COMMANDS = ("baseline", "evaluate-real", "export", "figures", "stats")
DEFAULT_REAL_OUT = Path("build/evaluate_real")


def _add_downstream_commands(commands: argparse._SubParsersAction) -> None:
    from generator.evaluation.baseline import TrainingSettings  # imports without PyTorch
    from generator.repository.export import FORMATS

    from_help = f"the folder that generate wrote (default: {DEFAULT_BUILD_DIR})"
    defaults = TrainingSettings(epochs=TINY_DEFAULTS["epochs"]) if tiny() else TrainingSettings()

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
    check_config_name(args.config)
    # Imported on use: the baseline's modules need PyTorch, which generating does not.
    if args.command == "baseline":
        from generator.evaluation.baseline import BASELINE_FILE, TrainingSettings, run_baseline
        from generator.layout import config_folders
        from generator.repository.card import root_paths, write_repository_files
        from generator.repository.output import check_root_paths, hold

        configs = [folder.name for folder in config_folders(args.build_dir)] if args.build_dir.is_dir() else []
        # The card is rewritten at the end: refuse now, not after training, if a root file is not the tool's.
        check_root_paths(args.build_dir, root_paths(configs), overwrite=args.overwrite)
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
        with hold(args.build_dir, create=False, flag="--from"):
            # The card's baseline table renders from baseline.json.
            write_repository_files(args.build_dir, overwrite=args.overwrite)
    elif args.command == "evaluate-real":
        from generator.evaluation.baseline import TrainingSettings
        from generator.evaluation.realdata import evaluate_real, output_paths, per_class_table

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
        print(per_class_table(results["per_class"]))
        for path in output_paths(args.config, out):
            print(path)
    elif args.command == "export":
        from generator.repository.export import export_config

        for path in export_config(args.config, args.file_format, args.out, args.build_dir, overwrite=args.overwrite):
            print(path)
    elif args.command == "figures":
        from generator.evaluation.figures import write_figures

        (system,) = resolve([args.config], args.spec)
        for path in write_figures(system, args.out, args.build_dir, seed=args.seed, overwrite=args.overwrite):
            print(path)
    elif args.command == "stats":
        from generator.evaluation.stats import run_stats

        result = run_stats(
            args.config, args.build_dir, split=args.split, real=args.real, out=args.out, overwrite=args.overwrite
        )
        print(result.table)
        for path in result.written:
            print(path)


def _warn_about_spec_configs(systems: list, out: Path) -> None:
    """A note when a config from a spec file lands in the default build folder, the repository a push publishes.

    The card describes every config in the folder, so the folder keeps loading as it is; the note says that a
    push without --configs would publish the example too, and how to keep it apart.
    """
    if out.resolve() != DEFAULT_BUILD_DIR.resolve():
        return
    builtin = [system.name for system in systems if system.is_builtin]
    others = [system.name for system in systems if not system.is_builtin]
    if others:
        print(
            f"note: {', '.join(others)} (from a spec file) is now in {out}, the dataset repository that "
            f"`afro-mnist push` publishes: its card lists it, and a push without --configs would publish it; "
            f"generate it with --out elsewhere, or push with --configs {' '.join(builtin or default_configs())}",
            file=sys.stderr,
        )


def _read_recipe(path: Path):
    from generator.synthesis.recipe import load_recipe

    if not path.is_file():
        raise InputError(f"--recipe {path} does not exist; give a recipe.json saved by albumentations.save")
    return load_recipe(path)


def _epoch_printer(epochs: int) -> Callable[[int, float], None]:
    def report(epoch: int, loss: float) -> None:
        print(f"epoch {epoch}/{epochs}: training loss {loss:.4f}", file=sys.stderr, flush=True)

    return report


# The exit status of a run stopped by Ctrl-C, as a shell reports one killed by SIGINT.
EXIT_INTERRUPTED = 130
# Commands that never use PyTorch. albumentations and datasets import it whenever it is installed, for
# transforms and formats these commands never call, and it costs seconds at every start; so, as generation
# workers do (generator/synthesis/worker.py), these commands mark it absent while they run.
_WITHOUT_TORCH = ("generate", "preview", "export", "figures", "stats", "push")


def main(argv: list[str] | None = None) -> int:
    """Runs a command; returns 0, 2 after bad input (one line on stderr), or 130 after Ctrl-C (one line)."""
    try:
        args = build_parser().parse_args(argv)
        block_torch = args.command in _WITHOUT_TORCH and "torch" not in sys.modules
        if block_torch:
            sys.modules["torch"] = None  # type: ignore[assignment]
        try:
            run(args)
        finally:
            if block_torch and sys.modules.get("torch", 0) is None:
                del sys.modules["torch"]
    except InputError as exc:
        print(f"{PROG}: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Every writer cleans up on the way out (partial folders, temporary files, the lock), so this is all.
        print(f"{PROG}: interrupted; nothing half-written was left behind", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0

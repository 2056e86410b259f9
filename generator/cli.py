"""The ``afro-mnist`` command line: it owns argparse, runs each command from one table, and prints every error.

    afro-mnist generate [--configs NAME ...] [--spec FILE.toml] [--numerals NAME] [--out DIR] [--seed N]
                        [--train-size N] [--test-size N] [--workers N] [--overwrite]
                        [--exemplars DIR [--exemplar-weight W]] [--recipe FILE.json | --with NAME ...]
                        [--no-sanitize]
    afro-mnist preview CONFIG --out FILE.png [--spec FILE.toml] [--seed N] [--overwrite]
    afro-mnist numerals
    afro-mnist baseline CONFIG [--from DIR] [--epochs N] [--seed N] [--batch-size N] [--overwrite]
    afro-mnist evaluate-real CONFIG --real DIR|FILE.npz [--from DIR] [--out DIR] [--no-denoise] ...
    afro-mnist export CONFIG --format idx|npz [--layout flat|torchvision] --out DIR [--from DIR] [--overwrite]
    afro-mnist figures CONFIG --out DIR [--from DIR] [--spec FILE.toml] [--seed N] [--overwrite]
    afro-mnist stats CONFIG [--from DIR] [--split train|test] [--real DIR|FILE.npz] [--out DIR] [--overwrite]
    afro-mnist push [--repo-id OWNER/NAME] [--configs NAME ...] [--from DIR] [--dry-run] ...
    afro-mnist collect serve|review|export ...   (see generator/collect/command.py)

The library below takes typed arguments; only this module reads a command line. A command that changes a
config (generate, baseline, collect export) then rewrites the dataset repository's root files, here, once.

Bad input ends with one line on stderr that names the bad value, and exit status 2; Ctrl-C with one line and
status 130 (``run_safely``). Every line printed from an exception or a server is redacted of tokens
(``errors.redact``).

Worker processes import this module too (it is the program's main module), so it imports only what is light at
the top. Each command imports its own modules when it runs: most of them reach albumentations, which imports
PyTorch wherever it is installed, and that costs seconds at every start.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator import __version__, settings
from generator.collect import command as collect_command
from generator.errors import ArgumentParser, InputError, one_line
from generator.layout import (
    DEFAULT_BUILD_DIR,
    MAX_SEED,
    check_config_name,
    check_output_paths,
    check_seed,
    config_folder,
    config_folders,
    format_code_point,
    read_metadata,
)
from generator.registry import NumeralSystem, builtin_class_count, default_configs, resolve
from generator.repository.output import check_root_paths, hold, root_files_stale

if TYPE_CHECKING:
    from generator.repository.publish import HubTarget
    from generator.synthesis.numerals import DigitSet

PROG = "afro-mnist"
# The exit status after bad input, and after Ctrl-C (as a shell reports a process killed by SIGINT).
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
# Set only by the README's own test (tests/test_readme.py), which runs every README command as written:
# it shrinks the default sizes, epochs and workers so that the whole README runs in seconds. It is not an
# option for users, and an explicit flag always wins over it.
TINY_ENV = "AFRO_MNIST_TINY"
TINY_DEFAULTS = {"train_size": 60, "test_size": 20, "epochs": 1, "workers": 1}
DEFAULT_REAL_OUT = Path("build/evaluate_real")
FROM_HELP = f"the folder that generate wrote (default: {DEFAULT_BUILD_DIR})"
CONFIG_HELP = "a config that generate wrote into --from, such as vai"
# The most samples of each class a preview draws: a grid of 100 columns is wider than any screen already.
MAX_PREVIEW_SAMPLES = 100
# Linux's limits on a file name and on a whole path, in bytes: a longer --out fails deep in the run otherwise.
NAME_MAX = 255
PATH_MAX = 4096


def tiny() -> bool:
    return os.environ.get(TINY_ENV) == "1"


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, its options, what it runs, and whether it hides PyTorch while it runs.

    albumentations and datasets import PyTorch whenever it is installed, for transforms and formats these
    commands never call, and it costs seconds at every start; so, as generation workers do
    (``generator.synthesis.worker``), a command that never trains marks it absent while it runs.
    """

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], None]
    hides_torch: bool = False
    description: str = ""
    examples: tuple[str, ...] = ()

    def epilog(self) -> str | None:
        return "examples:\n" + "\n".join(f"  {example}" for example in self.examples) if self.examples else None


def main(argv: list[str] | None = None) -> int:
    """Runs a command; returns 0, 2 after bad input (one line on stderr), or 130 after Ctrl-C (one line)."""
    return run_safely(lambda: run(build_parser().parse_args(argv)))


def run_safely(action: Callable[[], int | None]) -> int:
    """Runs ``action`` and returns its exit status: the one error printer of the command line and its scripts.

    Returns:
        ``action``'s own status (0 for None); 2 after an InputError, printed as one redacted line on stderr;
        130 after Ctrl-C, with one line.
    """
    try:
        status = action()
    except InputError as exc:
        print(f"{PROG}: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        # Every writer cleans up on the way out (partial folders, temporary files, the lock), so this is all.
        print(f"{PROG}: interrupted; nothing half-written was left behind", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status or 0


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=PROG, description="MNIST-style numeral datasets for low-resource scripts.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=ArgumentParser, title="commands"
    )
    for name, command in COMMANDS.items():
        command.add_arguments(
            commands.add_parser(
                name,
                help=command.help,
                # Wrapped here: the raw formatter keeps the examples' lines as written, and the description's too.
                description=textwrap.fill(command.description or command.help[:1].upper() + command.help[1:] + ".", 79),
                epilog=command.epilog(),
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
        )
    return parser


def run(args: argparse.Namespace) -> None:
    """Runs the parsed command line's command."""
    command = COMMANDS[args.command]
    check_arguments(args)
    block_torch = command.hides_torch and "torch" not in sys.modules
    if block_torch:
        sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        command.run(args)
    finally:
        if block_torch and sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


def check_arguments(args: argparse.Namespace) -> None:
    """Refuses, before any command starts, what no command can use: a seed out of range, or a path too long.

    Raises:
        InputError: naming the option and its value.
    """
    if getattr(args, "seed", None) is not None:
        check_seed(args.seed)
    for flag, value in vars(args).items():
        for path in value if isinstance(value, list) else [value]:
            if isinstance(path, Path):
                check_path_length(path, "--" + flag.replace("_", "-"))


def check_path_length(path: Path, flag: str) -> None:
    """Refuses a path with a name longer than the file system takes (255 bytes), or longer than 4,096 bytes in all.

    Raises:
        InputError: naming the option and the start of the path.
    """
    flag = {"--build-dir": "--from", "--source": "--from"}.get(flag, flag)
    shown = str(path) if len(str(path)) <= 80 else str(path)[:77] + "..."
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise InputError(
                f"{flag} {shown}: the name {part[:20]}... is {len(os.fsencode(part))} bytes, more than the "
                f"{NAME_MAX} a file name may have; give a shorter path"
            )
    if len(os.fsencode(os.path.abspath(path))) >= PATH_MAX:
        raise InputError(f"{flag} {shown} is more than {PATH_MAX:,} bytes long in all; give a shorter path")


# --- generate, preview, numerals ---------------------------------------------------------------------------------


def _generate_arguments(command: argparse.ArgumentParser) -> None:
    train_size, test_size = (
        (TINY_DEFAULTS["train_size"], TINY_DEFAULTS["test_size"])
        if tiny()
        else (settings.DEFAULT_TRAIN_SIZE, settings.DEFAULT_TEST_SIZE)
    )
    workers = TINY_DEFAULTS["workers"] if tiny() else len(os.sched_getaffinity(0))
    command.add_argument("--configs", nargs="+", metavar="NAME", help=f"default: {' '.join(default_configs())}")
    command.add_argument("--spec", action="append", type=Path, metavar="FILE", help="a numeral system's TOML spec")
    command.add_argument(
        "--numerals",
        metavar="NAME",
        help="a Unicode digit set by name or ISO 15924 code (see `numerals`), from the fonts installed here",
    )
    command.add_argument("--out", type=Path, default=DEFAULT_BUILD_DIR, help=f"default: {DEFAULT_BUILD_DIR}")
    command.add_argument(
        "--seed", type=int, default=0, help=f"fixes every image, with the version: 0 to {MAX_SEED:,} (default: 0)"
    )
    command.add_argument(
        "--train-size", type=int, default=train_size, metavar="N", help=f"images in train (default: {train_size:,})"
    )
    command.add_argument(
        "--test-size", type=int, default=test_size, metavar="N", help=f"images in test (default: {test_size:,})"
    )
    command.add_argument(
        "--workers", type=int, default=workers, help="processes; never changes a byte (default: all cores)"
    )
    command.add_argument("--overwrite", action="store_true", help="replace configs that already exist in --out")
    command.add_argument(
        "--exemplars", type=Path, metavar="DIR", help="handwritten seeds: one subfolder per class, named by class name"
    )
    command.add_argument(
        "--exemplar-weight",
        type=float,
        metavar="W",
        help="share of images drawn from the seeds, in (0, 1]; 1 uses seeds alone "
        f"(default: {settings.DEFAULT_WEIGHT})",
    )
    command.add_argument("--recipe", type=Path, metavar="FILE.json", help="an albumentations recipe saved as JSON")
    command.add_argument(
        "--with",
        dest="extra_ingredients",
        nargs="+",
        metavar="NAME",
        help="the default recipe with these ingredients outside it, each at its place: hand_forms (hands' forms "
        "learned from letters), learned_strokes, pieces, wide_affine, perspective (docs/results.md)",
    )
    command.add_argument(
        "--no-sanitize",
        dest="sanitize",
        action="store_false",
        help="keep every first draw, even one that lost its numeral's shape or is a blot of ink",
    )


def _generate(args: argparse.Namespace) -> None:
    from generator.generate import GenerateSettings, generate, sanitation_summary  # on use: albumentations

    if args.exemplar_weight is not None and args.exemplars is None:
        raise InputError(f"--exemplar-weight {args.exemplar_weight} needs --exemplars DIR, the seeds it weighs")
    spec_file, digit_set = None, None
    if args.numerals:
        spec_file, digit_set = _numerals_spec(args.numerals, args.out, args.overwrite)
        args.spec = [*(args.spec or []), spec_file]
        args.configs = args.configs or [digit_set.name]
    try:
        systems = resolve(args.configs, args.spec)
        generation = GenerateSettings(
            seed=args.seed,
            train_size=args.train_size,
            test_size=args.test_size,
            workers=args.workers,
            overwrite=args.overwrite,
            recipe=_recipe(args.recipe, args.extra_ingredients),
            exemplars_dir=args.exemplars,
            exemplar_weight=settings.DEFAULT_WEIGHT if args.exemplar_weight is None else args.exemplar_weight,
            sanitize=args.sanitize,
        )
        _check_root_files(args.out, [system.name for system in systems], args.overwrite)
        stale = args.out.is_dir() and root_files_stale(args.out)
        try:
            written = generate(systems, args.out, generation)
        except InputError:
            _repair_root_files(args.out, args.overwrite, systems)
            raise
        _write_root_files(args.out, args.overwrite, systems)
        if stale:
            print(f"{PROG}: rewrote the root files of {args.out}, which did not describe its configs", file=sys.stderr)
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


def _numerals_spec(name: str, out: Path, overwrite: bool) -> tuple[Path, DigitSet]:
    """Builds the spec of a Unicode digit set from the installed fonts; writes it to a temporary file in ``out``."""
    from generator.synthesis import numerals  # on use: its design check brings albumentations

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
    check_output_paths(None, [out / f"{digit_set.name}.spec.toml"], overwrite)
    print(f"{digit_set.name}: {len(fonts)} font design(s) installed", file=sys.stderr)
    if len(fonts) == 1:
        numerals.warn(f"{digit_set.name} has one design only, {fonts[0].name}: every image is drawn from one font")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".spec.toml", dir=out, delete=False, encoding="utf-8") as file:
        file.write(numerals.spec_text(digit_set, found))
    return Path(file.name), digit_set


def _recipe(path: Path | None, extra: list[str] | None):
    """The recipe ``--recipe`` or ``--with`` names, or None for the default."""
    if path is not None and extra:
        raise InputError(
            f"--with {' '.join(extra)} adds to the default recipe, not to --recipe {path}; give one of the two"
        )
    if extra:
        from generator.synthesis.recipe import INGREDIENT_NAMES, build_recipe  # on use: albumentations

        try:
            return build_recipe([*INGREDIENT_NAMES, *extra])
        except ValueError as error:
            raise InputError(f"--with: {error}") from None
    return _read_recipe(path) if path is not None else None


def _read_recipe(path: Path):
    from generator.synthesis.recipe import load_recipe  # on use: albumentations

    if not path.is_file():
        raise InputError(f"--recipe {path} does not exist; give a recipe.json saved by albumentations.save")
    return load_recipe(path)


def _warn_about_spec_configs(systems: list[NumeralSystem], out: Path) -> None:
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


def _preview_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("config", help="a built-in config (see `afro-mnist generate --help`), or one of --spec")
    command.add_argument("--out", type=Path, required=True, metavar="FILE.png", help="the PNG to write")
    command.add_argument(
        "--spec", action="append", type=Path, metavar="FILE", help="a numeral system's TOML spec, for its config"
    )
    command.add_argument(
        "--seed", type=int, default=0, help=f"picks the random samples: 0 to {MAX_SEED:,} (default: 0)"
    )
    command.add_argument(
        "--samples-per-class",
        type=int,
        default=8,
        metavar="N",
        help=f"random samples drawn for each class, 1 to {MAX_PREVIEW_SAMPLES} (default: 8)",
    )
    command.add_argument("--overwrite", action="store_true", help="replace FILE.png if it exists")


def _preview(args: argparse.Namespace) -> None:
    from generator.evaluation.preview import write_preview  # on use: albumentations

    if not 1 <= args.samples_per_class <= MAX_PREVIEW_SAMPLES:
        raise InputError(
            f"--samples-per-class {args.samples_per_class} must lie in 1..{MAX_PREVIEW_SAMPLES}; a preview shows a "
            f"few samples, generate makes the dataset"
        )
    (system,) = resolve([args.config], args.spec)
    if args.out.is_dir():
        raise InputError(f"--out {args.out} is a folder; give the PNG file to write, such as {args.out / 'x.png'}")
    check_output_paths(None, [args.out], args.overwrite)
    folder = next((parent for parent in args.out.parents if parent.exists()), None)
    if folder is not None and not folder.is_dir():
        raise InputError(f"--out {args.out}: {folder} is a file, not a folder; write the PNG elsewhere")
    args.out.parent.mkdir(parents=True, exist_ok=True)  # as generate makes its --out
    write_preview(system, args.out, args.samples_per_class, args.seed)
    print(args.out)


def _numerals(args: argparse.Namespace) -> None:
    from generator.synthesis import numerals  # on use: its design check brings albumentations

    fonts = numerals.installed_fonts()
    print(f"{'name':28} {'zero':8} {'script':26} fonts")
    for digit_set in numerals.digit_sets():
        script = f"{digit_set.script} ({digit_set.iso15924})"
        count = numerals.count_covering(fonts, digit_set.code_points)
        print(f"{digit_set.name:28} {format_code_point(digit_set.zero):8} {script:26} {count}")
    folders = ", ".join(str(folder) for folder in numerals.font_dirs())
    print(f"fonts: installed fonts that map all ten digits, under {folders}", file=sys.stderr)


# --- the dataset repository's root files -------------------------------------------------------------------------


def _check_root_files(out: Path, configs: list[str], overwrite: bool) -> None:
    """Refuses now, before the long work, a root file that the command would rewrite and that is not the tool's."""
    from generator.repository.card import root_paths  # on use: the card renders with albumentations

    folders = config_folders(out) if out.is_dir() else []
    for folder in folders:  # the card reads each config's metadata: a damaged one is refused now, not at the end
        if folder.name not in configs or not overwrite:
            read_metadata(folder, builtin_class_count(folder.name))
    check_root_paths(out, root_paths(sorted({*(folder.name for folder in folders), *configs})), overwrite)


def _write_root_files(
    out: Path, overwrite: bool, systems: list[NumeralSystem] | None = None, flag: str = "--out"
) -> None:
    """Rewrites the card, sample grids and builder script for every config now in ``out``, holding its lock.

    ``systems`` from spec files lend their fonts to the sample grids' glyph rows.
    """
    from generator.repository.card import write_repository_files  # on use: the card renders with albumentations

    with hold(out, create=False, flag=flag):
        write_repository_files(out, systems=systems, overwrite=overwrite)


def _repair_root_files(out: Path, overwrite: bool, systems: list[NumeralSystem]) -> None:
    """After a failed run: root files that an interrupted one left describing other configs are put right."""
    if not out.is_dir() or not root_files_stale(out):
        return
    with contextlib.suppress(InputError):  # the run's own error is the one to report
        _write_root_files(out, overwrite, systems)
        print(f"{PROG}: rewrote the root files of {out}, which did not describe its configs", file=sys.stderr)


# --- commands on a generated build: baseline, evaluate-real, export, figures, stats ------------------------------


def _training_options(command: argparse.ArgumentParser) -> None:
    from generator.evaluation.baseline import TrainingSettings  # here: it reads parquet, which workers never need

    defaults = TrainingSettings(epochs=TINY_DEFAULTS["epochs"]) if tiny() else TrainingSettings()
    command.add_argument("--epochs", type=int, default=defaults.epochs, metavar="N", help=f"default: {defaults.epochs}")
    command.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help=f"seeds weights and shuffling: 0 to {MAX_SEED:,} (default: {defaults.seed})",
    )
    command.add_argument(
        "--batch-size", type=int, default=defaults.batch_size, metavar="N", help=f"default: {defaults.batch_size}"
    )


def _from_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--from", dest="build_dir", type=Path, default=DEFAULT_BUILD_DIR, metavar="DIR", help=FROM_HELP
    )


def _baseline_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("config", help=CONFIG_HELP)
    _from_option(command)
    _training_options(command)
    command.add_argument("--overwrite", action="store_true", help="replace an existing baseline.json")


def _baseline(args: argparse.Namespace) -> None:
    from generator.evaluation.baseline import BASELINE_FILE, TrainingSettings, run_baseline  # on use: PyTorch

    check_config_name(args.config)
    configs = [folder.name for folder in config_folders(args.build_dir)] if args.build_dir.is_dir() else []
    # The card is rewritten at the end: refuse now, not after training, if a root file is not the tool's.
    _check_root_files(args.build_dir, configs, args.overwrite)
    training = TrainingSettings(epochs=args.epochs, seed=args.seed, batch_size=args.batch_size)
    if not args.build_dir.is_dir():
        config_folder(args.config, args.build_dir)  # its error names the missing folder
    # One hold from the first read to the card: no other run may replace the config meanwhile.
    with hold(args.build_dir, create=False, flag="--from"):
        results = run_baseline(
            args.config, args.build_dir, training, overwrite=args.overwrite, on_epoch=_epoch_printer(training.epochs)
        )
        paper = results["paper_accuracy"]
        print(
            f"{args.config}: test accuracy {results['test_accuracy']:.2%}"
            + (f" (paper: {paper:.2%})" if paper is not None else "")
            + f", {training.epochs} epochs in {results['train_seconds']:.0f} s"
        )
        print(args.build_dir / args.config / BASELINE_FILE)
        _write_root_files(args.build_dir, args.overwrite, flag="--from")  # the card's baseline table reads it


def _evaluate_real_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("config", help=CONFIG_HELP)
    command.add_argument(
        "--real", type=Path, required=True, metavar="DIR|FILE.npz", help="class subfolders, or x/y arrays"
    )
    _from_option(command)
    command.add_argument("--out", type=Path, metavar="DIR", help=f"default: {DEFAULT_REAL_OUT}")
    _training_options(command)
    command.add_argument("--no-denoise", dest="denoise", action="store_false", help="no median filter, no noise margin")
    command.add_argument("--overwrite", action="store_true", help="replace existing results")


def _evaluate_real(args: argparse.Namespace) -> None:
    from generator.evaluation.baseline import TrainingSettings  # on use: PyTorch
    from generator.evaluation.realdata import evaluate_real, output_paths, per_class_table

    check_config_name(args.config)
    training = TrainingSettings(epochs=args.epochs, seed=args.seed, batch_size=args.batch_size)
    out = args.out or DEFAULT_REAL_OUT
    check_output_paths(out, [], args.overwrite)  # a file: refused before a folder is locked
    with hold(out):  # the lock of every writer into a folder (generator.repository.output)
        results = evaluate_real(
            args.config,
            args.real,
            out,
            args.build_dir,
            training,
            denoise=args.denoise,
            overwrite=args.overwrite,
            on_epoch=_epoch_printer(training.epochs),
        )
    print(
        f"{args.config}: {results['real_accuracy']:.2%} of {results['real_examples']} real images "
        f"(generated test split: {results['synthetic_test_accuracy']:.2%})"
    )
    print(per_class_table(results["per_class"]))
    for path in output_paths(args.config, out):
        print(path)


def _epoch_printer(epochs: int) -> Callable[[int, float], None]:
    def report(epoch: int, loss: float) -> None:
        print(f"epoch {epoch}/{epochs}: training loss {loss:.4f}", file=sys.stderr, flush=True)

    return report


def _export_arguments(command: argparse.ArgumentParser) -> None:
    from generator.repository.export import FORMATS, LAYOUTS  # here: it reads parquet, which workers never need

    command.add_argument("config", help=CONFIG_HELP)
    command.add_argument(
        "--format",
        dest="file_format",
        choices=FORMATS,
        required=True,
        help="idx: MNIST's four gzipped files; npz: one file of x_train, y_train, x_test, y_test",
    )
    command.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="flat",
        help="for idx: flat puts the four .gz files in --out (default: %(default)s); torchvision writes them "
        "uncompressed into --out/MNIST/raw/, where torchvision.datasets.MNIST(root=OUT) reads them",
    )
    command.add_argument("--out", type=Path, required=True, metavar="DIR", help="the folder to write into")
    _from_option(command)
    command.add_argument("--overwrite", action="store_true", help="replace existing files")


def _export(args: argparse.Namespace) -> None:
    from generator.repository.export import export_config  # on use: datasets

    check_config_name(args.config)
    for path in export_config(
        args.config, args.file_format, args.out, args.build_dir, overwrite=args.overwrite, layout=args.layout
    ):
        print(path)


def _figures_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("config", help=CONFIG_HELP)
    command.add_argument("--out", type=Path, required=True, metavar="DIR", help="the folder to write the PNGs into")
    _from_option(command)
    command.add_argument(
        "--spec", action="append", type=Path, metavar="FILE", help="the TOML spec of a config made from one"
    )
    command.add_argument(
        "--seed", type=int, default=0, help=f"picks the random samples: 0 to {MAX_SEED:,} (default: 0)"
    )
    command.add_argument("--overwrite", action="store_true", help="replace existing figures")


def _figures(args: argparse.Namespace) -> None:
    from generator.evaluation.figures import write_figures  # on use: albumentations

    check_config_name(args.config)
    (system,) = resolve([args.config], args.spec)
    for path in write_figures(system, args.out, args.build_dir, seed=args.seed, overwrite=args.overwrite):
        print(path)


def _stats_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("config", help=CONFIG_HELP)
    _from_option(command)
    command.add_argument("--split", choices=("train", "test"), default="train", help="default: train")
    command.add_argument(
        "--real", type=Path, metavar="DIR|FILE.npz", help="real digits: class subfolders, or x/y arrays"
    )
    command.add_argument(
        "--out", type=Path, metavar="DIR", help="write <config>-stats.json and <config>-stats.png here"
    )
    command.add_argument("--overwrite", action="store_true", help="replace existing files")


def _stats(args: argparse.Namespace) -> None:
    from generator.evaluation.stats import run_stats  # on use: albumentations

    check_config_name(args.config)
    if args.out is not None:
        check_output_paths(args.out, [], args.overwrite)  # a file: refused before a folder is locked
    with hold(args.out) if args.out is not None else contextlib.nullcontext():
        result = run_stats(
            args.config, args.build_dir, split=args.split, real=args.real, out=args.out, overwrite=args.overwrite
        )
    print(result.table)
    for path in result.written:
        print(path)


# --- push, collect -----------------------------------------------------------------------------------------------


def add_push_arguments(command: argparse.ArgumentParser) -> None:
    """The options of ``afro-mnist push`` (and of ``scripts/push_to_hub.py``), read by ``hub_target``."""
    command.add_argument(
        "--repo-id",
        default=settings.REPO_ID,
        metavar="OWNER/NAME",
        help=f"the Hub dataset repository (default: {settings.REPO_ID}, set in generator/settings.py)",
    )
    command.add_argument("--configs", nargs="+", metavar="NAME", help="configs to push (default: all in --from)")
    command.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=DEFAULT_BUILD_DIR,
        metavar="DIR",
        help=f"default: {DEFAULT_BUILD_DIR}",
    )
    command.add_argument("--revision", metavar="BRANCH", help="branch to commit to (default: main)")
    command.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
    command.add_argument(
        "--create",
        action="store_true",
        help="create the repository if it does not exist: private, unless --public (one that exists is not changed)",
    )
    command.add_argument("--public", action="store_true", help="with --create: make the new repository public")
    command.add_argument(
        "--private",
        action="store_true",
        help="refuse to publish unless the repository is private (a push never changes a repository's visibility)",
    )
    command.add_argument(
        "--dry-run",
        action="store_true",
        help="check the local files and list those the push would send; no token, no request",
    )
    command.add_argument(
        "--endpoint", metavar="URL", help=f"the Hub's address (default: $HF_ENDPOINT, else {settings.HUB_ENDPOINT})"
    )
    command.add_argument(
        "--timeout",
        type=float,
        default=settings.PUSH_TIMEOUT_S,
        metavar="SECONDS",
        help=f"how long each call to the Hub may take, retries included (default: {settings.PUSH_TIMEOUT_S:.0f})",
    )


def hub_target(args: argparse.Namespace) -> HubTarget:
    """Where the parsed push options send a push."""
    from generator.repository.publish import HubTarget  # on use: huggingface_hub, and the card's albumentations

    return HubTarget(
        repo_id=args.repo_id,
        revision=args.revision,
        create_pr=args.create_pr,
        private=args.private,
        create=args.create,
        public=args.public,
        endpoint=args.endpoint,
        timeout=args.timeout,
    )


def _push(args: argparse.Namespace) -> None:
    from generator.repository.publish import push  # on use: huggingface_hub, and the card's albumentations

    push(args.source, args.configs, hub_target(args), dry_run=args.dry_run)


def _collect(args: argparse.Namespace) -> None:
    collect_command.run(args)
    if args.collect_command == "export" and args.file_format == "parquet":
        _write_root_files(args.out, overwrite=False)  # the card gains a section for each handwritten config


COMMANDS: dict[str, Command] = {
    "generate": Command(
        "generate configs as parquet shards",
        _generate_arguments,
        _generate,
        hides_torch=True,
        description=(
            "Generate numeral configs as parquet shards, one folder per config, with the dataset card and the "
            "builder script at the top of --out. The same seed and version give the same bytes, whatever --workers."
        ),
        examples=(
            "afro-mnist generate                                  # the six built-in configs, MNIST's sizes",
            "afro-mnist generate --configs vai --train-size 600 --test-size 100 --out build/small",
            "afro-mnist generate --spec my_script.toml --out build/mine",
            "afro-mnist generate --numerals bengali --out build/bengali   # a Unicode digit set, from installed fonts",
            "afro-mnist generate --configs geez --with hand_forms --out build/hand_forms   # hands' forms (opt-in)",
        ),
    ),
    "preview": Command(
        "write a PNG of a config's exemplars and samples",
        _preview_arguments,
        _preview,
        hides_torch=True,
        description=(
            "Write one PNG of a config: each font's exemplar of every class, then random samples as generate "
            "would draw them. Nothing is generated to disk; it takes seconds."
        ),
        examples=("afro-mnist preview geez --out geez.png", "afro-mnist preview vai --out vai.png --seed 3"),
    ),
    "numerals": Command(
        "list Unicode's decimal digit sets and the installed fonts covering each",
        lambda command: None,
        _numerals,
        description=(
            "List every set of ten decimal digits that Unicode knows, with its script and the number of installed "
            "fonts that draw all ten: any of them can be generated with `generate --numerals NAME`."
        ),
        examples=("afro-mnist numerals", "afro-mnist generate --numerals bengali --out build/bengali"),
    ),
    "baseline": Command(
        "train LeNet-5 on a config and write its baseline.json",
        _baseline_arguments,
        _baseline,
        description=(
            "Train the paper's LeNet-5 on a generated config's train split, score it on the test split, and "
            "write baseline.json into the config's folder; the card then shows the figure. Needs PyTorch "
            "(pip install 'afro-mnist[baseline]')."
        ),
        examples=("afro-mnist baseline vai", "afro-mnist baseline geez --epochs 3 --from build/small"),
    ),
    "evaluate-real": Command(
        "train on a config, test on real handwritten digits",
        _evaluate_real_arguments,
        _evaluate_real,
        description=(
            "Train LeNet-5 on a generated config and test it on real handwritten digits: a folder of class "
            "subfolders, or an .npz of x and y arrays. Needs PyTorch."
        ),
        examples=("afro-mnist evaluate-real vai --real my_vai_digits/",),
    ),
    "export": Command(
        "write a config as MNIST's IDX files or a Keras-style .npz",
        _export_arguments,
        _export,
        hides_torch=True,
        description=(
            "Write a generated config in MNIST's own formats: the four gzipped IDX files that every MNIST reader "
            "takes (or, with --layout torchvision, laid out as torchvision.datasets.MNIST reads them), or one .npz "
            "with x_train, y_train, x_test and y_test as Keras' mnist.npz."
        ),
        examples=(
            "afro-mnist export vai --format idx --out mnist_vai/",
            "afro-mnist export vai --format idx --layout torchvision --out data/",
            "afro-mnist export geez --format npz --out exports/",
        ),
    ),
    "figures": Command(
        "draw a config's exemplars, samples, class means and deformation sweep",
        _figures_arguments,
        _figures,
        hides_torch=True,
        examples=("afro-mnist figures vai --out figures/",),
    ),
    "stats": Command(
        "Morpho-MNIST shape measures per class, beside real digits if given",
        _stats_arguments,
        _stats,
        hides_torch=True,
        description=(
            "Measure each class's shapes as Morpho-MNIST does (area, length, thickness, slant, width, height, "
            "pieces), and compare them with real digits if --real is given."
        ),
        examples=("afro-mnist stats vai", "afro-mnist stats vai --real my_vai_digits/ --out stats/"),
    ),
    "push": Command(
        "publish configs to a Hub dataset repository in one commit",
        add_push_arguments,
        _push,
        hides_torch=True,
        description=(
            "Publish the configs of a build folder, with the card and the builder script, to a Hugging Face Hub "
            "dataset repository in one commit. The token comes from $HF_TOKEN or `hf auth login`; --dry-run "
            "checks and lists without one."
        ),
        examples=("afro-mnist push --dry-run", "afro-mnist push --repo-id you/afro_mnist --configs vai nko"),
    ),
    "collect": Command(
        "collect real handwriting: serve a drawing page, review, export",
        collect_command.add_arguments,
        _collect,
        description=(
            "Collect real handwriting: serve a page where people draw numerals, review what they drew, and export "
            "it as seeds for generate --exemplars, as a handwritten config, or as strokes."
        ),
        examples=(
            "afro-mnist collect serve --configs vai",
            "afro-mnist collect export --format exemplars --out seeds/",
        ),
    ),
}

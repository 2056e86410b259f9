"""The ``afro-mnist`` command line.

    afro-mnist generate [--configs NAME ...] [--spec FILE.toml] [--out DIR] [--seed N]
                        [--train-size N] [--test-size N] [--workers N] [--overwrite]
    afro-mnist preview CONFIG --out FILE.png [--spec FILE.toml] [--seed N] [--overwrite]

Bad input ends with one line on stderr that names the bad value, and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from generator import __version__
from generator.errors import InputError
from generator.generate import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE, generate
from generator.registry import DEFAULT_CONFIGS, resolve

PROG = "afro-mnist"
DEFAULT_OUT = Path("build/afro_mnist")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message}; see {self.prog} --help")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="MNIST-style numeral datasets for low-resource scripts.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = commands.add_parser("generate", help="generate configs as parquet shards")
    gen.add_argument("--configs", nargs="+", metavar="NAME", help=f"default: {' '.join(DEFAULT_CONFIGS)}")
    gen.add_argument("--spec", action="append", type=Path, metavar="FILE", help="a numeral system's TOML spec")
    gen.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    gen.add_argument("--seed", type=int, default=0, help="default: 0")
    gen.add_argument("--train-size", type=int, default=DEFAULT_TRAIN_SIZE, metavar="N", help="images in train")
    gen.add_argument("--test-size", type=int, default=DEFAULT_TEST_SIZE, metavar="N", help="images in test")
    gen.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="default: all cores")
    gen.add_argument("--overwrite", action="store_true", help="replace configs that already exist in --out")

    pre = commands.add_parser("preview", help="write a PNG of a config's exemplars and samples")
    pre.add_argument("config")
    pre.add_argument("--out", type=Path, required=True, metavar="FILE.png")
    pre.add_argument("--spec", action="append", type=Path, metavar="FILE")
    pre.add_argument("--seed", type=int, default=0)
    pre.add_argument("--samples-per-class", type=int, default=8, metavar="N")
    pre.add_argument("--overwrite", action="store_true", help="replace FILE.png if it exists")
    return parser


def run(args: argparse.Namespace) -> None:
    if args.command == "generate":
        systems = resolve(args.configs, args.spec)
        written = generate(
            systems,
            args.out,
            seed=args.seed,
            train_size=args.train_size,
            test_size=args.test_size,
            workers=args.workers,
            overwrite=args.overwrite,
        )
        for folder in written:
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
        partial = args.out.with_name(f".{args.out.name}.partial")
        write_preview(system, partial, args.samples_per_class, args.seed)
        partial.replace(args.out)
        print(args.out)


def main(argv: list[str] | None = None) -> int:
    try:
        run(build_parser().parse_args(argv))
    except InputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0

#!/usr/bin/env python3
"""Regenerate the Afro-MNIST configs if asked, then publish them to the Hugging Face Hub in one commit.

    python scripts/push_to_hub.py --repo-id OWNER/afro_mnist [--regenerate [--seed N]] [push options]

Without ``--regenerate`` this is ``afro-mnist push``: it publishes what ``--from`` already holds. With it, it
first runs ``afro-mnist generate --overwrite`` for ``--configs`` (default: the four Afro-MNIST configs) into
``--from``, at full size with ``--seed``, and then publishes exactly those configs; the token, its write access
and the repository are checked before regenerating, so a push that cannot succeed fails in seconds. See
``--help`` for the push options; the token comes from ``HF_TOKEN`` or ``hf auth login``.
"""

from __future__ import annotations

import sys

from generator import cli
from generator.errors import ArgumentParser, InputError
from generator.registry import default_configs
from generator.repository import publish


def main(argv: list[str] | None = None) -> int:
    """Returns the exit status; errors are printed as the command line prints them (``cli.run_safely``)."""
    return cli.run_safely(lambda: push_to_hub(argv))


def push_to_hub(argv: list[str] | None) -> int:
    parser = ArgumentParser(prog="push_to_hub.py", description=__doc__.splitlines()[0])
    cli.add_push_arguments(parser)
    parser.add_argument("--regenerate", action="store_true", help="regenerate --configs into --from first")
    parser.add_argument("--seed", type=int, default=0, help="the seed for --regenerate (default: 0)")
    args = parser.parse_args(argv)
    target = cli.hub_target(args)
    if args.regenerate:
        if args.dry_run:
            # A dry run promises to touch nothing, and regenerating rewrites --from.
            raise InputError("--regenerate rewrites --from, so it cannot be a --dry-run; drop one of them")
        # Regenerating takes minutes: the token, the Hub and the repository are checked first.
        publish.check_hub(target)
        args.configs = args.configs or list(default_configs())
        generate = ["generate", "--configs", *args.configs, "--out", str(args.source), "--seed", str(args.seed)]
        status = cli.main([*generate, "--overwrite"])
        if status != 0:
            return status
    publish.push(args.source, args.configs, target, dry_run=args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())

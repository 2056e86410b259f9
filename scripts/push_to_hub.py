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
from generator.errors import InputError
from generator.registry import default_configs
from generator.repository import publish


def main(argv: list[str] | None = None) -> int:
    parser = publish.build_parser("push_to_hub.py", description=__doc__.splitlines()[0])
    parser.add_argument("--regenerate", action="store_true", help="regenerate --configs into --from first")
    parser.add_argument("--seed", type=int, default=0, help="the seed for --regenerate (default: 0)")
    try:
        args = parser.parse_args(argv)
        if args.regenerate and args.dry_run:
            # A dry run promises to touch nothing, and regenerating rewrites --from.
            raise InputError("--regenerate rewrites --from, so it cannot be a --dry-run; drop one of them")
        if args.regenerate:
            # Regenerating takes minutes: the token, the Hub and the repository are checked first.
            publish.check_hub(args)
    except InputError as exc:
        print(f"{publish.PROG}: error: {exc}", file=sys.stderr)
        return 2
    if args.regenerate:
        args.configs = args.configs or list(default_configs())
        status = cli.main(
            ["generate", "--configs", *args.configs, "--out", str(args.source), "--seed", str(args.seed), "--overwrite"]
        )
        if status != 0:
            return status
    return publish.run(args)


if __name__ == "__main__":
    sys.exit(main())

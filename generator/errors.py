"""Bad user input: the one exception type for it, and an argument parser that raises it."""

from __future__ import annotations

import argparse


class InputError(ValueError):
    """Bad input from the user: a config, spec, font, size or output path that cannot be used.

    The command line prints its message as a single line on stderr and exits with status 2, so the
    message names the bad value and says what to do about it.
    """


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error raises InputError, so that it too ends as one line and status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message}; see {self.prog} --help")

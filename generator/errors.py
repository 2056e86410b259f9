"""Bad user input: the one exception type for it, an argument parser that raises it, and the error printer's helpers.

A missing optional extra is bad input too: ``import_torch`` says which one to install.
"""

from __future__ import annotations

import argparse
import re
from types import ModuleType


class InputError(ValueError):
    """Bad input from the user: a config, spec, font, size or output path that cannot be used.

    The command line prints its message as a single line on stderr and exits with status 2, so the
    message names the bad value and says what to do about it.
    """


def import_torch() -> ModuleType:
    """PyTorch, or an InputError saying how to install it: the baseline, real-data evaluation and the loader need it."""
    try:
        import torch  # on use only: it is an optional extra, and takes seconds to import
    except ModuleNotFoundError:
        raise InputError(
            "the baseline needs PyTorch, which is not installed; run: pip install 'afro-mnist[baseline]'"
        ) from None
    return torch


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error raises InputError, so that it too ends as one line and status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message}; see {self.prog} --help")


# --- what the error printer prints -----------------------------------------------------------------------------

REDACTED = "hf_***"
# Anything shaped like a Hugging Face token (hf_ and 20 or more letters or digits; a token has 34, while a folder
# such as hf_datasets is left alone), and whatever follows "Bearer" in an echoed Authorization header.
_TOKEN_SHAPED = re.compile(r"\bhf_[A-Za-z0-9]{20,}|(?<=Bearer )\S+", re.IGNORECASE)
# The tokens this process has in use; a server may echo them in any form.
_secrets: set[str] = set()


def register_secret(secret: str) -> None:
    """Marks ``secret`` (the token a push sends) to be redacted from every line the tool prints."""
    if secret:
        _secrets.add(secret)


def redact(text: str) -> str:
    """``text`` with every registered secret and anything token-shaped replaced by ``hf_***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _TOKEN_SHAPED.sub(REDACTED, text)


def one_line(message: str, limit: int = 600) -> str:
    """``message`` on one line (a library's multi-line message joined with "; "), redacted, at most ``limit`` chars."""
    text = "; ".join(line.strip() for line in str(message).splitlines() if line.strip())
    text = redact(text)
    return text if len(text) <= limit else text[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"

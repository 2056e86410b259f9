"""The dataset repository's layout, and the file writes that keep it consistent.

    build/afro_mnist/                the repository, as it will stand on the Hub
      <config>/metadata.json         written last: a config folder without it is unfinished
      <config>/recipe.json           the albumentations recipe that made the shards
      <config>/baseline.json         once ``afro-mnist baseline`` has run
      <config>/{train,test}-*.parquet

Only the standard library is imported here, so that light commands (export, load_data) stay light.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from generator.errors import InputError

DEFAULT_BUILD_DIR = Path("build/afro_mnist")
METADATA_FILE = "metadata.json"
RECIPE_FILE = "recipe.json"
BASELINE_FILE = "baseline.json"


def config_folders(out: Path) -> list[Path]:
    """The finished config folders under ``out``: those with a ``metadata.json``.

    The generator's own temporary folders (``.partial-*``, ``.replaced-*``) never count.
    """
    return sorted(path.parent for path in out.glob(f"*/{METADATA_FILE}") if not path.parent.name.startswith("."))


def read_metadata(folder: Path) -> dict:
    """A config folder's ``metadata.json``.

    Raises:
        InputError: the file is missing or is not valid JSON.
    """
    path = folder / METADATA_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path} cannot be read ({exc}); regenerate the config with --overwrite") from None


def sha256_file(path: Path) -> str:
    """The file's SHA-256 in hex, read a MiB at a time so that shards of any size fit in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Writes ``data`` to a hidden temporary file beside ``path``, then renames it over ``path``.

    A reader sees the old file or the new one, never half of one, and a failed write leaves no
    temporary file behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(partial, 0o644)  # mkstemp makes 0600, which would hide the file from other readers
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise

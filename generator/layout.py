"""The dataset repository's layout, and the file writes that keep it consistent.

    build/afro_mnist/                the repository, as it will stand on the Hub
      <config>/metadata.json         written last: a config folder without it is unfinished
      <config>/recipe.json           the albumentations recipe that made the shards
      <config>/baseline.json         once ``afro-mnist baseline`` has run
      <config>/{train,test}-*.parquet

Only the standard library is imported here, so that light commands (export, load_data) stay light.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from generator.errors import InputError

DEFAULT_BUILD_DIR = Path("build/afro_mnist")
# The built-in numeral systems, one folder per config holding its spec file and fonts (see generator.registry).
BUILTIN_DIR = Path(__file__).parent / "numeral_systems"
SPEC_FILE = "spec.toml"
METADATA_FILE = "metadata.json"
RECIPE_FILE = "recipe.json"
BASELINE_FILE = "baseline.json"
SPLITS = ("train", "test")

# A config name is a folder name, a Hub config name and part of file names: lowercase letters, digits and _,
# short enough for any file system.
CONFIG_NAME = re.compile(r"[a-z0-9_]{1,64}")
SHARD_FILE = re.compile(r"(train|test)-\d{5}-of-\d{5}\.parquet")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# More images than any config could hold on one machine; metadata that claims more is damaged.
MAX_EXAMPLES = 10**9
# The largest seed: metadata.json records it, and a reader refuses a larger one as damaged. A billion seeds are more
# than anyone draws, and every library that takes a seed (NumPy, albumentations, PyTorch) takes these.
MAX_SEED = 10**9
# A class name or script name is shown in the card: one printable line.
MAX_LABEL_LENGTH = 64


def check_config_name(name: object, what: str = "config") -> str:
    """``name`` if it is a config name (``[a-z0-9_]{1,64}``).

    Raises:
        InputError: it is not, naming it; so that no name can reach outside the folder it names a child of.
    """
    if not isinstance(name, str) or not CONFIG_NAME.fullmatch(name):
        raise InputError(
            f"{what} {name!r} is not a config name; use 1 to 64 lowercase letters, digits and _ (such as vai)"
        )
    return name


def check_seed(seed: object, flag: str = "--seed") -> int:
    """``seed`` if it is a whole number in 0..MAX_SEED.

    Raises:
        InputError: it is not, naming it; checked with the other arguments, before any work.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"{flag} {seed} is not a seed; pick a whole number from 0 to {MAX_SEED:,}")
    return seed


def check_label(text: object, what: str) -> str | None:
    """Why ``text`` cannot be a class or script name shown in the card, or None if it can."""
    if not isinstance(text, str) or not text.strip():
        return f"{what} {text!r} must be a non-empty string"
    if len(text) > MAX_LABEL_LENGTH:
        return f"{what} {text[:20]!r}... is longer than {MAX_LABEL_LENGTH} characters"
    if not text.isprintable() or any(char in text for char in "<>`|\\"):
        return f"{what} {text!r} holds a line break, control character or one of < > ` | \\; use plain text"
    return None


def check_class_name(text: object) -> str | None:
    """Why ``text`` cannot be a class name, or None if it can.

    A class name is a label, shown in the card, and also the name of a folder: of the seeds that ``generate
    --exemplars`` reads and of the drawings that ``collect export --format exemplars`` writes. So beyond a label's
    rules it holds no path separator and is not ``.`` or ``..``: no name can lead outside the folder it names a
    child of.
    """
    if (why := check_label(text, "class name")) is not None:
        return why
    assert isinstance(text, str)  # check_label refused anything else
    if "/" in text or "\\" in text or "\0" in text or text.strip() in (".", ".."):
        return f"class name {text!r} is a path, not a label; use a name without / or \\, other than . and .."
    return None


def class_folder(parent: Path, class_name: str) -> Path:
    """``parent / class_name``, the folder of one class, for a name that ``check_class_name`` accepts.

    Raises:
        InputError: the name is no label (a path, ``.``, ``..``, empty), naming it.
    """
    if (why := check_class_name(class_name)) is not None:
        raise InputError(f"{why}; fix the spec file's class_names")
    return parent / class_name


def check_output_paths(out: Path | None, paths: Iterable[Path], overwrite: bool) -> None:
    """Refuses, before anything is written, an ``--out`` folder that is a file, or an output that exists.

    Raises:
        InputError: ``out`` is a file; or one of ``paths`` exists and ``overwrite`` is not set.
    """
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder")
    existing = [] if overwrite else [path for path in paths if path.exists()]
    if existing:
        raise InputError(f"{existing[0]} already exists; pass --overwrite to replace it")


def format_code_point(code_point: int) -> str:
    """A code point as specs and ``metadata.json`` spell it: ``0x1369`` -> ``"U+1369"``."""
    return f"U+{code_point:04X}"


def config_folders(out: Path) -> list[Path]:
    """The finished config folders under ``out``: those with a ``metadata.json``.

    The generator's own temporary folders (``.partial-*``, ``.replaced-*``) never count, nor does a link: a config
    is a folder inside ``out``, and a link to one elsewhere would describe that one twice.
    """
    return sorted(
        path.parent
        for path in out.glob(f"*/{METADATA_FILE}")
        if not path.parent.name.startswith(".") and not path.parent.is_symlink()
    )


def config_folder(config: str, build_dir: str | Path = DEFAULT_BUILD_DIR) -> Path:
    """The folder of a finished config in ``build_dir``.

    Raises:
        InputError: the build folder or the config is missing, or the config was never finished.
    """
    check_config_name(config)
    build_dir = Path(build_dir)
    if (BUILTIN_DIR / config / SPEC_FILE).is_file():
        make_it = f"run `make dataset` or `afro-mnist generate --configs {config} --out {build_dir}` first"
    else:  # a config of a spec file: --configs alone cannot name it, and it may live in a folder of its own
        make_it = (
            f"generate it with `afro-mnist generate --spec YOUR_SPEC.toml --out {build_dir}`, "
            "or pass --from the folder it was generated into"
        )
    if not build_dir.is_dir():
        raise InputError(f"build folder {build_dir} does not exist; {make_it}")
    folder = build_dir / config
    if folder.is_symlink():
        raise InputError(f"{folder} is a link; a config is a folder inside {build_dir}: copy it there, or pass --from")
    if not folder.is_dir():
        found = [path.name for path in config_folders(build_dir)]
        listing = ", ".join(found) if found else "none"
        raise InputError(f"config {config!r} is not in {build_dir} (configs there: {listing}); {make_it}")
    if not (folder / METADATA_FILE).is_file():
        raise InputError(f"{folder} has no {METADATA_FILE}, so it is not a finished config; {make_it}")
    return folder


def read_metadata(folder: Path, class_count: int | None = None) -> dict:
    """A config folder's ``metadata.json``, checked by ``check_metadata``.

    ``class_count``, where given (``registry.builtin_class_count``), is the number of classes the config must have.

    Raises:
        InputError: the file is missing, is not valid JSON, or is not the metadata of a config.
    """
    path = folder / METADATA_FILE
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"{path} cannot be read ({exc}); regenerate the config with --overwrite") from None
    check_metadata(metadata, str(path), class_count)
    return metadata


def check_metadata(metadata: object, source: str, class_count: int | None = None) -> None:
    """Checks that ``metadata`` has every key, type and bound that the commands reading it rely on.

    File names must be plain names inside the config folder (a shard name, or a recipe file name without a
    folder), every file has a SHA-256, and counts lie in 0..MAX_EXAMPLES and add up.

    Raises:
        InputError: naming ``source``, the first key that is wrong, and what to do.
    """

    def fail(key: str, why: str) -> InputError:
        return InputError(f"{source}: {key} {why}; regenerate the config with --overwrite")

    def field(parent: object, key: str, kind: type | tuple[type, ...], where: str) -> object:
        value = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise fail(f"{where}{key}", f"is {value!r}, not {getattr(kind, '__name__', 'of the right type')}")
        return value

    def count(parent: object, key: str, where: str) -> int:
        value = field(parent, key, int, where)
        if not 0 <= value <= MAX_EXAMPLES:  # type: ignore[operator]
            raise fail(f"{where}{key}", f"is {value}, outside 0..{MAX_EXAMPLES}")
        return value  # type: ignore[return-value]

    def sha256(parent: object, key: str, where: str) -> None:
        if not _SHA256.fullmatch(str(field(parent, key, str, where))):
            raise fail(f"{where}{key}", "is not a SHA-256 in hex")

    if not isinstance(metadata, dict):
        raise fail("the file", "is not a JSON object")
    try:
        check_config_name(metadata.get("config"), "config")
    except InputError as exc:
        raise fail("config", str(exc)) from None
    for key in ("name", "version"):
        field(field(metadata, "generator", dict, ""), key, str, "generator.")
    field(metadata, "libraries", dict, "")
    # A config collected from writers (afro-mnist collect export) has no seed and no recipe.
    generated = metadata.get("source") != "handwritten"
    if generated:
        seed = field(metadata, "seed", int, "")
        if not 0 <= seed <= MAX_SEED:  # type: ignore[operator]
            raise fail("seed", f"is {seed}, outside 0..{MAX_SEED}")
    system = field(metadata, "numeral_system", dict, "")
    field(system, "script", str, "numeral_system.")
    for key in ("languages", "code_points", "characters", "class_names"):
        items = field(system, key, list, "numeral_system.")
        if not all(isinstance(item, str) for item in items):  # type: ignore[union-attr]
            raise fail(f"numeral_system.{key}", "must be a list of strings")
    names = system["class_names"]  # type: ignore[index]
    if not 2 <= len(names) == len(system["characters"]) == len(system["code_points"]):  # type: ignore[index]
        raise fail("numeral_system.class_names", "must name at least two classes, one per character and code point")
    if class_count is not None and class_count != len(names):
        config = metadata["config"]
        raise fail("numeral_system.class_names", f"names {len(names)} classes, while config {config} has {class_count}")
    if (why := check_label(system["script"], "script")) is not None:  # type: ignore[index]
        raise fail("numeral_system", why)
    for name in names:  # type: ignore[union-attr]
        if (why := check_class_name(name)) is not None:
            raise fail("numeral_system", why)
    image = field(metadata, "image", dict, "")
    shape = field(image, "shape", list, "image.")
    if len(shape) != 2 or not all(isinstance(side, int) and 0 < side <= 1024 for side in shape):  # type: ignore[arg-type]
        raise fail("image.shape", f"is {shape!r}, not [height, width]")
    for font in field(metadata, "fonts", list, ""):  # type: ignore[union-attr]
        field(font, "file", str, "fonts[].")
        field(font, "family", str, "fonts[].")
        sha256(font, "sha256", "fonts[].")
    if generated:
        recipe_file = field(metadata, "recipe_file", str, "")
        if not _is_plain_name(recipe_file):  # type: ignore[arg-type]
            raise fail("recipe_file", f"{recipe_file!r} is not a file name inside the config folder")
        sha256(metadata, "recipe_sha256", "")
        steps = field(field(field(metadata, "recipe", dict, ""), "transform", dict, "recipe."), "transforms", list, "")
        if not all(isinstance(step, dict) for step in steps):  # type: ignore[union-attr]
            raise fail("recipe.transform.transforms", "must be a list of transforms")
    splits = field(metadata, "splits", dict, "")
    if not splits or not set(splits) <= set(SPLITS):  # type: ignore[arg-type]
        raise fail("splits", f"must hold {' and/or '.join(SPLITS)}")
    for split, info in splits.items():  # type: ignore[union-attr]
        where = f"splits.{split}."
        total = count(info, "num_examples", where)
        per_class = count(info, "examples_per_class", where)
        by_class = info.get("examples_by_class")  # a handwritten config's classes differ in size
        if by_class is None and per_class * len(names) != total:
            raise fail(f"{where}num_examples", f"is {total}, not {per_class} for each of {len(names)} classes")
        if by_class is not None and (
            not isinstance(by_class, dict)
            or list(by_class) != list(names)
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in by_class.values())
            or sum(by_class.values()) != total
        ):
            raise fail(
                f"{where}examples_by_class", f"must count the {total} examples of each of the {len(names)} classes"
            )
        field(info, "num_bytes", int, where)
        field(info, "download_size", int, where)
        rows = 0
        for shard in field(info, "shards", list, where):  # type: ignore[union-attr]
            name = field(shard, "file", str, f"{where}shards[].")
            if not SHARD_FILE.fullmatch(name) or not name.startswith(f"{split}-"):  # type: ignore[arg-type]
                raise fail(f"{where}shards[].file", f"{name!r} is not a {split} shard name")
            rows += count(shard, "num_examples", f"{where}shards[].")
            field(shard, "num_bytes", int, f"{where}shards[].")
            field(shard, "size_bytes", int, f"{where}shards[].")
            sha256(shard, "sha256", f"{where}shards[].")
        if rows != total:
            raise fail(f"{where}num_examples", f"is {total}, but its shards hold {rows}")


def _is_plain_name(name: str) -> bool:
    """A file name with no folder in it: not empty, no separator, not . or .., not hidden."""
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") and not name.startswith(".")


def member(folder: Path, name: str) -> Path:
    """``folder / name``, for a file a push may send: a plain name, and no link leading out of ``folder``.

    Raises:
        InputError: ``name`` names a folder, a parent or a hidden file, or the path resolves outside ``folder``.
    """
    if not _is_plain_name(name):
        raise InputError(f"{folder}: {name!r} is not a file name inside the config folder; regenerate the config")
    path = folder / name
    try:
        inside = path.resolve().parent == folder.resolve()
    except (OSError, RuntimeError):  # a link loop
        inside = False
    if path.is_symlink() or not inside:
        raise InputError(f"{path} is a link, or leads outside {folder}; replace it with the file itself or regenerate")
    return path


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

    Raises:
        InputError: the file system refuses (full, read-only, no permission, a file where a folder should be).
    """
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(partial, 0o644)  # mkstemp makes 0600, which would hide the file from other readers
        os.replace(partial, path)
    except OSError as exc:
        _discard(partial)
        raise InputError(f"cannot write {path} ({exc.strerror or exc}); free space or fix permissions") from None
    except BaseException:
        _discard(partial)
        raise


def _discard(partial: str | None) -> None:
    if partial is not None:
        Path(partial).unlink(missing_ok=True)


def is_font_pattern(entry: str, base: Path) -> bool:
    """Whether a spec's font entry names a folder or a glob rather than one file."""
    return glob.has_magic(entry) or (base / Path(entry).expanduser()).is_dir()

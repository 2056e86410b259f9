"""The output folder of ``generate``: one writer at a time, the root files it owns, and repairs after a kill.

    build/afro_mnist/
      .afro-mnist.lock          held (``flock``) by the one run writing here; it holds that run's pid
      .afro-mnist-root.json     the root files this tool wrote, by SHA-256, and the configs they describe
      .afro-mnist-work.json     the temporary names below that the run holding the lock is about to make
      .partial-<config>/        a config being written; renamed to <config>/ once complete
      .replaced-<config>/       the config an --overwrite run is replacing, until the new one is in place

Every command that writes into a folder (generate, baseline, export, figures, collect export) holds its lock
(``hold``) for as long as it reads and writes there. A run that is killed leaves at most a ``.partial-*`` or
``.replaced-*`` entry and root files that describe an older set of configs. The next run into the folder clears
the first and puts a ``.replaced-*`` folder back where its replacement never arrived (``repair``); the command
then rewrites the root files, which ``root_files_stale`` finds out of date. ``repair`` touches only the entries
that ``.afro-mnist-work.json`` names, each recorded before it was made (``scratch``): a folder of the user's that
happens to be called ``.partial-x`` is never the tool's to delete. The root files belong to the tool only while
they hold what it wrote: any other file there is the user's, and is replaced only with ``--overwrite``.

Only the standard library is imported here.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.errors import InputError
from generator.layout import METADATA_FILE, config_folders, sha256_file, write_atomic

LOCK_FILE = ".afro-mnist.lock"
MANIFEST_FILE = ".afro-mnist-root.json"
WORK_FILE = ".afro-mnist-work.json"
PARTIAL_PREFIX = ".partial-"
REPLACED_PREFIX = ".replaced-"


# --- one writer per folder ----------------------------------------------------------------------------------------


@contextmanager
def hold(out: Path, *, create: bool = True, flag: str = "--out") -> Iterator[Path]:
    """Holds ``out`` for this process alone, creating it if need be, and yields it.

    The lock is an exclusive ``flock`` on ``out/.afro-mnist.lock``: the kernel drops it when the process ends,
    however it ends, so a killed run never leaves the folder locked. Folders this call created are removed again
    on the way out if nothing was written into them.

    A process that holds ``out`` already may hold it again (a command that writes its root files after its
    config): the lock is then taken once, and dropped when the outermost hold ends.

    Raises:
        InputError: ``out`` cannot be created or written, or another process holds it (naming its pid).
    """
    key = _lock_key(out)
    if key is not None and key in _held:
        _held[key] += 1
        try:
            yield out
        finally:
            _held[key] -= 1
        return
    created = _make_folder(out, flag) if create else []
    if not out.is_dir():
        raise InputError(f"{flag} {out} is not a folder; give the folder that afro-mnist generate wrote")
    lock_path = out / LOCK_FILE
    descriptor = None
    try:
        descriptor = _lock(lock_path, out, flag)
        key = _lock_key(out)
        _held[key] = 1
        try:
            yield out
        finally:
            del _held[key]
    finally:
        if descriptor is not None:
            # Unlinked while still held, so that no other run can lock a file that is about to vanish.
            lock_path.unlink(missing_ok=True)
            os.close(descriptor)
        for folder in reversed(created):
            try:
                folder.rmdir()  # only if empty: the run failed before it wrote anything
            except OSError:
                break


# The folders this process holds, by device and inode, with how deep their holds are nested.
_held: dict[tuple[int, int], int] = {}


def _lock_key(out: Path) -> tuple[int, int] | None:
    try:
        stat = out.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _make_folder(out: Path, flag: str) -> list[Path]:
    """Creates ``out`` and any missing parents; returns those it created, outermost first."""
    missing = []
    for folder in [out, *out.parents]:
        if folder.is_dir():
            break
        if folder.exists() or folder.is_symlink():
            raise InputError(f"{flag} {out}: {folder} is a file or a broken link, not a folder; give another path")
        missing.append(folder)
    made: list[Path] = []
    try:
        for folder in reversed(missing):
            folder.mkdir()
            made.append(folder)
    except OSError as exc:
        for folder in reversed(made):  # leave no parent behind of a folder that could not be made
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise InputError(
            f"{flag} {out} cannot be created ({exc.strerror or exc}); give a folder you can write"
        ) from None
    return list(reversed(missing))


def _lock(path: Path, out: Path, flag: str) -> int:
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise InputError(
                f"{flag} {out} cannot be written ({exc.strerror or exc}); give a folder you can write"
            ) from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(descriptor)
            os.close(descriptor)
            raise InputError(
                f"{flag} {out} is in use by another afro-mnist run (pid {holder}); wait for it to end, "
                "or give another folder"
            ) from None
        # The holder before us may have unlinked the file between our open and our lock: then start again.
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            same = False
        if same:
            try:  # for the message of a run refused meanwhile; the lock holds without it
                os.ftruncate(descriptor, 0)
                os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
            except OSError:
                pass
            return descriptor
        os.close(descriptor)


def _read_pid(descriptor: int) -> str:
    text = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
    return text if text.isdigit() else "unknown"


# --- what the tool owns at the root -------------------------------------------------------------------------------


def read_manifest(out: Path) -> dict:
    """The record of root files this tool wrote into ``out`` (empty when there is none, or it is unreadable).

    Only relative paths that stay inside ``out`` count, whatever the file says.
    """
    empty = {"files": {}, "configs": {}, "complete": False}
    try:
        manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return empty
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return empty
    manifest["files"] = {
        path: [sha for sha in shas if isinstance(sha, str)]
        for path, shas in manifest["files"].items()
        if _inside(path) and isinstance(shas, list)
    }
    return manifest


def _inside(path_in_repo: str) -> bool:
    parts = Path(path_in_repo).parts
    return bool(parts) and not Path(path_in_repo).is_absolute() and ".." not in parts and "\\" not in path_in_repo


def owned(out: Path, path_in_repo: str, manifest: dict) -> bool:
    """Whether the file at ``path_in_repo`` is absent, or holds bytes this tool wrote there (and is no link)."""
    path = out / path_in_repo
    if not path.exists() and not path.is_symlink():
        return True
    if path.is_symlink() or not path.is_file():
        return False
    return sha256_file(path) in manifest["files"].get(path_in_repo, [])


def check_root_paths(out: Path, paths: list[str], overwrite: bool) -> None:
    """Refuses, before anything is generated, to replace a root file this tool did not write.

    Raises:
        InputError: a folder on the way is a link or a file (always), or a file is not the tool's (without
            ``overwrite``).
    """
    manifest = read_manifest(out)
    for path_in_repo in paths:
        for parent in Path(path_in_repo).parents:
            folder = out / parent
            if str(parent) != "." and (folder.is_symlink() or (folder.exists() and not folder.is_dir())):
                raise InputError(f"{folder} is a link or a file, not a folder; move it out of {out}")
        path = out / path_in_repo
        if path.is_dir() and not path.is_symlink():
            raise InputError(f"{path} is a folder; move it out of {out}")
        if not overwrite and not owned(out, path_in_repo, manifest):
            raise InputError(
                f"{path} was not written by afro-mnist (it is not in {out / MANIFEST_FILE}); move it away, "
                "or pass --overwrite to replace it"
            )


def config_state(out: Path) -> dict[str, str]:
    """Each finished config in ``out`` by the SHA-256 of its ``metadata.json``: what the root files describe."""
    return {folder.name: sha256_file(folder / METADATA_FILE) for folder in config_folders(out)}


def write_root_files(out: Path, files: dict[str, bytes], overwrite: bool) -> None:
    """Writes ``files`` into ``out``, recording each in the manifest, and deletes the tool's earlier root files
    that ``files`` no longer holds (a grid of a config that is gone), if they still hold what the tool wrote.

    The manifest is written first with both the old and the new SHA-256 of each file, and marked incomplete; a run
    killed half-way is then recognised as the tool's own, and the next run finishes it.

    Raises:
        InputError: a file belongs to the user (without ``overwrite``), or the disk refuses a write.
    """
    check_root_paths(out, list(files), overwrite)
    manifest = read_manifest(out)
    recorded = manifest["files"]
    stale = sorted(set(recorded) - set(files))
    state = config_state(out)
    pending = {path: [*_known(recorded.get(path, []), out / path), _sha256(data)] for path, data in files.items()}
    _write_manifest(out, {"files": {**recorded, **pending}, "configs": state, "complete": False})
    try:
        for path_in_repo, data in files.items():
            write_atomic(out / path_in_repo, data)
    except InputError as exc:
        raise InputError(f"{exc}; the next run into {out} then rewrites its root files") from None
    for path_in_repo in stale:
        if owned(out, path_in_repo, manifest):
            (out / path_in_repo).unlink(missing_ok=True)
    final = {path: [_sha256(data)] for path, data in files.items()}
    _write_manifest(out, {"files": final, "configs": state, "complete": True})


def _known(shas: list[str], path: Path) -> list[str]:
    return [sha for sha in shas if path.is_file() and not path.is_symlink() and sha == sha256_file(path)]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_manifest(out: Path, manifest: dict) -> None:
    write_atomic(out / MANIFEST_FILE, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())


def root_files_stale(out: Path) -> bool:
    """Whether the root files do not (or may not) describe the configs now in ``out``."""
    manifest = read_manifest(out)
    state = config_state(out)
    if not state:
        return False
    if not manifest.get("complete") or manifest.get("configs") != state:
        return True
    return any(not (out / path).is_file() for path in manifest["files"])


# --- repairs ------------------------------------------------------------------------------------------------------


def repair(out: Path) -> list[str]:
    """Clears what an interrupted run left in ``out``, and returns what it did, for one line of news.

    Only entries that ``.afro-mnist-work.json`` names are touched: the tool recorded each before it made it. A
    ``.partial-*`` folder or temporary file is removed; a ``.replaced-*`` folder is removed when its config is in
    place and complete, and put back when its config is missing. Stray temporary files of atomic root-file writes
    are removed. Root files that no longer describe the configs (``root_files_stale``) are the command's to
    rewrite, once its run is over. Call it holding ``out`` (``hold``).

    Raises:
        InputError: a ``.replaced-*`` folder holds the only complete copy of a config while a folder without
            ``metadata.json`` stands in its place: both are kept, and the message says which to keep.
    """
    done = []
    recorded = _read_work(out)
    for name in recorded:
        entry = out / name
        if entry.is_symlink() or not entry.exists():
            continue  # never made, already gone, or replaced by something the tool never makes
        if name.startswith(PARTIAL_PREFIX) and entry.is_dir():
            _remove_tree(entry)
            done.append(f"removed {name}")
        elif name.startswith(REPLACED_PREFIX) and entry.is_dir():
            done.append(_settle_replaced(out, entry))
        elif entry.is_file():  # a temporary file of an atomic write (``write_atomic_recorded``)
            entry.unlink(missing_ok=True)
            done.append(f"removed {name}")
    if recorded:
        _write_work(out, [])
    # Temporary files of the tool's atomic writes (layout.write_atomic) beside the root files they were for.
    for path_in_repo in [MANIFEST_FILE, WORK_FILE, *read_manifest(out)["files"]]:
        folder, name = (out / path_in_repo).parent, Path(path_in_repo).name
        if folder.is_dir() and not folder.is_symlink():
            for stray in folder.glob(f".{glob.escape(name)}.*.partial"):
                stray.unlink(missing_ok=True)
    return done


def _settle_replaced(out: Path, replaced: Path) -> str:
    """Removes or restores the old copy that an interrupted replacement left aside; returns what it did."""
    final = out / replaced.name.removeprefix(REPLACED_PREFIX)
    if not final.exists() and not final.is_symlink():
        try:
            replaced.rename(final)
        except OSError as exc:
            raise InputError(f"cannot rename {replaced} to {final} ({exc.strerror or exc}); do it by hand") from None
        return f"put {replaced.name} back as {final.name}"
    if _complete(replaced) and not (final.is_dir() and not final.is_symlink() and _complete(final)):
        raise InputError(
            f"{replaced} holds the only complete copy of {final.name}, and {final} has no {METADATA_FILE}; move "
            f"{final} away and rename {replaced.name} to {final.name}, or remove {replaced.name} if it is to go"
        )
    # The new folder is in place (a config's with its metadata; an export's, which has none, alike).
    _remove_tree(replaced)
    return f"removed {replaced.name}"


def _complete(folder: Path) -> bool:
    """Whether a config folder, or the tool's copy aside of one, is a whole config: its metadata is written last."""
    marker = folder / METADATA_FILE
    return marker.is_file() and not marker.is_symlink()


# --- the temporary names the tool makes ---------------------------------------------------------------------------


def _read_work(out: Path) -> list[str]:
    """The temporary names recorded in ``out``: plain names of ``.partial-*``, ``.replaced-*`` or ``.*.partial``."""
    try:
        names = json.loads((out / WORK_FILE).read_text(encoding="utf-8")).get("made", [])
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, AttributeError):
        return []
    if not isinstance(names, list):
        return []
    return [name for name in names if isinstance(name, str) and _is_scratch_name(name)]


def _is_scratch_name(name: str) -> bool:
    return (
        "/" not in name
        and "\\" not in name
        and name not in (".", "..")
        and (name.startswith((PARTIAL_PREFIX, REPLACED_PREFIX)) or (name.startswith(".") and name.endswith(".partial")))
    )


def _write_work(out: Path, names: list[str]) -> None:
    if not names:
        try:
            (out / WORK_FILE).unlink(missing_ok=True)
        except OSError as exc:
            raise InputError(f"cannot write {out / WORK_FILE} ({exc.strerror or exc}); fix permissions") from None
        return
    write_atomic(out / WORK_FILE, (json.dumps({"made": names}, indent=1) + "\n").encode())


@contextmanager
def scratch(out: Path, name: str) -> Iterator[Path]:
    """Records ``name`` in ``out``'s ``.afro-mnist-work.json`` before the caller makes it, and yields its path.

    The record is dropped on the way out once the entry is gone; while it stands, the next ``repair`` may remove
    the entry as the tool's own. Use it holding ``out`` (``hold``), for a name that is free (``check_scratch_free``).
    """
    if not _is_scratch_name(name):
        raise ValueError(f"{name!r} is not a temporary name of the tool")
    names = _read_work(out)
    if name not in names:
        _write_work(out, [*names, name])
    path = out / name
    try:
        yield path
    finally:
        if not path.exists() and not path.is_symlink():
            _write_work(out, [kept for kept in _read_work(out) if kept != name])


def check_scratch_free(out: Path, names: list[str]) -> None:
    """Refuses, before any work, to write a config or export whose temporary folder names a folder of the user's.

    Raises:
        InputError: ``.partial-<name>`` or ``.replaced-<name>`` exists in ``out`` and the tool did not make it.
    """
    if not out.is_dir():
        return
    recorded = _read_work(out)
    for name in names:
        for prefix in (PARTIAL_PREFIX, REPLACED_PREFIX):
            path = out / f"{prefix}{name}"
            if (path.exists() or path.is_symlink()) and path.name not in recorded:
                raise InputError(
                    f"{path} is in the way: afro-mnist writes {name} through that name, and did not make this one; "
                    f"move it out of {out}"
                )


def replace_folder(final: Path, fill: Callable[[Path], None]) -> Path:
    """Fills ``.partial-<name>`` beside ``final`` with ``fill``, then moves it into place; returns ``final``.

    A reader never sees half a folder: an old ``final`` is renamed aside to ``.replaced-<name>`` first, and removed
    once the new one is in place. A run killed between the two renames leaves the old one aside, which the next
    ``repair`` puts back. Call it holding ``final.parent`` (``hold``); ``final`` must not be a link or a file.

    Raises:
        InputError: ``final`` is a link or a file, or a temporary name is taken by a folder of the user's.
    """
    out = final.parent
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        raise InputError(f"{final} is a link or a file, not a folder; move it out of {out}")
    check_scratch_free(out, [final.name])
    with scratch(out, f"{PARTIAL_PREFIX}{final.name}") as partial:
        if partial.exists() or partial.is_symlink():  # the tool's own, left by a run repair has not cleared
            _remove_tree(partial)
        partial.mkdir()
        try:
            fill(partial)
            if final.exists():
                with scratch(out, f"{REPLACED_PREFIX}{final.name}") as replaced:
                    final.rename(replaced)
                    partial.rename(final)
                    _remove_tree(replaced)
            else:
                partial.rename(final)
        finally:
            shutil.rmtree(partial, ignore_errors=True)  # gone already once published
    return final


def write_atomic_recorded(path: Path, data: bytes) -> None:
    """``layout.write_atomic`` for a file in a folder that is not the tool's alone (an export's ``--out``).

    The temporary file's name is recorded (``scratch``) before it is made, so that a run killed while writing leaves
    nothing the next run cannot prove its own and remove. Call it holding ``path.parent``.

    Raises:
        InputError: the file system refuses.
    """
    name = f".{path.name}.{os.getpid()}.partial"
    with scratch(path.parent, name) as partial:
        made = False
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            made = True
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            os.replace(partial, path)
        except BaseException as exc:
            if made:
                partial.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise InputError(
                    f"cannot write {path} ({exc.strerror or exc}); free space or fix permissions"
                ) from None
            raise


def _remove_tree(folder: Path) -> None:
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise InputError(f"cannot remove {folder} ({exc.strerror or exc}); remove it by hand") from None

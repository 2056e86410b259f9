"""The output folder of ``generate``: one writer at a time, the root files it owns, and repairs after a kill.

    build/afro_mnist/
      .afro-mnist.lock          held (``flock``) by the one run writing here; it holds that run's pid
      .afro-mnist-root.json     the root files this tool wrote, by SHA-256, and the configs they describe
      .partial-<config>/        a config being written; renamed to <config>/ once complete
      .replaced-<config>/       the config an --overwrite run is replacing, until the new one is in place

A run that is killed leaves at most a ``.partial-*`` or ``.replaced-*`` folder and root files that describe an
older set of configs. The next run into the folder clears the first, puts a ``.replaced-*`` folder back where its
replacement never arrived (``repair``); the command then rewrites the root files, which ``root_files_stale``
finds out of date. The root files belong to the tool only while they hold what it wrote: any other file there is
the user's, and is replaced only with ``--overwrite``.

Only the standard library is imported here.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.errors import InputError
from generator.layout import METADATA_FILE, config_folders, sha256_file, write_atomic

LOCK_FILE = ".afro-mnist.lock"
MANIFEST_FILE = ".afro-mnist-root.json"
PARTIAL_PREFIX = ".partial-"
REPLACED_PREFIX = ".replaced-"


# --- one writer per folder ----------------------------------------------------------------------------------------


@contextmanager
def hold(out: Path, *, create: bool = True, flag: str = "--out") -> Iterator[Path]:
    """Holds ``out`` for this process alone, creating it if need be, and yields it.

    The lock is an exclusive ``flock`` on ``out/.afro-mnist.lock``: the kernel drops it when the process ends,
    however it ends, so a killed run never leaves the folder locked. Folders this call created are removed again
    on the way out if nothing was written into them.

    Raises:
        InputError: ``out`` cannot be created or written, or another process holds it (naming its pid).
    """
    created = _make_folder(out, flag) if create else []
    if not out.is_dir():
        raise InputError(f"{flag} {out} is not a folder; give the folder that afro-mnist generate wrote")
    lock_path = out / LOCK_FILE
    descriptor = None
    try:
        descriptor = _lock(lock_path, out, flag)
        yield out
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


def _make_folder(out: Path, flag: str) -> list[Path]:
    """Creates ``out`` and any missing parents; returns those it created, outermost first."""
    missing = []
    for folder in [out, *out.parents]:
        if folder.is_dir():
            break
        if folder.exists() or folder.is_symlink():
            raise InputError(f"{flag} {out}: {folder} is a file or a broken link, not a folder; give another path")
        missing.append(folder)
    try:
        for folder in reversed(missing):
            folder.mkdir()
    except OSError as exc:
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

    ``.partial-*`` folders are removed; a ``.replaced-*`` folder is removed when its config is in place, and
    put back when it is not; stray temporary files of atomic writes are removed. Root files that no longer
    describe the configs (``root_files_stale``) are the command's to rewrite, once its run is over.

    Raises:
        InputError: a leftover is a link or a file, which the tool never makes: it is left alone.
    """
    done = []
    for entry in sorted(out.iterdir()):
        name = entry.name
        if not name.startswith((PARTIAL_PREFIX, REPLACED_PREFIX)):
            continue
        if entry.is_symlink() or not entry.is_dir():
            raise InputError(f"{entry} is a link or a file, not a folder afro-mnist made; move it out of {out}")
        if name.startswith(PARTIAL_PREFIX):
            _remove_tree(entry)
            done.append(f"removed {name}")
            continue
        final = out / name.removeprefix(REPLACED_PREFIX)
        if final.exists() or final.is_symlink():
            _remove_tree(entry)
            done.append(f"removed {name}")
        else:
            try:
                entry.rename(final)
            except OSError as exc:
                raise InputError(f"cannot rename {entry} to {final} ({exc.strerror or exc}); do it by hand") from None
            done.append(f"put {name} back as {final.name}")
    # Temporary files of the tool's atomic writes (layout.write_atomic) beside the files they were for.
    for path_in_repo in [MANIFEST_FILE, *read_manifest(out)["files"]]:
        folder, name = (out / path_in_repo).parent, Path(path_in_repo).name
        if folder.is_dir() and not folder.is_symlink():
            for stray in folder.glob(f".{glob.escape(name)}.*.partial"):
                stray.unlink(missing_ok=True)
    return done


def _remove_tree(folder: Path) -> None:
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise InputError(f"cannot remove {folder} ({exc.strerror or exc}); remove it by hand") from None

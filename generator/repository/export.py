"""Afro-MNIST as MNIST's own formats: NumPy arrays, IDX files and a Keras-style ``.npz``.

    from generator.repository.export import load_data
    (x_train, y_train), (x_test, y_test) = load_data("geez")   # like keras.datasets.mnist.load_data()

``load_data`` reads a generated config folder (the parquet shards and ``metadata.json``: the local build
that ``make dataset`` writes, or a download from the Hub), checks the shards against the metadata, and
decodes every PNG into one ``uint8`` array. ``export_config`` writes the same arrays as the four gzipped
IDX files of MNIST, byte-compatible with every MNIST reader, or as one ``.npz`` with the keys of Keras'
``mnist.npz``. The IDX files can also be laid out as ``torchvision.datasets.MNIST(root)`` reads them:
``root/MNIST/raw/``, uncompressed.

This module is kept light (NumPy, OpenCV, pyarrow) so that loading data never imports the generator's
albumentations or ``datasets``.
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
import warnings
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from generator import settings
from generator.errors import InputError
from generator.layout import (
    DEFAULT_BUILD_DIR,
    METADATA_FILE,
    check_output_paths,
    config_folder,
    read_metadata,
)
from generator.repository.download import check_config_request, fetch_config, verify_shards
from generator.repository.output import hold, repair, write_atomic_recorded

FORMATS = ("idx", "npz")
# Where the IDX files go: "flat" puts MNIST's four gzipped files in --out, as MNIST's site serves them;
# "torchvision" puts them where torchvision.datasets.MNIST(root=--out) reads them.
LAYOUTS = ("flat", "torchvision")

# MNIST's file names: "t10k" is its name for the test split.
IDX_FILES = {
    ("train", "images"): "train-images-idx3-ubyte.gz",
    ("train", "labels"): "train-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
}
# torchvision's MNIST reads root/<class name>/raw/<file> with the names above less ".gz" (its _load_data), and
# download=True fetches MNIST itself unless those uncompressed files are there (its _check_exists): so they are
# written uncompressed. A root/MNIST/processed/ holding training.pt and test.pt is read instead of raw/.
TORCHVISION_RAW = Path("MNIST", "raw")
TORCHVISION_PROCESSED = Path("MNIST", "processed")
TORCHVISION_LEGACY_FILES = ("training.pt", "test.pt")
# IDX magic number: two zero bytes, a type code (0x08 = unsigned byte), then the number of dimensions.
_IDX_UBYTE = 0x08
# gzip's own default level: on 60,000 images level 9 takes 20 times as long for a file 1 % smaller.
_GZIP_LEVEL = 6
# A fixed zip timestamp (the earliest zip can store), so that the same arrays give the same .npz bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_UINT8 = np.dtype(np.uint8)  # a dtype, not the scalar type: comparing to it is cheap in the decode loop

Split = tuple[np.ndarray, np.ndarray]


# --- reading a config folder --------------------------------------------------------------------------------------


def load_split(folder: Path, split: str, metadata: dict | None = None) -> Split:
    """Every image and label of one split of a config folder, in shard order.

    The shards on disk must be exactly those that ``metadata.json`` lists, with the sizes, SHA-256
    and row counts it records, and every label must be a class of the config. Labels are ``uint8``,
    as in Keras' MNIST and MNIST's own files: a numeral system has far fewer than 256 classes, and
    one label type everywhere (arrays, IDX, npz) means one can be swapped for another.

    Returns:
        ``(images, labels)``: ``uint8`` of shape ``(N, 28, 28)`` and ``uint8`` of shape ``(N,)``.

    Raises:
        InputError: a shard is missing, extra, or disagrees with the metadata; an image is not a
            greyscale PNG of the recorded shape; a label is out of range.
    """
    metadata = metadata if metadata is not None else read_metadata(folder)
    regenerate = "regenerate the config with `afro-mnist generate --overwrite`"
    recorded = metadata["splits"][split]
    listed = [shard["file"] for shard in recorded["shards"]]
    on_disk = sorted(path.name for path in folder.glob(f"{split}-*.parquet"))
    if sorted(listed) != on_disk:
        raise InputError(
            f"{folder}: {split} shards on disk {on_disk} differ from {METADATA_FILE}'s {listed}; {regenerate}"
        )
    verify_shards(folder, {"splits": {split: recorded}})
    shape = tuple(metadata["image"]["shape"])
    num_classes = len(metadata["numeral_system"]["class_names"])
    # The row counts in the shards' footers, checked before the arrays are sized by the metadata's count.
    for shard in recorded["shards"]:
        rows = shard_rows(folder / shard["file"])
        if rows != shard["num_examples"]:
            raise InputError(
                f"{folder / shard['file']} holds {rows} rows but {METADATA_FILE} records {shard['num_examples']}; "
                f"{regenerate}"
            )
    check_label_range(num_classes)
    images = np.empty((recorded["num_examples"], *shape), np.uint8)
    labels = np.empty(recorded["num_examples"], np.uint8)
    paths = [folder / shard["file"] for shard in recorded["shards"]]
    start = 0
    for path, shard, table in zip(paths, recorded["shards"], _read_ahead(paths), strict=True):
        stop = start + table.num_rows
        if table.num_rows != shard["num_examples"] or stop > len(images):
            raise InputError(
                f"{path} holds {table.num_rows} rows but {METADATA_FILE} records {shard['num_examples']}; {regenerate}"
            )
        decode_pngs(table.column("image"), images[start:stop], path)
        column = table.column("label").to_numpy()
        if len(column) and not 0 <= column.min() <= column.max() < num_classes:
            raise InputError(f"{path}: a {split} label lies outside 0..{num_classes - 1}; {regenerate}")
        labels[start:stop] = column
        start = stop
    if start != len(images):
        raise InputError(f"{folder}: the {split} shards hold {start} rows, not {len(images)}; {regenerate}")
    return images, labels


def _read_ahead(paths: list[Path]) -> Iterator[pa.Table]:
    """Yields each shard's table while the next one is read on a second thread.

    pyarrow releases the GIL while it reads and decompresses, so reading overlaps decoding PNGs, and
    at most two shards are in memory at once.
    """
    with ThreadPoolExecutor(max_workers=1) as reader:
        previous = None
        for path in paths:
            current = reader.submit(read_shard, path)
            if previous is not None:
                yield previous.result()
            previous = current
        if previous is not None:
            yield previous.result()


def shard_rows(path: Path) -> int:
    """The row count in a shard's footer, without reading its data.

    Raises:
        InputError: the file is missing or is not a parquet file.
    """
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path} cannot be read as a shard ({exc}); regenerate the config with --overwrite") from None


def read_shard(path: Path) -> pa.Table:
    """The ``image`` and ``label`` columns of one shard.

    Raises:
        InputError: the file is missing or is not a parquet shard of a config.
    """
    try:
        return pq.read_table(path, columns=["image", "label"])
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path} cannot be read as a shard ({exc}); regenerate the config with --overwrite") from None


def load_data(
    config: str,
    build_dir: str | Path | None = None,
    *,
    repo_id: str | None = None,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
    force_download: bool = False,
    timeout: float = settings.DOWNLOAD_TIMEOUT_S,
    local_dir: str | Path | None = None,
) -> tuple[Split, Split]:
    """A config as NumPy arrays, like ``keras.datasets.mnist.load_data()``.

    With ``build_dir``, the config is read from that build folder (what ``afro-mnist generate --out``
    wrote). With neither ``build_dir`` nor ``repo_id``, the local build ``build/afro_mnist/<config>``
    (what ``make dataset`` writes) is read if it exists, and a line on stderr says so. Otherwise the
    config's shards are downloaded from the Hub into the Hugging Face cache, once, and read from there;
    a later call works offline. Either way every shard is checked against the SHA-256 in
    ``metadata.json`` before it is decoded; a downloaded shard that fails is fetched once more.

    Args:
        config: the config name, such as ``"vai"``; a malformed one is refused before anything is read.
        build_dir: a build folder such as ``build/afro_mnist``; nothing is downloaded then.
        repo_id: the Hub dataset repository (default: ``generator.settings.REPO_ID``).
        revision: a branch, tag or commit of it (default: the main branch).
        cache_dir: the Hugging Face cache to download into (default: ``$HF_HOME``'s).
        endpoint: the Hub's address (default: ``$HF_ENDPOINT``, else the Hub).
        token: a token, for a private repository.
        force_download: download the files again even if the cache holds them.
        timeout: seconds, wall clock, that each file's download may take, retries included.
        local_dir: the old name of ``build_dir``, deprecated.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: images ``uint8`` ``(N, 28, 28)``, white ink on
        black; labels ``uint8`` ``(N,)``, class indices, as Keras' MNIST and the IDX and npz exports.

    Raises:
        InputError: the config is missing, cannot be downloaded, or its shards disagree with its metadata.
    """
    check_config_request(config)
    if local_dir is not None:
        # It meant "read this build", the opposite of huggingface_hub's local_dir; kept for old callers.
        warnings.warn("load_data(local_dir=...) is now load_data(build_dir=...)", DeprecationWarning, stacklevel=2)
        build_dir = local_dir if build_dir is None else build_dir
    if build_dir is None and repo_id is None and (DEFAULT_BUILD_DIR / config / METADATA_FILE).is_file():
        build_dir = DEFAULT_BUILD_DIR
        print(
            f"load_data: reading {config!r} from the local build {DEFAULT_BUILD_DIR / config} "
            f"(pass repo_id={settings.REPO_ID!r} to download the published one)",
            file=sys.stderr,
        )
    if build_dir is not None:
        folder = config_folder(config, build_dir)
    else:
        folder = fetch_config(
            config,
            repo_id=repo_id or settings.REPO_ID,
            revision=revision,
            cache_dir=cache_dir,
            endpoint=endpoint,
            token=token,
            force_download=force_download,
            timeout=timeout,
        )
    metadata = read_metadata(folder)
    return load_split(folder, "train", metadata), load_split(folder, "test", metadata)


def decode_pngs(images: pa.ChunkedArray, out: np.ndarray, source: Path) -> None:
    """Decodes a column of ``{bytes, path}`` image structs into ``out``, one PNG per row.

    Each PNG goes through OpenCV's decoder; the bytes are handed over as views of the Arrow buffer,
    never copied into Python objects.

    Raises:
        InputError: a row has no bytes, or is not a greyscale PNG of ``out``'s image shape.
    """
    shape = out.shape[1:]
    threads = cv2.getNumThreads()
    # OpenCV's thread pool costs more than it gives on a 28x28 image (14 us against 8 us a PNG).
    cv2.setNumThreads(1)
    try:
        row = 0
        for chunk in images.chunks:
            blobs = pc.struct_field(chunk, "bytes")
            if blobs.null_count:
                raise InputError(f"{source}: an image has no bytes; regenerate the config")
            offset_type = np.int64 if pa.types.is_large_binary(blobs.type) else np.int32
            _, offsets_buffer, data_buffer = blobs.buffers()
            offsets = np.frombuffer(offsets_buffer, offset_type)[blobs.offset : blobs.offset + len(blobs) + 1]
            data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
            for begin, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
                image = cv2.imdecode(data[begin:end], cv2.IMREAD_UNCHANGED)
                if image is None or image.shape != shape or image.dtype != _UINT8:
                    raise InputError(f"{source}: row {row} is not a greyscale {shape} PNG; regenerate the config")
                out[row] = image
                row += 1
    finally:
        cv2.setNumThreads(threads)


# --- IDX ---------------------------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte array in MNIST's IDX layout: magic, big-endian dimensions, then the data.

    Images ``(N, 28, 28)`` get magic ``0x00000803`` and labels ``(N,)`` get ``0x00000801``.
    """
    if array.dtype != np.uint8:
        raise ValueError(f"IDX files here hold unsigned bytes, not {array.dtype}")
    header = struct.pack(f">I{array.ndim}I", _IDX_UBYTE << 8 | array.ndim, *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no file name and time 0 in the header, so the same data always gives the same bytes."""
    return gzip.compress(data, compresslevel=_GZIP_LEVEL, mtime=0)


def check_label_range(num_classes: int) -> None:
    """Raises InputError for a config whose labels do not fit in one byte, the label type of MNIST's files.

    Raises:
        InputError: the config has more than 256 classes.
    """
    if num_classes > 256:
        raise InputError(f"a config with {num_classes} classes does not fit MNIST's one-byte labels")


# --- npz ---------------------------------------------------------------------------------------------------------


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """What ``numpy.savez_compressed`` writes, but with fixed timestamps so the bytes are reproducible."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


# --- export ------------------------------------------------------------------------------------------------------


def export_paths(config: str, file_format: str, out: Path, layout: str = "flat") -> list[Path]:
    """The files that ``export_config`` writes for a format and layout.

    Raises:
        InputError: an unknown format or layout, or a layout other than ``flat`` for ``npz``.
    """
    if layout not in LAYOUTS:
        raise InputError(f"--layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    if file_format == "idx":
        if layout == "torchvision":
            return [out / TORCHVISION_RAW / name.removesuffix(".gz") for name in IDX_FILES.values()]
        return [out / name for name in IDX_FILES.values()]
    if file_format == "npz":
        if layout != "flat":
            raise InputError(f"--layout {layout} is for --format idx; an npz is one file, so leave --layout out")
        return [out / f"{config}.npz"]
    raise InputError(f"--format {file_format!r} is not one of {', '.join(FORMATS)}")


def export_config(
    config: str,
    file_format: str,
    out: str | Path,
    build_dir: str | Path = DEFAULT_BUILD_DIR,
    *,
    overwrite: bool = False,
    layout: str = "flat",
) -> list[Path]:
    """Writes a config in MNIST's formats and returns the paths written.

    ``idx`` writes MNIST's four gzipped files into ``out``, so an MNIST reader pointed at ``out``
    loads the config; with ``layout="torchvision"`` it writes them uncompressed into ``out/MNIST/raw/``,
    so that ``torchvision.datasets.MNIST(out)`` loads the config. ``npz`` writes ``out/<config>.npz``
    with ``x_train``, ``y_train``, ``x_test``, ``y_test`` (``uint8``, as in Keras' ``mnist.npz``).
    Every file is written under a temporary name and renamed into place.

    Raises:
        InputError: an unknown format or layout, a missing config, an output that exists without
            ``overwrite``, an ``out`` that is a file, or (torchvision layout) a link or file on the way
            to ``out/MNIST/raw`` or a ``processed/`` folder that torchvision would read instead.
    """
    out = Path(out)
    paths = export_paths(config, file_format, out, layout)
    check_output_paths(out, paths, overwrite)
    if layout == "torchvision":
        _check_torchvision_folders(out)
    folder = config_folder(config, build_dir)
    with hold(out):
        repair(out)  # temporary files an interrupted export recorded, such as .vai.npz.<pid>.partial
        raw = out / TORCHVISION_RAW
        if _plain_folders(out, raw):
            repair(raw)  # and those of a torchvision export, recorded beside the files they were for
        check_output_paths(out, paths, overwrite)  # again, now that no other run can change it
        if layout == "torchvision":
            _check_torchvision_folders(out)
        _export_locked(folder, file_format, out, paths)
    return paths


def _plain_folders(out: Path, folder: Path) -> bool:
    """Whether ``folder`` and every folder between it and ``out`` is a folder, and none of them a link."""
    relative = folder.relative_to(out)
    for path in [relative, *relative.parents][:-1]:  # the last is "." (out itself, which may be a link of yours)
        entry = out / path
        if entry.is_symlink() or not entry.is_dir():
            return False
    return True


def _check_torchvision_folders(out: Path) -> None:
    """Refuses a torchvision layout whose files would land outside ``out``, or that torchvision would not read.

    Raises:
        InputError: ``out/MNIST`` or ``out/MNIST/raw`` is a link or a file; or ``out/MNIST/processed`` holds
            ``training.pt`` and ``test.pt``, which torchvision's MNIST loads in place of ``raw/``.
    """
    for path in (TORCHVISION_RAW.parent, TORCHVISION_RAW):
        entry = out / path
        if entry.is_symlink() or (entry.exists() and not entry.is_dir()):
            raise InputError(f"{entry} is a link or a file, not a folder; move it out of {out}")
    processed = out / TORCHVISION_PROCESSED
    if all((processed / name).exists() for name in TORCHVISION_LEGACY_FILES):
        raise InputError(
            f"{processed} holds {' and '.join(TORCHVISION_LEGACY_FILES)}, which torchvision's MNIST reads instead of "
            f"{out / TORCHVISION_RAW}; move that folder away, or give another --out"
        )


def _export_locked(folder: Path, file_format: str, out: Path, paths: list[Path]) -> None:
    metadata = read_metadata(folder)
    splits = {split: load_split(folder, split, metadata) for split in ("train", "test")}
    if file_format == "idx":
        contents = {}
        for path, (split, kind) in zip(paths, IDX_FILES, strict=True):
            images, labels = splits[split]
            data = idx_bytes(images if kind == "images" else labels)
            contents[path] = gzip_bytes(data) if path.suffix == ".gz" else data
    else:
        arrays = {}
        for split, (images, labels) in splits.items():
            arrays[f"x_{split}"] = images
            arrays[f"y_{split}"] = labels  # uint8, as in Keras' mnist.npz
        contents = {paths[0]: npz_bytes(arrays)}
    created = _make_folders(out, paths[0].parent)
    try:
        for path, data in contents.items():
            write_atomic_recorded(path, data)
    except BaseException:
        _remove_empty(created)  # folders this run made for files it could not write
        raise


def _make_folders(out: Path, folder: Path) -> list[Path]:
    """Creates ``folder`` and the folders between it and ``out`` that are missing; returns those it created.

    Raises:
        InputError: the file system refuses.
    """
    relative = folder.relative_to(out)
    created: list[Path] = []
    for path in reversed([relative, *relative.parents][:-1]):
        entry = out / path
        if entry.is_dir():
            continue
        try:
            entry.mkdir()
        except OSError as exc:
            _remove_empty(created)
            raise InputError(f"cannot create {entry} ({exc.strerror or exc}); fix permissions") from None
        created.append(entry)
    return created


def _remove_empty(created: list[Path]) -> None:
    """Removes the folders a run created, innermost first, as long as they are empty."""
    for made in reversed(created):
        try:
            made.rmdir()
        except OSError:
            break

"""MNIST's formats: load_data's arrays, IDX files read back by an independent reader, the Keras-style npz."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import signal
import struct
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from generator.cli import main
from generator.errors import InputError
from generator.repository import export
from generator.repository.export import IDX_FILES, export_config, load_data
from tests.conftest import TINY, assert_one_line_error, run_cli, run_killed_at_rename


def read_idx(path: Path) -> tuple[int, np.ndarray]:
    """A reader written from the IDX description alone: its magic number and its array (gzipped or not)."""
    data = path.read_bytes()
    data = gzip.decompress(data) if path.suffix == ".gz" else data
    zeros, type_code, ndim = struct.unpack(">HBB", data[:4])
    assert zeros == 0
    assert type_code == 0x08  # unsigned byte
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    magic = struct.unpack(">I", data[:4])[0]
    return magic, np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def decode_with_pillow(shard: Path) -> tuple[np.ndarray, np.ndarray]:
    table = pq.read_table(shard).to_pydict()
    images = [np.asarray(Image.open(io.BytesIO(cell["bytes"]))) for cell in table["image"]]
    return np.stack(images), np.array(table["label"])


@pytest.fixture
def vai_copy(tiny_build: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny vai config, for tests that damage it."""
    build = tmp_path / "build"
    shutil.copytree(tiny_build / "vai", build / "vai")
    return build


def test_load_data_is_like_keras(tiny_build: Path):
    (x_train, y_train), (x_test, y_test) = load_data("vai", tiny_build)
    assert x_train.shape == (TINY["train_size"], 28, 28)
    assert x_test.shape == (TINY["test_size"], 28, 28)
    assert (x_train.dtype, x_test.dtype) == (np.uint8, np.uint8)
    assert (y_train.dtype, y_test.dtype) == (np.uint8, np.uint8)  # as keras.datasets.mnist, IDX and npz
    assert np.bincount(y_train).tolist() == [TINY["train_size"] // 10] * 10


def test_load_data_decodes_as_pillow_does(tiny_build: Path):
    (x_train, y_train), _ = load_data("geez", tiny_build)
    shards = sorted((tiny_build / "geez").glob("train-*.parquet"))
    decoded = [decode_with_pillow(shard) for shard in shards]
    np.testing.assert_array_equal(x_train, np.concatenate([images for images, _ in decoded]))
    np.testing.assert_array_equal(y_train, np.concatenate([labels for _, labels in decoded]))


def test_idx_files_have_mnists_headers_and_round_trip(tiny_build: Path, tmp_path: Path):
    written = export_config("nko", "idx", tmp_path, tiny_build)
    assert [path.name for path in written] == list(IDX_FILES.values())
    (x_train, y_train), (x_test, y_test) = load_data("nko", tiny_build)
    expected = {
        "train-images-idx3-ubyte.gz": (0x00000803, x_train),
        "train-labels-idx1-ubyte.gz": (0x00000801, y_train),
        "t10k-images-idx3-ubyte.gz": (0x00000803, x_test),
        "t10k-labels-idx1-ubyte.gz": (0x00000801, y_test),
    }
    for name, (magic, array) in expected.items():
        raw = gzip.decompress((tmp_path / name).read_bytes())
        assert raw[:4] == struct.pack(">I", magic)
        assert raw[4:8] == struct.pack(">I", len(array))
        read_magic, read_array = read_idx(tmp_path / name)
        assert read_magic == magic
        np.testing.assert_array_equal(read_array, array)
    assert read_idx(tmp_path / "train-images-idx3-ubyte.gz")[1].shape[1:] == (28, 28)


def test_exports_are_byte_reproducible(tiny_build: Path, tmp_path: Path):
    for file_format in ("idx", "npz"):
        first = export_config("vai", file_format, tmp_path / "a", tiny_build)
        second = export_config("vai", file_format, tmp_path / "b", tiny_build)
        for one, other in zip(first, second, strict=True):
            assert one.read_bytes() == other.read_bytes()
    header = (tmp_path / "a" / "t10k-labels-idx1-ubyte.gz").read_bytes()[:10]
    assert header[3] == 0, "no file name or other optional fields in the gzip header"
    assert header[4:8] == b"\0\0\0\0", "gzip's modification time is 0"


def test_npz_has_keras_keys_dtypes_and_shapes(tiny_build: Path, tmp_path: Path):
    (path,) = export_config("osmanya", "npz", tmp_path, tiny_build)
    assert path == tmp_path / "osmanya.npz"
    (x_train, y_train), (x_test, y_test) = load_data("osmanya", tiny_build)
    with np.load(path) as arrays:
        assert sorted(arrays.files) == ["x_test", "x_train", "y_test", "y_train"]
        assert arrays["x_train"].dtype == arrays["y_train"].dtype == np.uint8
        assert arrays["x_train"].shape == (TINY["train_size"], 28, 28)
        assert arrays["y_test"].shape == (TINY["test_size"],)
        np.testing.assert_array_equal(arrays["x_train"], x_train)
        np.testing.assert_array_equal(arrays["y_train"], y_train)
        np.testing.assert_array_equal(arrays["x_test"], x_test)
        np.testing.assert_array_equal(arrays["y_test"], y_test)


def test_export_command(capsys, tiny_build: Path, tmp_path: Path):
    code, _ = run_cli(capsys, "export", "vai", "--format", "idx", "--out", str(tmp_path), "--from", str(tiny_build))
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(IDX_FILES.values()), "no temporary files are left"


def test_export_refuses_existing_files_without_overwrite(capsys, tiny_build: Path, tmp_path: Path):
    mine = tmp_path / "vai.npz"
    mine.write_bytes(b"mine")
    argv = ["export", "vai", "--format", "npz", "--out", str(tmp_path), "--from", str(tiny_build)]
    assert_one_line_error(*run_cli(capsys, *argv), str(mine), "--overwrite")
    assert mine.read_bytes() == b"mine"
    code, _ = run_cli(capsys, *argv, "--overwrite")
    assert code == 0
    assert mine.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["vai", "--format", "csv", "--out", "OUT"], ["'csv'", "idx"]),
        (["vai", "--out", "OUT"], ["--format"]),
        (["klingon", "--format", "idx", "--out", "OUT"], ["'klingon'", "afro-mnist generate --spec"]),
    ],
)
def test_bad_export_input(capsys, tiny_build: Path, tmp_path: Path, argv, needles):
    argv = [str(tmp_path / "out") if arg == "OUT" else arg for arg in argv]
    assert_one_line_error(*run_cli(capsys, "export", *argv, "--from", str(tiny_build)), *needles)
    assert not (tmp_path / "out").exists()


def test_export_out_must_be_a_folder(tiny_build: Path, tmp_path: Path):
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="is a file"):
        export_config("vai", "idx", tmp_path / "file", tiny_build)


def test_missing_build_says_how_to_make_it(tmp_path: Path):
    with pytest.raises(InputError, match=r"build folder .*nowhere does not exist; run `make dataset`"):
        load_data("vai", tmp_path / "nowhere")


def test_missing_config_lists_those_there(tiny_build: Path):
    # tamil comes from a spec file: the advice names --spec, since `generate --configs tamil` alone would fail.
    with pytest.raises(
        InputError, match=r"config 'tamil' is not in .*adlam, geez, medefaidrin, nko, osmanya, vai.*generate --spec"
    ):
        load_data("tamil", tiny_build)


def test_unfinished_config_is_refused(vai_copy: Path):
    (vai_copy / "vai" / "metadata.json").unlink()
    with pytest.raises(InputError, match=r"has no metadata\.json"):
        load_data("vai", vai_copy)


def test_row_counts_are_checked_against_metadata(vai_copy: Path):
    path = vai_copy / "vai" / "metadata.json"
    metadata = json.loads(path.read_text())
    classes = len(metadata["numeral_system"]["class_names"])
    metadata["splits"]["test"]["shards"][0]["num_examples"] += classes
    # Agreeing with the shard and with the classes' count, so only the footer tells.
    metadata["splits"]["test"]["num_examples"] += classes
    metadata["splits"]["test"]["examples_per_class"] += 1
    path.write_text(json.dumps(metadata))
    rows = TINY["test_size"]
    with pytest.raises(
        InputError, match=rf"test-00000-of-00001.parquet holds {rows} rows but metadata.json records {rows + classes}"
    ):
        load_data("vai", vai_copy)


def test_counts_that_do_not_add_up_to_the_classes_are_refused(vai_copy: Path):
    path = vai_copy / "vai" / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["splits"]["test"]["shards"][0]["num_examples"] += 1
    metadata["splits"]["test"]["num_examples"] += 1
    path.write_text(json.dumps(metadata))
    with pytest.raises(InputError, match=r"splits.test.num_examples is 21, not 2 for each of 10 classes"):
        load_data("vai", vai_copy)


@pytest.mark.parametrize("damage", ["missing", "extra", "corrupt"])
def test_shards_must_be_those_of_the_metadata(vai_copy: Path, damage: str):
    shard = vai_copy / "vai" / "train-00001-of-00002.parquet"
    if damage == "missing":
        shard.unlink()
        expected = "differ from metadata.json"
    elif damage == "extra":
        shutil.copy(shard, vai_copy / "vai" / "train-00009-of-00010.parquet")
        expected = "differ from metadata.json"
    else:
        shard.write_bytes(b"not parquet")
        expected = f"shard {shard} does not match the size and SHA-256"
    with pytest.raises(InputError, match=expected):
        load_data("vai", vai_copy)


# --- the layout of torchvision.datasets.MNIST ------------------------------------------------------------------------


def read_like_torchvision_mnist(root: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """What torchvision's ``MNIST(root, train=train)`` reads, by the rules of its source (torchvision is not
    installed here): the uncompressed files ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``,
    magic 2051 for images and 2049 for labels, unless ``root/MNIST/processed`` holds its old ``.pt`` files."""
    raw = root / "MNIST" / "raw"
    assert not (raw.parent / "processed").exists()
    prefix = "train" if train else "t10k"
    images, labels = (
        (raw / f"{prefix}-images-idx3-ubyte").read_bytes(),
        (raw / f"{prefix}-labels-idx1-ubyte").read_bytes(),
    )
    magic, count, rows, cols = struct.unpack(">4i", images[:16])
    assert magic == 2051
    label_magic, label_count = struct.unpack(">2i", labels[:8])
    assert label_magic == 2049
    assert len(images) == 16 + count * rows * cols
    assert len(labels) == 8 + label_count
    return np.frombuffer(images, np.uint8, offset=16).reshape(count, rows, cols), np.frombuffer(
        labels, np.uint8, offset=8
    )


def test_torchvision_layout_is_where_torchvision_reads_it(capsys, tiny_build: Path, tmp_path: Path):
    root = tmp_path / "data"
    argv = ["export", "geez", "--format", "idx", "--layout", "torchvision", "--out", str(root)]
    assert main([*argv, "--from", str(tiny_build)]) == 0
    raw = root / "MNIST" / "raw"
    names = [name.removesuffix(".gz") for name in IDX_FILES.values()]
    assert capsys.readouterr().out.split() == [str(raw / name) for name in names]
    assert sorted(path.relative_to(root).as_posix() for path in root.rglob("*")) == [
        "MNIST",
        "MNIST/raw",
        *sorted(f"MNIST/raw/{name}" for name in names),
    ], "four uncompressed files where torchvision looks for them, and nothing else"
    (x_train, y_train), (x_test, y_test) = load_data("geez", tiny_build)
    for train, (images, labels) in ((True, (x_train, y_train)), (False, (x_test, y_test))):
        read_images, read_labels = read_like_torchvision_mnist(root, train)
        np.testing.assert_array_equal(read_images, images)
        np.testing.assert_array_equal(read_labels, labels)
    # The same IDX bytes as the flat layout's, less the gzip around them.
    flat = export_config("geez", "idx", tmp_path / "flat", tiny_build)
    for gzipped, name in zip(flat, names, strict=True):
        assert gzip.decompress(gzipped.read_bytes()) == (raw / name).read_bytes()


def test_torchvision_layout_refuses_what_torchvision_would_read_instead_or_elsewhere(tiny_build: Path, tmp_path: Path):
    processed = tmp_path / "old" / "MNIST" / "processed"
    processed.mkdir(parents=True)
    for name in ("training.pt", "test.pt"):
        (processed / name).write_bytes(b"mine")
    with pytest.raises(InputError, match=r"processed holds training.pt and test.pt, which torchvision"):
        export_config("vai", "idx", tmp_path / "old", tiny_build, layout="torchvision")
    assert not (tmp_path / "old" / "MNIST" / "raw").exists()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "MNIST").symlink_to(elsewhere)
    with pytest.raises(InputError, match=r"MNIST is a link or a file"):
        export_config("vai", "idx", tmp_path / "linked", tiny_build, layout="torchvision")
    assert list(elsewhere.iterdir()) == []


def test_torchvision_layout_is_for_idx_only(capsys, tiny_build: Path, tmp_path: Path):
    argv = ["export", "vai", "--format", "npz", "--layout", "torchvision", "--out", str(tmp_path / "out")]
    assert_one_line_error(*run_cli(capsys, *argv, "--from", str(tiny_build)), "--layout torchvision", "--format idx")
    assert not (tmp_path / "out").exists()


def test_torchvision_export_of_a_damaged_config_leaves_no_folders(vai_copy: Path, tmp_path: Path):
    (vai_copy / "vai" / "train-00001-of-00002.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="does not match the size and SHA-256"):
        export_config("vai", "idx", tmp_path / "out", vai_copy, layout="torchvision")
    assert not (tmp_path / "out").exists()


def test_a_killed_torchvision_export_leaves_a_temporary_file_that_the_next_export_clears(
    capsys, tiny_build: Path, tmp_path: Path
):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    users = raw / ".t10k-images-idx3-ubyte.12345.partial"
    users.write_text("the user's, though named like the tool's")
    argv = ["export", "vai", "--format", "idx", "--layout", "torchvision", "--out", str(tmp_path / "data")]
    argv += ["--from", str(tiny_build)]
    process = run_killed_at_rename(".t10k-images-idx3-ubyte.", *argv, torch=False)  # written, not yet in place
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert len(list(raw.glob(".t10k-images-idx3-ubyte.*.partial"))) == 2
    # A flat export into the same folder clears it too: the repair reads what the killed run recorded there.
    code, err = run_cli(capsys, "export", "vai", "--format", "npz", "--out", str(tmp_path / "data"), *argv[-2:])
    assert code == 0, err
    assert sorted(path.name for path in raw.glob(".*")) == [users.name]
    assert users.read_text().startswith("the user's")
    code, err = run_cli(capsys, *argv, "--overwrite")
    assert code == 0, err
    assert sorted(path.name for path in raw.iterdir()) == sorted(
        [users.name, *(name.removesuffix(".gz") for name in IDX_FILES.values())]
    )


def test_labels_must_fit_in_a_byte():
    with pytest.raises(InputError, match="300 classes"):
        export.check_label_range(300)
    export.check_label_range(256)

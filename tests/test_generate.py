"""Generated configs: layout, schema, balance, determinism, atomic writes and the saved recipe."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from generator.cli import main
from generator.errors import InputError
from generator.generate import GenerateSettings, generate
from generator.layout import METADATA_FILE, RECIPE_FILE
from generator.registry import builtin_systems, load_spec
from generator.repository.output import MANIFEST_FILE
from generator.synthesis.plan import plan_chunks
from generator.synthesis.recipe import load_recipe
from generator.synthesis.synthesizer import Synthesizer, exemplar_canvases, templates_for
from tests.conftest import TINY, write_spec

SYSTEMS = sorted(builtin_systems())
# A finished output folder for the vai config alone: the config and the repository's root files.
# The generator's own record of the root files it wrote sits beside them, hidden (generator.repository.output).
REPOSITORY_ROOT = [MANIFEST_FILE, "README.md", "builder-script", "sample-grids", "vai"]


def digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


@pytest.mark.parametrize("config", SYSTEMS)
def test_layout_is_the_hub_repository(tiny_build: Path, config):
    names = sorted(path.name for path in (tiny_build / config).iterdir())
    assert names == [
        METADATA_FILE,
        RECIPE_FILE,
        "test-00000-of-00001.parquet",
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
    ]
    assert [path.name for path in tiny_build.iterdir() if path.name.startswith(".")] == [MANIFEST_FILE]


@pytest.mark.parametrize("config", SYSTEMS)
def test_shards_load_through_datasets_with_class_names(tiny_build: Path, config):
    system = builtin_systems()[config]
    folder = tiny_build / config
    loaded = datasets.load_dataset(
        "parquet",
        data_files={split: str(folder / f"{split}-*.parquet") for split in ("train", "test")},
        cache_dir=str(tiny_build.parent / "hf-cache"),
    )
    for split, size in (("train", TINY["train_size"]), ("test", TINY["test_size"])):
        table = loaded[split]
        assert table.num_rows == size
        assert isinstance(table.features["image"], datasets.Image)
        assert table.features["label"].names == list(system.class_names)
        counts = Counter(table["label"])
        assert set(counts.values()) == {size // system.num_classes}, "equal counts per class"
        image = np.asarray(table[0]["image"])
        assert image.shape == (28, 28)
        assert image.dtype == np.uint8


def test_metadata_records_what_is_needed_to_trust_and_rerun(tiny_build: Path):
    folder = tiny_build / "geez"
    metadata = json.loads((folder / METADATA_FILE).read_text())
    assert metadata["seed"] == 7
    assert metadata["generator"]["version"]
    assert metadata["libraries"]["albumentations"] == "2.0.8"
    assert metadata["numeral_system"]["code_points"][-1] == "U+1372"
    assert metadata["recipe"] == json.loads((folder / RECIPE_FILE).read_text())
    assert any(t["__class_fullname__"].endswith("CoarseElastic") for t in metadata["recipe"]["transform"]["transforms"])
    assert len(metadata["fonts"]) == len(builtin_systems()["geez"].fonts)
    for split, size in (("train", TINY["train_size"]), ("test", TINY["test_size"])):
        info = metadata["splits"][split]
        assert info["num_examples"] == size
        assert sum(shard["num_examples"] for shard in info["shards"]) == size
        for shard in info["shards"]:
            data = (folder / shard["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == shard["sha256"]
            assert len(data) == shard["size_bytes"]
            assert pq.ParquetFile(folder / shard["file"]).metadata.num_row_groups == shard["num_examples"] // 10


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path, vai):
    one = generate([vai], tmp_path / "one", GenerateSettings(seed=5, workers=1, progress=False, **TINY))[0]
    two = generate([vai], tmp_path / "two", GenerateSettings(seed=5, workers=2, progress=False, **TINY))[0]
    assert digests(one) == digests(two)
    other = generate([vai], tmp_path / "other", GenerateSettings(seed=6, workers=1, progress=False, **TINY))[0]
    assert digests(one)["train-00000-of-00002.parquet"] != digests(other)["train-00000-of-00002.parquet"]


def test_a_worker_starts_without_pytorch_and_draws_what_the_main_process_draws(tmp_path: Path, vai):
    pytest.importorskip("torch")  # only meaningful where albumentations would find PyTorch
    from generator.generate import _exemplars
    from generator.synthesis import worker
    from generator.synthesis.recipe import default_recipe

    recipe = default_recipe()
    exemplars = {"vai": _exemplars(vai, recipe, None, 0.5, True)[0]}
    payload = tmp_path / "payload.pickle"
    payload.write_bytes(worker.payload(exemplars, recipe.to_dict()))
    chunk = plan_chunks(vai, "train", 20, seed=0, chunk_size=20, rows_per_shard=20)[0]
    # A fresh interpreter that imports what a spawned worker imports: generator.synthesis.worker, then start().
    code = (
        "import pickle, sys; from pathlib import Path; from generator.synthesis import worker; "
        "worker.start(Path(sys.argv[1]).read_bytes()); from generator.synthesis import synthesizer; "
        "chunk = pickle.loads(Path(sys.argv[2]).read_bytes()); "
        "sys.stdout.buffer.write(pickle.dumps((sys.modules.get('torch'), synthesizer.render_chunk(chunk).pngs)))"
    )
    (tmp_path / "chunk.pickle").write_bytes(pickle.dumps(chunk))
    result = subprocess.run(
        [sys.executable, "-c", code, str(payload), str(tmp_path / "chunk.pickle")], capture_output=True, check=True
    )
    torch_module, pngs = pickle.loads(result.stdout)
    assert torch_module is None, "albumentations was imported with PyTorch marked absent"
    here = exemplars["vai"].synthesizer(recipe).render(chunk.labels, chunk.sources, chunk.seed)
    assert pngs == here.pngs


def raised_by(work, seconds: float = 120) -> BaseException | None:
    """Runs ``work`` in a thread and returns what it raised; a run that hangs fails the test, not the suite."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # handed to the test's thread
            raised.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    assert not thread.is_alive(), f"the run neither failed nor finished within {seconds} s"
    return raised[0] if raised else None


def test_a_worker_that_cannot_start_fails_the_run_instead_of_hanging(vai):
    from generator.generate import _exemplars, _render_all
    from generator.synthesis.recipe import default_recipe

    exemplars = {"vai": _exemplars(vai, default_recipe(), None, 0.5, False)[0]}
    unloadable = {"transform": {"__class_fullname__": "NoSuchTransform", "p": 1.0}}
    chunks = plan_chunks(vai, "train", 20, seed=0, chunk_size=10, rows_per_shard=20)
    error = raised_by(lambda: list(_render_all(chunks, exemplars, unloadable, workers=2)))
    assert isinstance(error, RuntimeError), error
    assert re.search(r"could not start.*NoSuchTransform", str(error))
    assert multiprocessing.active_children() == []


def worker_payload(system) -> bytes:
    """What each worker starts from for ``system`` alone, with the default recipe."""
    from generator.generate import _exemplars
    from generator.synthesis import worker
    from generator.synthesis.recipe import default_recipe

    exemplars = {system.name: _exemplars(system, default_recipe(), None, 0.5, False)[0]}
    return worker.payload(exemplars, default_recipe().to_dict())


def test_an_error_in_a_worker_is_raised_with_its_traceback_and_the_workers_end(vai):
    from generator.synthesis import worker

    data = worker_payload(builtin_systems()["nko"])  # nko's synthesizer only, so a vai chunk fails in render_chunk
    chunks = plan_chunks(vai, "train", 40, seed=0, chunk_size=10, rows_per_shard=40)
    error = raised_by(lambda: list(worker.render_all(chunks, data, workers=2)))
    assert isinstance(error, KeyError), error
    assert "raised in a generation worker" in error.__notes__[0]
    assert "render_chunk" in error.__notes__[0]
    assert multiprocessing.active_children() == [], "every worker was ended"


def test_a_worker_killed_mid_run_fails_the_run_with_one_error(vai):
    from generator.synthesis import worker

    data = worker_payload(vai)
    chunks = plan_chunks(vai, "train", 400, seed=0, chunk_size=10, rows_per_shard=400)

    def run() -> None:
        rendered = worker.render_all(chunks, data, workers=2)
        next(rendered)  # the workers run
        os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)  # as the out-of-memory killer does
        list(rendered)

    error = raised_by(run)
    assert isinstance(error, RuntimeError), error
    assert str(error).startswith("a generation worker stopped (killed by signal 9")
    assert multiprocessing.active_children() == []


def test_train_and_test_come_from_disjoint_streams(vai):
    train = plan_chunks(vai, "train", 100, seed=0, chunk_size=10, rows_per_shard=100)
    test = plan_chunks(vai, "test", 100, seed=0, chunk_size=10, rows_per_shard=100)
    assert not {chunk.seed for chunk in train} & {chunk.seed for chunk in test}
    assert [chunk.labels for chunk in train] != [chunk.labels for chunk in test]


def test_saved_recipe_reruns_to_the_same_images(tiny_build: Path):
    system = builtin_systems()["nko"]
    recipe = load_recipe(tiny_build / "nko" / RECIPE_FILE)
    chunk = plan_chunks(system, "train", TINY["train_size"], 7, TINY["chunk_size"], TINY["rows_per_shard"])[1]
    canvases = exemplar_canvases(system)
    # Sanitation redraws some samples, so a rerun needs its templates as well as the recipe.
    rerun = (
        Synthesizer(canvases, recipe, templates=templates_for(canvases, recipe=recipe))
        .render(chunk.labels, chunk.sources, chunk.seed)
        .pngs
    )
    table = pq.read_table(tiny_build / "nko" / "train-00000-of-00002.parquet")
    stored = [row["bytes"] for row in table.column("image").to_pylist()[10:20]]
    assert [decode(png).tobytes() for png in rerun] == [decode(png).tobytes() for png in stored]
    assert table.column("label").to_pylist()[10:20] == list(chunk.labels)


def test_spec_file_system_generates_like_a_builtin(tmp_path: Path, vai):
    spec = write_spec(tmp_path / "spec", vai, "my_vai", iso15924="Vaii", languages=["vai"])
    (folder,) = generate(
        [load_spec(spec)], tmp_path / "out", GenerateSettings(seed=1, workers=1, progress=False, **TINY)
    )
    metadata = json.loads((folder / METADATA_FILE).read_text())
    assert metadata["config"] == "my_vai"
    assert metadata["splits"]["train"]["num_examples"] == TINY["train_size"]


def test_existing_output_is_kept_without_overwrite(tmp_path: Path, vai):
    (folder,) = generate([vai], tmp_path, GenerateSettings(seed=1, workers=1, progress=False, **TINY))
    before = digests(folder)
    with pytest.raises(InputError, match="already exists; pass --overwrite"):
        generate([vai], tmp_path, GenerateSettings(seed=2, workers=1, progress=False, **TINY))
    assert digests(folder) == before
    generate([vai], tmp_path, GenerateSettings(seed=2, workers=1, progress=False, overwrite=True, **TINY))
    assert digests(folder) != before
    # generate() writes the configs alone: the repository's root files are the command's to write.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["vai"]


def test_killed_run_leaves_nothing_that_looks_complete_and_a_rerun_finishes(tmp_path: Path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "generator", "generate", "--configs", "vai", "--out", str(out)]
    command += ["--train-size", "200000", "--test-size", "10", "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob(".partial-vai/train-*.parquet")):
            assert time.monotonic() < deadline, "the run never started writing"
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert not (out / "vai").exists()
    # The rerun runs here: a second interpreter would only add its start-up to the suite.
    assert main([*command[3:-6], "--train-size", "20", "--test-size", "10", "--workers", "1"]) == 0
    assert sorted(path.name for path in out.iterdir()) == REPOSITORY_ROOT
    assert (out / "vai" / METADATA_FILE).is_file()

"""The output of a fixed run, byte for byte: a refactoring must not change one pixel of the data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import generator
from generator.cli import main

# Recorded with version 0.7.0 (the centre of mass on MNIST's pixel (14, 14), no uneven ink, a wider range of
# aspect, fewer gaps), with exactly this command; 0.6.0 and earlier made other shards and another recipe.json
# here. They change only with the data: a deliberate change to the recipe, the sampling, sanitation or the shard
# format must update them together with the version and the CHANGELOG.
RECORDED_VERSION = "0.7.0"
RECORDED_SHA256 = {
    "geez/recipe.json": "448d52ce5e549d7bbadee293565ef22cbeeffc382c3b5efe28734f5cd0e90776",
    "geez/test-00000-of-00001.parquet": "cb76903e342acc134a9e1cad8cd06ea4b45dba9302cdf75b5ee5c66809fd9294",
    "geez/train-00000-of-00001.parquet": "56ea7cd922aeafaff87ba03ec4d04371a00dce9d86d0e84518a40c5c2b5126a4",
    "nko/recipe.json": "448d52ce5e549d7bbadee293565ef22cbeeffc382c3b5efe28734f5cd0e90776",
    "nko/test-00000-of-00001.parquet": "73bb96fec600cd668e5498dc06f0fb09e2fbc0ad2d99a52b03c5a60af8f87527",
    "nko/train-00000-of-00001.parquet": "a2dd5e09efaa5d652fe4b6a1b405dbef25483dd29fcec4ebf8b439727f5c3370",
}


def test_a_fixed_run_gives_the_recorded_shards_and_recipe(tmp_path: Path, capsys):
    out = tmp_path / "out"
    command = ["generate", "--configs", "nko", "geez", "--train-size", "40", "--test-size", "20"]
    assert main([*command, "--seed", "0", "--workers", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    written = {
        path.relative_to(out).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted([*out.glob("*/*.parquet"), *out.glob("*/recipe.json")])
    }
    assert written == RECORDED_SHA256, (
        f"generator {generator.__version__} no longer makes the bytes {RECORDED_VERSION} made; if the data was "
        "meant to change, record the new digests here with the new version"
    )

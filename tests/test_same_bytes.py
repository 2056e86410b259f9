"""The output of a fixed run, byte for byte: a refactoring must not change one pixel of the data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import generator
from generator.cli import main

# Recorded with version 0.6.0 (the recipe varies each stroke on its own first), with exactly this command;
# 0.5.0 and earlier made other shards and another recipe.json here. They change only with
# the data: a deliberate change to the recipe, the sampling, sanitation or the shard format must update them
# together with the version and the CHANGELOG.
RECORDED_VERSION = "0.6.0"
RECORDED_SHA256 = {
    "geez/recipe.json": "5799ce5c4d0f776f2b18d8be8292f7e1ca3ed39eaccbabc4159f15fa108117dd",
    "geez/test-00000-of-00001.parquet": "3a0ec662add2ed4ea84ecc1c35b355ef70969a6b49e7c9a96268f46fce8ba6c3",
    "geez/train-00000-of-00001.parquet": "a7a1589aa7aa750f6daec7e3c238e1ec46ef9f7ea9bfcaabc8ff6fd61baa3b23",
    "nko/recipe.json": "5799ce5c4d0f776f2b18d8be8292f7e1ca3ed39eaccbabc4159f15fa108117dd",
    "nko/test-00000-of-00001.parquet": "f9e421c6de2768326590e8981373c705a62e7461c86f9d716988bf32649e700d",
    "nko/train-00000-of-00001.parquet": "c9f8c62146f37db1b43599e8cff57246334dd87c22fe6e27e70e6a8764a9228a",
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

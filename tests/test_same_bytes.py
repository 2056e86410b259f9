"""The output of a fixed run, byte for byte: a refactoring must not change one pixel of the data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import generator
from generator.cli import main

# Recorded with version 0.11.0 (a pixel font's stair-stepped outlines smoothed before the pen), with exactly this
# command; 0.10.0 made other shards here (nko and geez each have a Unifont design), 0.9.0 and earlier another
# recipe.json too. They change only with the data:
# a deliberate change to the recipe, the sampling, sanitation or the shard format must update them together
# with the version and the CHANGELOG.
RECORDED_VERSION = "0.11.0"
RECORDED_SHA256 = {
    "geez/recipe.json": "fdca7b4582a92ef286d6d2177cd0562b72eafc646794d336baa4c484cc2660c2",
    "geez/test-00000-of-00001.parquet": "f96ea53e96d93d569c1d19ea0e7ee4129b861c2d73b1d24d18e1ecce0a3f2e1a",
    "geez/train-00000-of-00001.parquet": "9e701f3e75bb80ea8ccc4d45e980caa9bf3cb08fbf073541d5d4d56e6b73960e",
    "nko/recipe.json": "fdca7b4582a92ef286d6d2177cd0562b72eafc646794d336baa4c484cc2660c2",
    "nko/test-00000-of-00001.parquet": "799c85578977b6a129432b5d5c0b148ae4b4af3fd8afc15e7dce6b9e87d3ccbb",
    "nko/train-00000-of-00001.parquet": "5d58be39841053cd7f66d4ffd4a714efe8ea259f5a7283aa59a7d292b4b55439",
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

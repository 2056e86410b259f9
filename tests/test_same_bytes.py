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
    "geez/test-00000-of-00001.parquet": "77709ff945ef313ac66e5d5587c844090a9ae9e0b1ded32d2479bb20bcc0b1b2",
    "geez/train-00000-of-00001.parquet": "9a9f75d4701699196fb5073d159ab171fb8c0e8573b99741929ab2a374ec381b",
    "nko/recipe.json": "fdca7b4582a92ef286d6d2177cd0562b72eafc646794d336baa4c484cc2660c2",
    "nko/test-00000-of-00001.parquet": "bd6a9f2d6434e74ea29f025424c688c74f6acfebd73dd4542c148bf1c25e73e8",
    "nko/train-00000-of-00001.parquet": "28cb73378804ca0c541e87493399afd563911a3ac89dcea95b23a3a420aca2d5",
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

"""The output of a fixed run, byte for byte: a refactoring must not change one pixel of the data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import generator
from generator.cli import main

# Recorded with version 0.10.0 (solid ink, wide glyphs drawn narrower, no run-on ends), with exactly this
# command; 0.9.0 and earlier made other shards and another recipe.json here. They change only with the data:
# a deliberate change to the recipe, the sampling, sanitation or the shard format must update them together
# with the version and the CHANGELOG.
RECORDED_VERSION = "0.10.0"
RECORDED_SHA256 = {
    "geez/recipe.json": "fdca7b4582a92ef286d6d2177cd0562b72eafc646794d336baa4c484cc2660c2",
    "geez/test-00000-of-00001.parquet": "b732343dbfb57d33d92e0dd7f5b69100d989b3af0b975a138e017510063ba357",
    "geez/train-00000-of-00001.parquet": "769ea87fcb46faf241d5d914bdab0afd254849f71c257d0260032445435d3c65",
    "nko/recipe.json": "fdca7b4582a92ef286d6d2177cd0562b72eafc646794d336baa4c484cc2660c2",
    "nko/test-00000-of-00001.parquet": "766cd3eef4f9294e51e34e6985af061c4ffd426107a6ea393b3fb01b05f03dc7",
    "nko/train-00000-of-00001.parquet": "f792c1cc3071ad78362d099614355e38c660eaea67ca00920c923a049613b309",
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

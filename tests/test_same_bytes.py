"""The output of a fixed run, byte for byte: a refactoring must not change one pixel of the data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import generator
from generator.cli import main

# Recorded with version 0.8.0 (loops drawn smaller, and left open at a sharp corner), with exactly this command;
# 0.7.0 and earlier made other shards and another recipe.json here. They change only with the data: a deliberate
# change to the recipe, the sampling, sanitation or the shard format must update them together with the version
# and the CHANGELOG.
RECORDED_VERSION = "0.8.0"
RECORDED_SHA256 = {
    "geez/recipe.json": "0997594d19e5e1703d7a437f3d37d341e52c2675d66a57f3ea6c12f2ed03c01c",
    "geez/test-00000-of-00001.parquet": "ff3f557271b221ae2517b1f31a5ba6b1c2a4b5c23b5e9439e75eb42737aebb8a",
    "geez/train-00000-of-00001.parquet": "2e67927b969468c8a4d0c274fa162b7044a9e2b4962e0d75970e9c3d22d11ada",
    "nko/recipe.json": "0997594d19e5e1703d7a437f3d37d341e52c2675d66a57f3ea6c12f2ed03c01c",
    "nko/test-00000-of-00001.parquet": "456a8e24694f564f3ec29fbbd392f1d7dd92311c1f47fa460fe19c557e3f71e7",
    "nko/train-00000-of-00001.parquet": "b5925aed9bceafa3241724027b4851f7584b01fbd200d1cb3201eacfaf5b0ac1",
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

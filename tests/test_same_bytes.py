"""The output of a fixed run, byte for byte: a refactoring must not change one pixel of the data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import generator
from generator.cli import main

# Recorded from the code before the package was split into synthesis/, repository/ and evaluation/ (main at
# 96ed4b8, version 0.4.0), with exactly this command. They change only with the data: a deliberate change to the
# recipe, the sampling or the shard format must update them together with the version and the CHANGELOG.
RECORDED_VERSION = "0.4.0"
RECORDED_SHA256 = {
    "geez/recipe.json": "055b4254af8a93235f119debbcb76cc85c5db2acdfd6a9231b92887b6b051739",
    "geez/test-00000-of-00001.parquet": "fe10ec572d27fe415d355e0e03196ea1b805ee1c463d218b6bb31d1379c2dc22",
    "geez/train-00000-of-00001.parquet": "bf20103d368787c7e0bc8b82ee6044218b68e0254c3c1ea7b5d71fed9311e4f8",
    "nko/recipe.json": "055b4254af8a93235f119debbcb76cc85c5db2acdfd6a9231b92887b6b051739",
    "nko/test-00000-of-00001.parquet": "e2fa8db529324199aabc59be46ffc9dca19bf60a2c1eeee6f077a3f564f93111",
    "nko/train-00000-of-00001.parquet": "69bc87080002801614594199ff0de45d5a5a4893a4e2c7e32b3b3819c955365e",
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

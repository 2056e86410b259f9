"""The output of a fixed run, byte for byte: a refactoring must not change one pixel of the data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import generator
from generator.cli import main

# Recorded with version 0.5.0 (sanitation no longer redraws a sample for resembling another class), with exactly
# this command; 0.4.0 and 0.4.1 made other train shards here. They change only with
# the data: a deliberate change to the recipe, the sampling, sanitation or the shard format must update them
# together with the version and the CHANGELOG.
RECORDED_VERSION = "0.5.0"
RECORDED_SHA256 = {
    "geez/recipe.json": "055b4254af8a93235f119debbcb76cc85c5db2acdfd6a9231b92887b6b051739",
    "geez/test-00000-of-00001.parquet": "fe10ec572d27fe415d355e0e03196ea1b805ee1c463d218b6bb31d1379c2dc22",
    "geez/train-00000-of-00001.parquet": "03610d98bf1b21c4a64df4d2f1f2fcea257f19e0b73444c98c2083ee967b64f0",
    "nko/recipe.json": "055b4254af8a93235f119debbcb76cc85c5db2acdfd6a9231b92887b6b051739",
    "nko/test-00000-of-00001.parquet": "e2fa8db529324199aabc59be46ffc9dca19bf60a2c1eeee6f077a3f564f93111",
    "nko/train-00000-of-00001.parquet": "dd1107280c28b71932f6f1cd404964397f375fedabea3789c89a8f3e6297baf0",
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

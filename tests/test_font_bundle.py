"""The bundled subset fonts: intact, licensed, renamed where their licence asks, and numeral-only."""

from __future__ import annotations

import hashlib
import json

import pytest
from fontTools.ttLib import TTFont

from generator.registry import builtin_systems

SYSTEMS = sorted(builtin_systems())


def manifest(config: str) -> list[dict]:
    system = builtin_systems()[config]
    return json.loads((system.spec_path.parent / "fonts" / "manifest.json").read_text())


@pytest.mark.parametrize("config", SYSTEMS)
def test_manifest_matches_the_bundled_files(config):
    system = builtin_systems()[config]
    root = system.spec_path.parent
    entries = {root / entry["path"]: entry for entry in manifest(config)}
    assert set(entries) == set(system.fonts)
    for font_path, entry in entries.items():
        data = font_path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["subset_sha256"]
        assert len(data) == entry["size_bytes"] < 16_000, "a numeral-only subset"
        assert (root / entry["license_path"]).read_text().strip(), "the licence travels with the font"
        assert entry["debian_package"]
        assert entry["debian_version"]


@pytest.mark.parametrize("config", SYSTEMS)
def test_subsets_hold_the_numerals_and_no_reserved_name(config):
    system = builtin_systems()[config]
    for entry in manifest(config):
        with TTFont(system.spec_path.parent / entry["path"]) as font:
            cmap = font.getBestCmap()
            names = " ".join(str(record) for record in font["name"].names if record.nameID in (1, 3, 4, 6, 16, 17))
        assert set(cmap) == set(system.code_points)
        for reserved in entry["reserved_names"]:
            assert reserved.lower() not in names.lower(), f"{entry['path']} still carries {reserved!r}"

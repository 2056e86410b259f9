"""The bundled subset fonts, built-in and example: intact, licensed, renamed where their licence asks, numeral-only."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from functools import cache
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from generator.registry import NumeralSystem, builtin_systems, load_spec
from generator.synthesis.fonts import check_coverage, render_glyph

ROOT = Path(__file__).resolve().parents[1]
BUNDLE_SCRIPT = ROOT / "scripts" / "bundle_fonts.py"
EXAMPLE_SPECS = sorted((ROOT / "examples").glob("*/spec.toml"))
# The example systems: first code point (ten digits from it, classes "0" to "9"), script and its codes.
EXAMPLES = {
    "tamil": (0x0BE6, "Tamil", "Taml", ("tam",)),
    "malayalam": (0x0D66, "Malayalam", "Mlym", ("mal",)),
    "latin": (0x0030, "Latin", "Latn", ()),
    "latin_handwriting": (0x0030, "Latin", "Latn", ()),
}
SYSTEMS = sorted(builtin_systems()) + [path.parent.name for path in EXAMPLE_SPECS]


@cache
def systems() -> dict[str, NumeralSystem]:
    """Every system that scripts/bundle_fonts.py bundles, by folder name: the built-ins, then the examples."""
    return {**builtin_systems(), **{path.parent.name: load_spec(path) for path in EXAMPLE_SPECS}}


def manifest(config: str) -> list[dict]:
    system = systems()[config]
    return json.loads((system.spec_path.parent / "fonts" / "manifest.json").read_text())


def spec_fonts(config: str) -> list[dict]:
    return tomllib.loads(systems()[config].spec_path.read_text(encoding="utf-8"))["fonts"]


def test_examples_are_the_tamil_malayalam_and_latin_digits():  # Latin twice: text faces, then handwriting
    assert sorted(path.parent.name for path in EXAMPLE_SPECS) == sorted(EXAMPLES)
    assert not set(EXAMPLES) & set(builtin_systems()), "an example must not shadow a built-in config"
    for name, (first, script, iso15924, languages) in EXAMPLES.items():
        system = systems()[name]
        assert system.name == name
        assert not system.is_builtin
        assert (system.script, system.iso15924, system.languages) == (script, iso15924, languages)
        assert system.code_points == tuple(range(first, first + 10))
        assert list(system.class_names) == [str(n) for n in range(10)]
        assert len(system.fonts) >= 3, "every distinct design of the script, not one font"


@pytest.mark.parametrize("config", SYSTEMS)
def test_manifest_matches_the_bundled_files(config):
    system = systems()[config]
    root = system.spec_path.parent
    entries = {root / entry["path"]: entry for entry in manifest(config)}
    assert set(entries) == set(system.fonts)
    for font_path, entry in entries.items():
        data = font_path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["subset_sha256"]
        assert len(data) == entry["size_bytes"] < 16_000, "a numeral-only subset"
        assert (root / entry["license_path"]).read_text().strip(), "the licence travels with the font"
        assert entry.get("debian_version") or entry.get("npm_version"), "a source of known version"
        assert entry["licence"], "the licence's short name, which the card shows"


@pytest.mark.parametrize("config", SYSTEMS)
def test_manifest_names_each_licence_as_bundle_fonts_reads_it(bundle, config):
    root = systems()[config].spec_path.parent
    for entry in manifest(config):
        text = (root / entry["license_path"]).read_text(encoding="utf-8")
        assert entry["licence"] == (entry.get("licence_type") or bundle.licence_name(text)), entry["path"]


@pytest.mark.parametrize("config", SYSTEMS)
def test_npm_sources_are_pinned(config):
    for font in spec_fonts(config):
        if "npm_package" in font:
            assert font["npm_package"].startswith("@fontsource/")
            assert re.fullmatch(r"\d+\.\d+\.\d+", font["npm_version"]), "an exact version, never a range"
            assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", font["npm_integrity"])
            assert re.fullmatch(r"files/[a-z0-9-]+-400-normal\.woff", font["npm_file"])


@pytest.mark.parametrize("config", SYSTEMS)
def test_manifest_records_the_provenance_the_spec_asks_for(config):
    keys = (
        "debian_package",
        "debian_file",
        "npm_package",
        "npm_version",
        "npm_file",
        "npm_integrity",
        "reserved_names",
    )
    recorded = {entry["path"]: tuple(entry.get(key) for key in keys) for entry in manifest(config)}
    asked = {font["path"]: tuple(font.get(key) for key in keys) for font in spec_fonts(config)}
    assert recorded == asked, "rebuild with scripts/bundle_fonts.py after editing the spec"


@pytest.mark.parametrize("config", SYSTEMS)
def test_every_glyph_the_design_check_flagged_is_recorded(config):
    """The manifest says what the design check found; the osmanya zero of MPH 2B Damase is flagged and excluded."""
    excluded = {font["path"]: font.get("exclude_classes", []) for font in spec_fonts(config)}
    for entry in manifest(config):
        assert entry["exclude_classes"] == excluded[entry["path"]]
        for flag in entry["design_flags"]:
            assert flag["excluded"] == (flag["class"] in entry["exclude_classes"])
    if config == "osmanya":
        damase = next(entry for entry in manifest(config) if entry["path"] == "fonts/mph-2b-damase.ttf")
        assert [(flag["class"], flag["excluded"]) for flag in damase["design_flags"]] == [("0", True)]


@pytest.mark.parametrize("config", SYSTEMS)
def test_subsets_hold_the_numerals_and_no_reserved_name(config):
    system = systems()[config]
    for entry in manifest(config):
        with TTFont(system.spec_path.parent / entry["path"]) as font:
            cmap = font.getBestCmap()
            names = " ".join(str(record) for record in font["name"].names if record.nameID in (1, 3, 4, 6, 16, 17))
        assert set(cmap) == set(system.code_points)
        for reserved in entry["reserved_names"]:
            assert reserved.lower() not in names.lower(), f"{entry['path']} still carries {reserved!r}"


@pytest.mark.parametrize("config", SYSTEMS)
def test_every_bundled_font_draws_every_numeral(config):
    system = systems()[config]
    for font_path in system.fonts:
        check_coverage(font_path, system.code_points)
        for character in system.characters:
            assert render_glyph(font_path, character).any(), f"{font_path.name} draws {character!r} empty"


def test_the_latin_example_holds_text_faces_only():
    """MNIST scores the recipe only if no design already looks handwritten: serif, sans-serif and mono only."""
    entries = manifest("latin")
    assert len(entries) >= 40
    categories = {entry["category"] for entry in entries if "npm_package" in entry}
    assert categories <= {"serif", "sans-serif", "monospace"}
    assert {entry["category"] for entry in manifest("latin_handwriting")} == {"handwriting"}


def test_bundle_script_says_how_to_install_every_package():
    lines = [line for line in BUNDLE_SCRIPT.read_text().splitlines() if "apt-get install" in line]
    installed = {word for line in lines for word in re.findall(r"fonts-[\w-]+", line)}
    needed = {font["debian_package"] for config in SYSTEMS for font in spec_fonts(config) if "debian_package" in font}
    assert needed <= installed, f"add to the apt-get lines of {BUNDLE_SCRIPT.name}: {sorted(needed - installed)}"

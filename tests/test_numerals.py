"""Any Unicode digit set by name: the catalogue, font discovery, specs built on the fly, and fonts from globs."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._g_l_y_f import Glyph

from generator.errors import InputError
from generator.layout import format_code_point
from generator.registry import BUILTIN_DIR, builtin_systems, load_spec
from generator.synthesis import numerals
from tests.conftest import assert_one_line_error, run_cli

TINY_ARGS = ("--train-size", "20", "--test-size", "10", "--workers", "1")


@pytest.fixture
def bundled_fonts_installed(monkeypatch) -> Path:
    """The bundled subset fonts of the built-in configs stand for the fonts installed on a machine."""
    monkeypatch.setenv(numerals.FONT_DIRS_ENV, str(BUILTIN_DIR))
    return BUILTIN_DIR


def digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("*.parquet"))}


def test_the_catalogue_holds_unicode_decimal_digit_sets():
    sets = {digit_set.name: digit_set for digit_set in numerals.digit_sets()}
    assert len(sets) > 50
    assert (sets["bengali"].zero, sets["bengali"].iso15924, sets["bengali"].script) == (0x09E6, "Beng", "Bengali")
    assert (sets["adlam"].zero, sets["adlam"].iso15924) == (0x1E950, "Adlm")
    assert sets["ascii"].zero == 0x30
    assert sets["myanmar_shan"].iso15924 == "Mymr"
    for digit_set in sets.values():
        assert [int(chr(code_point)) for code_point in digit_set.code_points] == list(range(10))


@pytest.mark.parametrize(("name", "expected"), [("bengali", "bengali"), ("Beng", "bengali"), ("Nkoo", "nko")])
def test_a_digit_set_is_found_by_name_or_script_code(name, expected):
    assert numerals.find_digit_set(name).name == expected


def test_a_script_with_several_digit_sets_names_them():
    assert numerals.find_digit_set("Mymr").name == "myanmar", "the set named after the script"
    with pytest.raises(InputError, match="several digit sets"):
        numerals.find_digit_set("Lana")  # Tai Tham: hora and tham digits
    with pytest.raises(InputError, match="afro-mnist numerals"):
        numerals.find_digit_set("klingon")


def test_discovery_finds_every_covering_design(bundled_fonts_installed):
    adlam = builtin_systems()["adlam"]
    found = numerals.discover(numerals.find_digit_set("adlam"))
    assert sorted(found.fonts) == sorted(adlam.fonts)
    assert found.skipped == [], "no other bundled font maps Adlam digits"
    assert found.excluded == {}


def test_discovery_leaves_out_empty_glyphs_and_other_styles(tmp_path, monkeypatch):
    vai = builtin_systems()["vai"]
    for font in vai.fonts:
        shutil.copy(font, tmp_path / font.name)
    # A second file of Noto Sans Vai's family: one design, not two.
    shutil.copy(vai.fonts[0], tmp_path / "noto-sans-vai-copy.ttf")
    # A font that maps a digit to a glyph without an outline.
    broken = TTFont(vai.fonts[1])
    broken["glyf"][broken.getBestCmap()[vai.code_points[4]]] = Glyph()
    broken.save(tmp_path / "broken.ttf")
    monkeypatch.setenv(numerals.FONT_DIRS_ENV, str(tmp_path))
    found = numerals.discover(numerals.find_digit_set("vai"))
    reasons = {path.name: why for path, why in found.skipped}
    assert "empty glyph" in reasons["broken.ttf"]
    assert "another style of Noto Sans Vai" in reasons["noto-sans-vai.ttf"]
    assert sorted(font.name for font in found.fonts) == ["freesans.ttf", "noto-sans-vai-copy.ttf", "unifont.otf"]


def test_discovery_leaves_out_a_flagged_glyph_not_its_font(tmp_path, monkeypatch):
    osmanya = builtin_systems()["osmanya"]
    for font in osmanya.fonts:
        shutil.copy(font, tmp_path / font.name)
    monkeypatch.setenv(numerals.FONT_DIRS_ENV, str(tmp_path))
    digit_set = numerals.find_digit_set("osmanya")
    found = numerals.discover(digit_set)
    assert len(found.fonts) == len(osmanya.fonts)
    assert found.excluded == {tmp_path / "mph-2b-damase.ttf": [0]}, "the X-shaped zero"
    spec = tmp_path / "osmanya.toml"
    spec.write_text(numerals.spec_text(digit_set, found))
    system = load_spec(spec)
    damase = system.fonts.index(tmp_path / "mph-2b-damase.ttf")
    assert not system.draws(damase, 0)
    assert system.draws(damase, 1)


def test_numerals_lists_sets_with_installed_font_counts(capsys, bundled_fonts_installed):
    from generator.cli import main

    assert main(["numerals"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["adlam"][-1] == "3"
    assert rows["nko"][-1] == str(len(builtin_systems()["nko"].fonts))
    assert rows["bengali"][-1] == "0"
    assert rows["bengali"][1] == format_code_point(0x09E6)


def test_generate_numerals_builds_a_config_and_writes_its_spec(capsys, tmp_path, bundled_fonts_installed):
    out = tmp_path / "build"
    code, err = run_cli(capsys, "generate", "--numerals", "Adlm", "--out", str(out), *TINY_ARGS)
    assert code == 0, err
    assert "adlam_installed: 3 font design(s) installed" in err, "a built-in name stays the built-in config's"
    spec = load_spec(out / "adlam_installed.spec.toml")
    assert sorted(spec.fonts) == sorted(builtin_systems()["adlam"].fonts)
    assert not list(out.glob("tmp*")), "no temporary spec is left behind"
    # The written spec repeats the run, byte for byte.
    again = tmp_path / "again"
    code, err = run_cli(
        capsys, "generate", "--spec", str(out / "adlam_installed.spec.toml"), "--out", str(again), *TINY_ARGS
    )
    assert code == 0, err
    assert digests(out / "adlam_installed") == digests(again / "adlam_installed") != {}


def test_generate_numerals_warns_of_a_single_design(capsys, tmp_path, monkeypatch):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(builtin_systems()["vai"].fonts[0], fonts)
    monkeypatch.setenv(numerals.FONT_DIRS_ENV, str(fonts))
    code, err = run_cli(capsys, "generate", "--numerals", "vai", "--out", str(tmp_path / "build"), *TINY_ARGS)
    assert code == 0, err
    assert "warning: vai_installed has one design only" in err


def test_generate_numerals_without_an_installed_font_is_an_error(capsys, tmp_path, bundled_fonts_installed):
    code, err = run_cli(capsys, "generate", "--numerals", "bengali", "--out", str(tmp_path / "build"), *TINY_ARGS)
    assert_one_line_error(code, err, "--numerals bengali", "no installed font draws all ten bengali digits")
    assert not (tmp_path / "build").exists() or not any((tmp_path / "build").iterdir())


def vai_spec(folder: Path, fonts: str) -> Path:
    vai = builtin_systems()["vai"]
    points = ", ".join(f'"{format_code_point(cp)}"' for cp in vai.code_points)
    spec = folder / "vai_glob.toml"
    spec.write_text(
        f'name = "vai_glob"\nscript = "Vai"\ncode_points = [{points}]\n'
        f'class_names = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]\nfonts = {fonts}\n'
    )
    return spec


def test_a_glob_takes_the_covering_fonts_and_says_what_it_skipped(tmp_path, capsys):
    pattern = str(BUILTIN_DIR / "*" / "fonts" / "*.[ot]tf")
    system = load_spec(vai_spec(tmp_path, f'["{pattern}"]'))
    assert sorted(system.fonts) == sorted(builtin_systems()["vai"].fonts)
    err = capsys.readouterr().err
    skipped = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(skipped) == len(list(BUILTIN_DIR.glob("*/fonts/*.[ot]tf"))) - len(system.fonts)
    assert any("geez/fonts/unifont.otf: it has no glyph for U+A620" in line for line in skipped)


def test_a_folder_of_fonts_is_taken_like_a_glob(tmp_path, capsys):
    system = load_spec(vai_spec(tmp_path, f'["{BUILTIN_DIR / "vai" / "fonts"}"]'))
    assert sorted(system.fonts) == sorted(builtin_systems()["vai"].fonts)


def test_a_glob_that_matches_no_covering_font_is_an_error(tmp_path, capsys):
    with pytest.raises(InputError, match="matches no font that draws every code point"):
        load_spec(vai_spec(tmp_path, f'["{BUILTIN_DIR / "geez" / "fonts" / "*.ttf"}"]'))


def test_an_explicitly_named_font_that_fails_stays_an_error(capsys, tmp_path):
    geez_font = BUILTIN_DIR / "geez" / "fonts" / "unifont.otf"
    spec = vai_spec(tmp_path, f'["{geez_font}", "{BUILTIN_DIR / "vai" / "fonts" / "*.ttf"}"]')
    code, err = run_cli(capsys, "preview", "vai_glob", "--spec", str(spec), "--out", str(tmp_path / "p.png"))
    assert_one_line_error(code, err, str(geez_font), "has no glyph for U+A620")

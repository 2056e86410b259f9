"""Fonts in WOFF, as Google Fonts packages on the npm registry ship them: read, rendered and bundled."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from generator.layout import format_code_point
from generator.registry import builtin_systems, load_spec
from generator.synthesis.fonts import check_coverage, render_glyph

ROOT = Path(__file__).resolve().parents[1]
OFL_HEADER = "Copyright 2020 The Test Project Authors\n"


def woff_copy(source: Path, dest: Path) -> Path:
    """``source`` re-saved as WOFF."""
    font = TTFont(source)
    font.flavor = "woff"
    font.save(dest)
    return dest


def test_a_woff_font_is_checked_and_rendered_like_its_ttf(tmp_path):
    vai = builtin_systems()["vai"]
    woff = woff_copy(vai.fonts[0], tmp_path / "vai.woff")
    assert woff.read_bytes()[:4] == b"wOFF"
    check_coverage(woff, vai.code_points)
    for character in vai.characters:
        assert np.array_equal(render_glyph(woff, character), render_glyph(vai.fonts[0], character))


def npm_package(tmp_path: Path, woff: Path, licence: str) -> tuple[Path, str]:
    """A tarball laid out as a fontsource package, and its SRI integrity."""
    files = {
        "package/files/test-vai-400-normal.woff": woff.read_bytes(),
        "package/LICENSE": licence.encode(),
        "package/metadata.json": json.dumps({"category": "sans-serif", "license": {"type": "OFL-1.1"}}).encode(),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    cache = tmp_path / "cache"
    cache.mkdir()
    path = cache / "fontsource-test-1.0.0.tgz"
    path.write_bytes(buffer.getvalue())
    return cache, "sha512-" + base64.b64encode(hashlib.sha512(buffer.getvalue()).digest()).decode()


def npm_spec(folder: Path, integrity: str, reserved: list[str]) -> Path:
    vai = builtin_systems()["vai"]
    points = ", ".join(f'"{format_code_point(cp)}"' for cp in vai.code_points)
    names = ", ".join(f'"{name}"' for name in vai.class_names)
    reserved_list = ", ".join(f'"{name}"' for name in reserved)
    spec = folder / "spec.toml"
    spec.write_text(
        f'name = "vai_npm"\nscript = "Vai"\ncode_points = [{points}]\nclass_names = [{names}]\n\n'
        f'[[fonts]]\npath = "fonts/vai-numerals-01.ttf"\nnpm_package = "@fontsource/test"\nnpm_version = "1.0.0"\n'
        f'npm_file = "files/test-vai-400-normal.woff"\nnpm_integrity = "{integrity}"\n'
        f"reserved_names = [{reserved_list}]\n"
    )
    return spec


def test_an_npm_woff_is_bundled_as_a_plain_renamed_subset(tmp_path, bundle, monkeypatch):
    vai = builtin_systems()["vai"]
    woff = woff_copy(vai.fonts[0], tmp_path / "source.woff")
    licence = OFL_HEADER + 'with Reserved Font Name "Noto".\n\nThis Font Software is licensed under the OFL.\n'
    cache, integrity = npm_package(tmp_path, woff, licence)
    monkeypatch.setattr(bundle, "NPM_CACHE", cache)
    out = tmp_path / "system"
    out.mkdir()

    with pytest.raises(bundle.BundleError, match="reserves \\['Noto'\\]"):
        bundle.build_system(npm_spec(out, integrity, []), out)
    assert not (out / "fonts").exists(), "a refused build writes nothing"

    records = bundle.build_system(npm_spec(out, integrity, ["Noto"]), out)
    [record] = records
    assert (record["npm_package"], record["npm_version"], record["npm_integrity"]) == (
        "@fontsource/test",
        "1.0.0",
        integrity,
    )
    assert record["source_sha256"] == hashlib.sha256(woff.read_bytes()).hexdigest()
    assert (record["category"], record["licence_type"], record["licence"]) == ("sans-serif", "OFL-1.1", "OFL-1.1")
    assert (out / "fonts" / "vai-numerals-01.LICENSE.txt").read_text() == licence
    font_path = out / "fonts" / "vai-numerals-01.ttf"
    assert font_path.read_bytes()[:4] == b"\x00\x01\x00\x00", "plain TrueType, not WOFF"
    assert "noto" not in TTFont(font_path)["name"].getBestFamilyName().lower()
    system = load_spec(out / "spec.toml")
    assert set(TTFont(font_path).getBestCmap()) == set(system.code_points)
    for character in system.characters:
        assert np.array_equal(render_glyph(font_path, character), render_glyph(vai.fonts[0], character))
    # Built again from the same tarball, byte for byte.
    again = tmp_path / "again"
    again.mkdir()
    assert bundle.build_system(npm_spec(again, integrity, ["Noto"]), again) == records
    assert (again / "fonts" / "vai-numerals-01.ttf").read_bytes() == font_path.read_bytes()


def test_a_tarball_that_differs_from_the_pinned_integrity_is_refused(tmp_path, bundle, monkeypatch):
    woff = woff_copy(builtin_systems()["vai"].fonts[0], tmp_path / "source.woff")
    cache, _ = npm_package(tmp_path, woff, OFL_HEADER)
    monkeypatch.setattr(bundle, "NPM_CACHE", cache)
    wrong = "sha512-" + base64.b64encode(hashlib.sha512(b"another tarball").digest()).decode()
    with pytest.raises(bundle.BundleError, match="not the pinned"):
        bundle.build_system(npm_spec(tmp_path, wrong, []), tmp_path)


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ('Copyright 2011 A, with Reserved Font Name "Lora".', ["Lora"]),
        ('Copyright B, with Reserved Font Names "Gochi" and "Gochi Hand".', ["Gochi", "Gochi Hand"]),
        (
            "Copyright C, with Reserved Font Names 'Oxygen' Oxygen-Regular.ttf: with Reserved Font Names 'Oxygen'",
            ["Oxygen"],
        ),
        ("Copyright D (https://example.org)", []),
    ],
)
def test_reserved_font_names_are_read_from_the_licence_header(bundle, header, names):
    # The OFL's own text defines "Reserved Font Name"; only the copyright lines above it declare any.
    licence = (
        f'{header}\n\nSIL OPEN FONT LICENSE Version 1.1\n"Reserved Font Name" refers to any names specified as such'
    )
    assert bundle.reserved_in_licence(licence) == names


@pytest.mark.parametrize(
    ("copyright_text", "expected"),
    [
        # Debian machine-readable: the paragraph for the font files wins over "Files: *".
        (
            "Files: *\nCopyright: x\nLicense: GPL-3+\n\nFiles: */*.ttf */*.otf\nCopyright: x\n"
            "License: GPL-3+ with Special Font Exception\n",
            "GPL-3+ with font exception",
        ),
        ("Files: *\nCopyright: x\nLicense: OFL-1.1-RFN\n\nFiles: debian/*\nLicense: GPL-2+\n", "OFL-1.1"),
        ("Files: *\nCopyright: Unifoundry\nLicense: GPL-2+\n", "GPL-2+"),
        ("Files: *\nCopyright: Bitstream\nLicense: bitstream-vera\n", "Bitstream Vera"),
        # Free-form files.
        ("Author: Mark\nLicense: Public Domain\n", "public domain"),
        (
            "Copyright (c) Everson\n\nThis Font Software is licensed under the SIL Open Font License, Version 1.1",
            "OFL-1.1",
        ),
        # An empty License: line names nothing; the text below it does.
        (
            "License:\n the GNU General Public License v.2 with the exceptions set forth below\n",
            "GPL-2 with font exception",
        ),
    ],
)
def test_licence_name_from_a_debian_copyright_file(bundle, copyright_text: str, expected: str):
    assert bundle.licence_name(copyright_text) == expected

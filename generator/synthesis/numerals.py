"""Any decimal numeral system Unicode knows, by name, from the fonts installed on this machine.

    afro-mnist numerals                      # every set of ten decimal digits, with its covering fonts
    afro-mnist generate --numerals bengali   # or the script's ISO 15924 code: --numerals Beng

Unicode lists its decimal digits as the characters of general category ``Nd``; they come in runs of
ten, zero first. Each run is a *digit set*, named after its characters ("BENGALI DIGIT ZERO" gives
``bengali``), with the script that ``fontTools.unicodedata`` assigns to its zero.

Installed fonts are found by scanning the standard font folders (or those in ``$AFRO_MNIST_FONT_DIRS``,
separated by ``os.pathsep``) with fontTools. A spec built on the fly takes every font that maps all ten
digits to a glyph with ink, one per family (its regular style where there is one), and leaves out
each glyph that the design check (``generator.synthesis.designs``) flags, as ``exclude_classes`` of its font.
"""

from __future__ import annotations

import glob
import os
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools import unicodedata as font_unicodedata
from fontTools.ttLib import TTFont, TTLibError

from generator.errors import InputError
from generator.layout import format_code_point
from generator.synthesis.designs import design_flags
from generator.synthesis.fonts import render_glyph

FONT_DIRS_ENV = "AFRO_MNIST_FONT_DIRS"
# Where fonts are installed on Linux, macOS and Windows, system-wide and for the user.
STANDARD_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "~/Library/Fonts",
    "C:/Windows/Fonts",
)
# Font files that fontTools and Pillow both read (WOFF2 would need brotli); a collection gives its first font.
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".ttc", ".otc")
_REGULAR_STYLES = ("regular", "book", "normal", "roman")


@dataclass(frozen=True)
class DigitSet:
    """Ten decimal digits of one script, as Unicode lists them.

    Attributes:
        name: the config name, from the characters' names (``bengali``, ``myanmar_shan``).
        zero: the code point of digit zero; digits one to nine follow it.
        iso15924: the script of the digits, e.g. ``Beng``; ``Zyyy`` for digits shared by scripts.
        script: the script's English name.
    """

    name: str
    zero: int
    iso15924: str
    script: str

    @property
    def code_points(self) -> tuple[int, ...]:
        return tuple(range(self.zero, self.zero + 10))


@cache
def digit_sets() -> tuple[DigitSet, ...]:
    """Every run of ten ``Nd`` characters, zero to nine, in code point order."""
    sets = []
    for code_point in range(0x110000):
        character = chr(code_point)
        if unicodedata.category(character) != "Nd" or unicodedata.digit(character) != 0:
            continue
        if [unicodedata.digit(chr(code_point + value), None) for value in range(10)] != list(range(10)):
            continue
        label = unicodedata.name(character).removesuffix("DIGIT ZERO").strip() or "ASCII"
        iso15924 = font_unicodedata.script(character)
        sets.append(DigitSet(_slug(label), code_point, iso15924, font_unicodedata.script_name(iso15924)))
    return tuple(sets)


def find_digit_set(name: str) -> DigitSet:
    """The digit set called ``name``: its config name, its script's name, or its ISO 15924 code.

    Raises:
        InputError: no set, or several sets of one script and none named after it.
    """
    wanted = name.strip().lower()
    sets = digit_sets()
    for digit_set in sets:
        if digit_set.name == wanted:
            return digit_set
    of_script = [s for s in sets if s.iso15924.lower() == wanted or _slug(s.script) == _slug(wanted)]
    named = [s for s in of_script if s.name == _slug(s.script)]
    if len(of_script) == 1 or len(named) == 1:
        return (named or of_script)[0]
    if of_script:
        choices = ", ".join(s.name for s in of_script)
        raise InputError(f"--numerals {name!r} names several digit sets ({choices}); pass one of them")
    raise InputError(f"--numerals {name!r} is no Unicode digit set; run `afro-mnist numerals` to list them")


def font_dirs() -> list[Path]:
    """The folders scanned for installed fonts: ``$AFRO_MNIST_FONT_DIRS``, else the standard ones."""
    listed = os.environ.get(FONT_DIRS_ENV)
    folders = listed.split(os.pathsep) if listed else STANDARD_FONT_DIRS
    return [Path(folder).expanduser() for folder in folders if folder]


def installed_fonts(folders: Iterable[Path] | None = None) -> list[Path]:
    """Every font file under ``folders`` (default: ``font_dirs()``), sorted, each once."""
    found = set()
    for folder in font_dirs() if folders is None else folders:
        if folder.is_dir():
            found.update(path.resolve() for path in folder.rglob("*") if _is_font_file(path))
    return sorted(found)


def expand_fonts(pattern: str, base: Path) -> list[Path]:
    """The font files a spec's folder or glob names (relative to ``base``), sorted."""
    path = (base / Path(pattern).expanduser()).resolve() if not Path(pattern).is_absolute() else Path(pattern)
    if path.is_dir():
        return installed_fonts([path])
    matches = glob.glob(str(path), recursive=True)
    return sorted({Path(match).resolve() for match in matches if _is_font_file(Path(match))})


def covering(fonts: Iterable[Path], code_points: tuple[int, ...]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The fonts that draw every code point with ink, and ``(font, why)`` for each left out."""
    kept, skipped = [], []
    for font in fonts:
        cmap = _cmap(font)
        if cmap is None:
            skipped.append((font, "cannot be read as a font"))
            continue
        missing = [code_point for code_point in code_points if code_point not in cmap]
        if missing:
            skipped.append((font, f"has no glyph for {format_code_point(missing[0])}"))
            continue
        try:
            for code_point in code_points:
                render_glyph(font, chr(code_point))
        except InputError:
            skipped.append((font, f"draws {format_code_point(code_point)} as an empty glyph"))
            continue
        except OSError:
            skipped.append((font, "cannot be rendered"))
            continue
        kept.append(font)
    return kept, skipped


def count_covering(fonts: list[Path], code_points: tuple[int, ...]) -> int:
    """How many of ``fonts`` map every code point (by cmap alone, without rendering)."""
    return sum(1 for font in fonts if (cmap := _cmap(font)) is not None and all(cp in cmap for cp in code_points))


@dataclass(frozen=True)
class Discovered:
    """The installed fonts of a digit set.

    Attributes:
        fonts: one per family, sorted.
        excluded: per font, the digits whose glyph the design check flagged and the spec leaves out.
        skipped: ``(font, why)`` for each font file left out, and each glyph left out.
    """

    fonts: list[Path]
    excluded: dict[Path, list[int]]
    skipped: list[tuple[Path, str]]


def discover(digit_set: DigitSet, folders: Iterable[Path] | None = None) -> Discovered:
    """The installed fonts that make a spec for ``digit_set``.

    One font per family, its regular style where there is one; then the design check leaves out
    each glyph that does not look like its class.
    """
    code_points = digit_set.code_points
    candidates = [font for font in installed_fonts(folders) if _covers(font, code_points)]
    fonts, skipped = covering(candidates, code_points)
    by_family: dict[str, list[Path]] = {}
    for font in fonts:
        by_family.setdefault(_family(font), []).append(font)
    chosen = []
    for family, members in by_family.items():
        best = min(members, key=lambda font: (_style(font) not in _REGULAR_STYLES, str(font)))
        chosen.append(best)
        skipped += [(font, f"another style of {family}, {best.name}, is taken") for font in members if font != best]
    chosen.sort()
    glyphs = [[render_glyph(font, chr(code_point)) for code_point in code_points] for font in chosen]
    excluded: dict[Path, list[int]] = {}
    class_names = [str(digit) for digit in range(10)]
    for flag in design_flags(glyphs):
        excluded.setdefault(chosen[flag.font], []).append(flag.label)
        skipped.append(
            (chosen[flag.font], f"its digit {flag.label} is left out by the design check: {flag.reason(class_names)}")
        )
    for label in range(10):  # a digit keeps at least one design, however the check judges it
        if all(label in excluded.get(font, []) for font in chosen):
            for font in chosen:
                excluded[font].remove(label)
    return Discovered(chosen, {font: labels for font, labels in excluded.items() if labels}, skipped)


def spec_text(digit_set: DigitSet, discovered: Discovered) -> str:
    """A spec file for ``digit_set`` with the fonts found (absolute paths), to repeat a run with ``--spec``."""
    points = ", ".join(f'"{format_code_point(code_point)}"' for code_point in digit_set.code_points)
    lines = [
        f"# Built by `afro-mnist generate --numerals {digit_set.name}` from the fonts installed here.",
        f'name = "{digit_set.name}"',
        f'script = "{digit_set.script}"',
        *([f'iso15924 = "{digit_set.iso15924}"'] if re.fullmatch(r"[A-Z][a-z]{3}", digit_set.iso15924) else []),
        f"code_points = [{points}]",
        "class_names = [" + ", ".join(f'"{digit}"' for digit in range(10)) + "]",
    ]
    for font in discovered.fonts:
        excluded = ", ".join(f'"{label}"' for label in discovered.excluded.get(font, []))
        lines += [
            "",
            "[[fonts]]",
            f"path = {_toml_string(str(font))}",
            *([f"exclude_classes = [{excluded}]"] if excluded else []),
        ]
    return "\n".join(lines) + "\n"


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _is_font_file(path: Path) -> bool:
    return path.suffix.lower() in FONT_SUFFIXES and path.is_file()


def _covers(font: Path, code_points: tuple[int, ...]) -> bool:
    cmap = _cmap(font)
    return cmap is not None and all(code_point in cmap for code_point in code_points)


@cache
def _cmap(font: Path) -> frozenset[int] | None:
    """The code points a font maps, or None if fontTools cannot read it."""
    try:
        with font.open("rb") as file, TTFont(file, lazy=True, fontNumber=0) as parsed:
            return frozenset(parsed.getBestCmap() or ())
    except (TTLibError, OSError, AssertionError, KeyError, ValueError, TypeError, IndexError):
        return None


@cache
def _names(font: Path) -> tuple[str, str]:
    with font.open("rb") as file, TTFont(file, lazy=True, fontNumber=0) as parsed:
        names = parsed["name"]
        family = names.getDebugName(16) or names.getDebugName(1) or font.stem
        style = names.getDebugName(17) or names.getDebugName(2) or ""
    return family, style


def _family(font: Path) -> str:
    return _names(font)[0]


def _style(font: Path) -> str:
    return _names(font)[1].lower()

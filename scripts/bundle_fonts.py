#!/usr/bin/env python3
"""Rebuild the bundled numeral-only font subsets from Debian font packages.

For each built-in ``generator/numeral_systems/<name>/spec.toml`` and each example
``examples/<name>/spec.toml``, every ``[[fonts]]`` table's ``debian_file`` is subset with fontTools to the
system's numeral code points, renamed if its licence reserves the name, and written beside the spec as
``fonts/<stem>.ttf|.otf`` (byte-identical for the same source and fontTools), with
``fonts/<stem>.LICENSE.txt`` (the package's copyright file plus each common licence it cites) and
``fonts/manifest.json`` (provenance and SHA-256 checksums, no dates).

Needs fontTools, Pillow and the Debian packages named in the specs (the last two lines: the examples)::

    apt-get install fonts-noto-core fonts-senamirmir-washra fonts-sil-abyssinica fonts-freefont-ttf
    apt-get install fonts-unifont fonts-mph-2b-damase fonts-evertype-conakry fonts-dejavu-core
    apt-get install fonts-lohit-taml fonts-meera-inimai fonts-lohit-mlym fonts-rit-sundar
    apt-get install fonts-smc-chilanka fonts-smc-gayathri fonts-smc-keraleeyam fonts-smc-manjari
    apt-get install fonts-smc-meera fonts-smc-rachana fonts-smc-raghumalayalamsans fonts-smc-suruma
    apt-get install fonts-smc-uroob fonts-smc-anjalioldlipi fonts-smc-dyuthi fonts-smc-karumbi
    python scripts/bundle_fonts.py                      # rebuild every system, built-in and example
    python scripts/bundle_fonts.py --systems vai tamil  # rebuild some
    python scripts/bundle_fonts.py --check            # verify the bundle is reproducible

Exit status: 0 on success, 1 if ``--check`` finds a difference, 2 if a package, file or code point
is missing.
"""

import argparse
import hashlib
import io
import json
import logging
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from fontTools import subset
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from generator.layout import write_atomic

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS_DIR = ROOT / "generator" / "numeral_systems"
EXAMPLES_DIR = ROOT / "examples"
# A licence name such as GPL-3, LGPL-2.1 or CC0-1.0; a trailing "+" ("GPL-3+") is not part of the file name.
COMMON_LICENSE_RE = re.compile(r"/usr/share/common-licenses/([A-Za-z][A-Za-z0-9]*(?:-[0-9.]*[0-9])?)")
# Every name record that presents the font's name to users; all are replaced on renaming.
USER_NAME_IDS = frozenset({1, 2, 3, 4, 6, 16, 17, 18, 20, 21, 22, 25})
# Isolated digits need no shaping, kerning or maths data; these tables only add bytes.
EXTRA_DROP_TABLES = ["GSUB", "GPOS", "GDEF", "kern", "MATH", "FFTM", "gasp", "morx", "feat"]


class BundleError(Exception):
    """A missing or broken prerequisite; its message is shown to the user as one line."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def debian_version(package: str) -> str:
    """Return the installed version of ``package``, or raise telling how to install it."""
    try:
        result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BundleError(f"dpkg-query not found; {package} must come from Debian") from exc
    if result.returncode != 0 or not result.stdout:
        raise BundleError(f"package {package} is not installed; run: apt-get install {package}")
    return result.stdout


def parse_code_point(text: str) -> int:
    match = re.fullmatch(r"U\+([0-9A-F]{4,6})", text)
    if match is None:
        raise BundleError(f"bad code point {text!r}; expected e.g. 'U+A620'")
    return int(match.group(1), 16)


def licence_text(package: str) -> str:
    """Return the package's copyright file followed by each common licence it refers to."""
    copyright_file = Path("/usr/share/doc") / package / "copyright"
    if not copyright_file.is_file():
        raise BundleError(f"{copyright_file} not found; run: apt-get install {package}")
    parts = [copyright_file.read_text(encoding="utf-8")]
    for name in dict.fromkeys(COMMON_LICENSE_RE.findall(parts[0])):
        path = Path("/usr/share/common-licenses") / name
        if not path.is_file():
            raise BundleError(f"{copyright_file} cites {path}, which is missing; run: apt-get install base-files")
        parts.append(f"\n{'=' * 72}\nFull text of {path}:\n{'=' * 72}\n\n{path.read_text('utf-8')}")
    return "".join(parts)


def bundled_family(rel_path: Path, reserved: list[str]) -> str:
    """Derive a neutral family name from the file name, e.g. "AfroMNIST Nko Numerals 01"."""
    family = "AfroMNIST " + " ".join(word.capitalize() for word in rel_path.stem.split("-"))
    clashes = [name for name in reserved if name.lower() in family.lower()]
    if clashes:
        raise BundleError(f"{rel_path}: file name gives family {family!r} using {clashes}")
    return family


def rename(font: TTFont, family: str) -> None:
    """Replace every user-facing name; copyright, trademark and licence notices stay."""
    table = font["name"]
    style = table.getDebugName(2) or "Regular"
    postscript = re.sub(r"[^A-Za-z0-9]", "", family) + "-" + re.sub(r"[^A-Za-z0-9]", "", style)
    full = family if style == "Regular" else f"{family} {style}"
    table.names = [record for record in table.names if record.nameID not in USER_NAME_IDS]
    for name_id, text in ((1, family), (2, style), (3, f"AfroMNIST:{postscript}"), (4, full), (6, postscript)):
        table.setName(text, name_id, 3, 1, 0x409)
    if "CFF " in font:  # CFF keeps its own copy of the names
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        cff.topDictIndex[0].FamilyName = family
        cff.topDictIndex[0].FullName = full


def subset_font(source: bytes, label: str, code_points: list[int], family: str | None) -> bytes:
    """Return ``source`` cut down to ``code_points`` (plus .notdef), renamed to ``family``."""
    font = TTFont(io.BytesIO(source), recalcTimestamp=False)
    cmap = font.getBestCmap()
    for code_point in code_points:
        if code_point not in cmap:
            raise BundleError(f"{label} lacks U+{code_point:04X}")
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.drop_tables += EXTRA_DROP_TABLES
    options.name_IDs = ["*"]  # keep copyright, trademark and licence records, not just 0-6
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=code_points)
    subsetter.subset(font)
    if family is not None:
        rename(font, family)
    # The GPL asks modified versions to say so; no date, to stay reproducible.
    version = font["name"].getDebugName(5) or "Version unknown"
    font["name"].setName(f"{version}; Afro-MNIST numeral subset", 5, 3, 1, 0x409)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def check_renders(data: bytes, label: str, code_points: list[int]) -> None:
    """Fail if Pillow draws nothing for a numeral; .notdef is empty, so tofu shows up too."""
    font = ImageFont.truetype(io.BytesIO(data), 48)
    for code_point in code_points:
        image = Image.new("L", (128, 128))
        ImageDraw.Draw(image).text((24, 24), chr(code_point), font=font, fill=255)
        if image.getbbox() is None:
            raise BundleError(f"{label}: U+{code_point:04X} renders empty")


def build_font(entry: object, code_points: list[int]) -> tuple[dict[str, Any], dict[Path, bytes]]:
    """Subset one [[fonts]] entry; return its manifest record and the files to write."""
    if not isinstance(entry, dict) or not {"path", "debian_package", "debian_file"} <= entry.keys():
        raise BundleError(f"font entry {entry!r} needs path, debian_package and debian_file")
    package, source_path = entry["debian_package"], Path(entry["debian_file"])
    version = debian_version(package)
    if not source_path.is_file():
        raise BundleError(f"{source_path} not found; run: apt-get install {package}")
    rel_path = Path(entry["path"])
    reserved = list(entry.get("reserved_names", []))
    source = source_path.read_bytes()
    family = bundled_family(rel_path, reserved) if reserved else None
    data = subset_font(source, str(source_path), code_points, family)
    check_renders(data, str(source_path), code_points)
    licence_path = rel_path.with_name(f"{rel_path.stem}.LICENSE.txt")
    files = {rel_path: data, licence_path: licence_text(package).encode("utf-8")}
    record = {
        "path": rel_path.as_posix(),
        "source_family": TTFont(io.BytesIO(source), lazy=True)["name"].getBestFamilyName(),
        "bundled_family": TTFont(io.BytesIO(data))["name"].getBestFamilyName(),
        "debian_package": package,
        "debian_version": version,
        "debian_file": str(source_path),
        "source_sha256": sha256(source),
        "subset_sha256": sha256(data),
        "license_path": licence_path.as_posix(),
        "reserved_names": reserved,
        "size_bytes": len(data),
    }
    return record, files


def build_system(spec_path: Path, out_dir: Path) -> list[dict[str, Any]]:
    """Build every font of one spec, then write them, their licences and the manifest to ``out_dir``."""
    try:
        spec = tomllib.loads(spec_path.read_text(encoding="utf-8"))
        code_points = [parse_code_point(text) for text in spec["code_points"]]
        entries = list(spec["fonts"])
    except (KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise BundleError(f"{spec_path}: invalid spec ({exc!r})") from exc
    # Build everything before writing anything, so a failure leaves the old bundle intact.
    built = [build_font(entry, code_points) for entry in entries]
    for _, files in built:
        for rel_path, data in files.items():
            write_atomic(out_dir / rel_path, data)
    records = sorted((record for record, _ in built), key=lambda record: record["path"])
    manifest = json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(out_dir / "fonts" / "manifest.json", manifest.encode("utf-8"))
    return records


def find_systems() -> dict[str, Path]:
    """Map each system's folder name to its folder: the built-ins, then the examples."""
    systems: dict[str, Path] = {}
    for parent in (SYSTEMS_DIR, EXAMPLES_DIR):
        for spec_path in sorted(parent.glob("*/spec.toml")):
            name = spec_path.parent.name
            if name in systems:
                raise BundleError(f"{spec_path.parent} and {systems[name]} share the name {name!r}; rename one")
            systems[name] = spec_path.parent
    return systems


def check(systems: dict[str, Path]) -> int:
    """Rebuild into a temporary directory; return 1 if any committed subset differs."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, system_dir in systems.items():
            manifest_path = system_dir / "fonts" / "manifest.json"
            committed = json.loads(manifest_path.read_text()) if manifest_path.is_file() else []
            expected = {record["path"]: record["subset_sha256"] for record in committed}
            for record in build_system(system_dir / "spec.toml", Path(tmp) / name):
                on_disk = system_dir / record["path"]
                actual = sha256(on_disk.read_bytes()) if on_disk.is_file() else None
                # The manifest, the file on disk and the fresh build must all agree.
                if {expected.pop(record["path"], None), actual} != {record["subset_sha256"]}:
                    problems.append(f"{name}/{record['path']}: differs from a fresh build")
            problems += [f"{name}/{path}: in manifest but not in spec" for path in expected]
    for problem in problems:
        print(problem, file=sys.stderr)
    print("bundle is reproducible" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    # Some sources (e.g. Conakry) have odd head dates that make fontTools warn harmlessly.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        available = find_systems()
        names = list(available)
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--systems", nargs="+", metavar="NAME", choices=names, default=names, help="default: all")
        parser.add_argument("--check", action="store_true", help="rebuild in a temporary directory and compare")
        args = parser.parse_args(argv)
        systems = {name: available[name] for name in args.systems}
        if args.check:
            return check(systems)
        for name, system_dir in systems.items():
            records = build_system(system_dir / "spec.toml", system_dir)
            total = sum(record["size_bytes"] for record in records)
            print(f"{name}: {len(records)} fonts, {total} bytes")
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

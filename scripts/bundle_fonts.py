#!/usr/bin/env python3
"""Rebuild the bundled numeral-only font subsets from Debian font packages and npm font packages.

For each built-in ``generator/numeral_systems/<name>/spec.toml`` and each example
``examples/<name>/spec.toml``, every ``[[fonts]]`` table names one source:

- a Debian package: ``debian_package`` and ``debian_file``, the installed font file;
- a Google Fonts package on the npm registry: ``npm_package`` (``@fontsource/<family>``), its exact
  ``npm_version``, the ``npm_file`` inside it (``files/<family>-<subset>-400-normal.woff``) and the
  tarball's ``npm_integrity`` (the registry's SHA-512). A published npm version never changes, so
  the tarball, fetched once with ``npm pack`` into ``$AFRO_MNIST_NPM_CACHE`` (default
  ``~/.cache/afro-mnist/npm``), is checked byte for byte against the pinned integrity.

The font is subset with fontTools to the system's numeral code points, renamed if its licence
reserves the name, and written beside the spec as ``fonts/<stem>.ttf|.otf`` (always plain OpenType,
even from WOFF; byte-identical for the same source and fontTools), with ``fonts/<stem>.LICENSE.txt``
(the Debian package's copyright file plus each common licence it cites, or the npm package's
LICENSE) and ``fonts/manifest.json`` (provenance and SHA-256 checksums, no dates). An npm package
whose licence declares a Reserved Font Name must list it in ``reserved_names``.

A table may leave classes out with ``exclude_classes = ["0"]``: the generator never draws that
font's glyph for those classes. Every system then goes through the design check
(``generator.synthesis.designs``); each glyph it flags is printed and recorded in the manifest, so that a
wrong design is seen and either excluded or dropped.

Needs fontTools, Pillow, the Debian packages named in the specs, and npm, whose ``npm pack`` fetches the npm
sources (from the third line on: the examples)::

    apt-get install fonts-noto-core fonts-senamirmir-washra fonts-sil-abyssinica fonts-freefont-ttf
    apt-get install fonts-unifont fonts-mph-2b-damase fonts-evertype-conakry fonts-dejavu-core
    apt-get install fonts-lohit-taml fonts-meera-inimai fonts-lohit-mlym fonts-rit-sundar
    apt-get install fonts-smc-chilanka fonts-smc-gayathri fonts-smc-keraleeyam fonts-smc-manjari
    apt-get install fonts-smc-meera fonts-smc-rachana fonts-smc-raghumalayalamsans fonts-smc-suruma
    apt-get install fonts-smc-uroob fonts-smc-anjalioldlipi fonts-smc-dyuthi fonts-smc-karumbi
    apt-get install fonts-liberation
    apt-get install npm
    python scripts/bundle_fonts.py                      # rebuild every system, built-in and example
    python scripts/bundle_fonts.py --systems vai tamil  # rebuild some
    python scripts/bundle_fonts.py --check            # verify the bundle is reproducible

Exit status: 0 on success, 1 if ``--check`` finds a difference, 2 if a package, file or code point
is missing.
"""

import argparse
import base64
import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from fontTools import subset
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from generator.layout import write_atomic
from generator.synthesis.designs import design_flags, structure_flags
from generator.synthesis.fonts import render_glyph

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS_DIR = ROOT / "generator" / "numeral_systems"
EXAMPLES_DIR = ROOT / "examples"
# A licence name such as GPL-3, LGPL-2.1 or CC0-1.0; a trailing "+" ("GPL-3+") is not part of the file name.
COMMON_LICENSE_RE = re.compile(r"/usr/share/common-licenses/([A-Za-z][A-Za-z0-9]*(?:-[0-9.]*[0-9])?)")
# Every name record that presents the font's name to users; all are replaced on renaming.
USER_NAME_IDS = frozenset({1, 2, 3, 4, 6, 16, 17, 18, 20, 21, 22, 25})
# Isolated digits need no shaping, kerning or maths data; these tables only add bytes.
EXTRA_DROP_TABLES = ["GSUB", "GPOS", "GDEF", "kern", "MATH", "FFTM", "gasp", "morx", "feat"]
NPM_CACHE = Path(os.environ.get("AFRO_MNIST_NPM_CACHE", Path.home() / ".cache" / "afro-mnist" / "npm"))
# "... with Reserved Font Name "Foo"" or "... Reserved Font Names 'Foo' and 'Bar'", as OFL headers declare them.
RESERVED_RE = re.compile(
    r"Reserved\s+Font\s+Names?\s*((?:[\"'\u201c][^\"'\u201d]+[\"'\u201d][\s,]*(?:and\s*)?)+)", re.I
)


# Short names for the licences as Debian copyright files spell them; the card shows them.
_LICENCE_NAMES = [
    (re.compile(r"OFL-1\.1|Open Font License,? Version 1\.1", re.IGNORECASE), "OFL-1.1"),
    (re.compile(r"GPL-3\+ with (Special )?Font Exception", re.IGNORECASE), "GPL-3+ with font exception"),
    (re.compile(r"General Public License v\.2 with the exceptions", re.IGNORECASE), "GPL-2 with font exception"),
    (re.compile(r"bitstream-vera", re.IGNORECASE), "Bitstream Vera"),
    (re.compile(r"public domain", re.IGNORECASE), "public domain"),
]
# A field's value on its own line: a "License:" line with nothing after it names no licence.
_FILES = re.compile(r"^Files:[ \t]*(.+)$", re.MULTILINE)
_LICENSE = re.compile(r"^License:[ \t]*(.+)$", re.MULTILINE)


def licence_name(copyright_text: str) -> str:
    """A short licence name from a font's Debian copyright file, e.g. ``OFL-1.1`` or ``GPL-2+``.

    In a machine-readable file the paragraph whose ``Files:`` names font files wins over ``Files: *``; a free-form
    file is searched for a licence it names.
    """
    licence_by_files = {}
    for paragraph in copyright_text.split("\n\n"):
        files, licence = _FILES.search(paragraph), _LICENSE.search(paragraph)
        if files and licence:
            licence_by_files.setdefault(files[1].strip(), licence[1].strip())
    for_fonts = [
        licence
        for files, licence in licence_by_files.items()
        if re.search(r"\.(ttf|otf)\b", files) and not files.startswith("debian/")
    ]
    first = _LICENSE.search(copyright_text)
    named = next((c for c in [*for_fonts, licence_by_files.get("*"), first and first[1].strip()] if c), None)
    for pattern, short in _LICENCE_NAMES:
        if pattern.search(named or copyright_text):
            return short
    return named or "see its licence file"


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
    font.flavor = None  # plain OpenType: no WOFF compression, whose bytes would depend on zlib
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


def npm_tarball(package: str, version: str, integrity: str) -> bytes:
    """Return the published tarball of ``package@version``, fetched once and checked against ``integrity``."""
    path = NPM_CACHE / f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"
    if not path.is_file():
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=NPM_CACHE) as tmp:
            try:
                result = subprocess.run(
                    ["npm", "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
                    capture_output=True,
                    text=True,
                )
            except FileNotFoundError as exc:
                raise BundleError(
                    f"npm not found; {package} comes from the npm registry (apt-get install npm)"
                ) from exc
            fetched = Path(tmp) / path.name
            if result.returncode != 0 or not fetched.is_file():
                last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                raise BundleError(f"npm pack {package}@{version} failed ({last}); check the name and version")
            fetched.replace(path)  # only a complete download reaches the cache
    data = path.read_bytes()
    actual = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if actual != integrity:
        raise BundleError(f"{path} has integrity {actual}, not the pinned {integrity}; delete it to fetch it again")
    return data


def npm_member(tarball: tarfile.TarFile, package: str, name: str) -> bytes:
    try:
        member = tarball.extractfile(f"package/{name}")
    except KeyError:
        member = None
    if member is None:
        raise BundleError(f"npm package {package} has no file {name}; pick another version or file")
    return member.read()


def reserved_in_licence(text: str) -> list[str]:
    """The Reserved Font Names that a licence's copyright lines declare, each once."""
    header = re.split(r"This Font Software is licensed|SIL OPEN FONT LICENSE", text, maxsplit=1)[0]
    quoted = re.compile(r'"([^"]+)"|\u201c([^\u201d]+)\u201d|\'([^\']+)\'')
    names = ["".join(groups).strip() for match in RESERVED_RE.findall(header) for groups in quoted.findall(match)]
    return list(dict.fromkeys(name for name in names if re.search(r"\w", name)))


def debian_source(entry: dict[str, Any]) -> tuple[bytes, str, str, dict[str, Any]]:
    """The font file, its label, its licence text and provenance of a Debian entry."""
    package, source_path = entry["debian_package"], Path(entry["debian_file"])
    version = debian_version(package)
    if not source_path.is_file():
        raise BundleError(f"{source_path} not found; run: apt-get install {package}")
    provenance = {"debian_package": package, "debian_version": version, "debian_file": str(source_path)}
    return source_path.read_bytes(), str(source_path), licence_text(package), provenance


def npm_source(entry: dict[str, Any]) -> tuple[bytes, str, str, dict[str, Any]]:
    """The font file, its label, its licence text and provenance of an npm entry."""
    package, version, file = entry["npm_package"], entry["npm_version"], entry["npm_file"]
    label = f"{package}@{version}/{file}"
    with tarfile.open(
        fileobj=io.BytesIO(npm_tarball(package, version, entry["npm_integrity"])), mode="r:gz"
    ) as tarball:
        source = npm_member(tarball, package, file)
        licence = npm_member(tarball, package, "LICENSE").decode("utf-8")
        metadata = json.loads(npm_member(tarball, package, "metadata.json"))
    missing = [name for name in reserved_in_licence(licence) if name not in entry.get("reserved_names", [])]
    if missing:
        raise BundleError(f"{label}: its licence reserves {missing}; add them to reserved_names in the spec")
    provenance = {
        "npm_package": package,
        "npm_version": version,
        "npm_file": file,
        "npm_integrity": entry["npm_integrity"],
        "category": metadata.get("category"),
        "licence_type": (metadata.get("license") or {}).get("type"),
    }
    return source, label, licence, provenance


SOURCES = {
    ("debian_package", "debian_file"): debian_source,
    ("npm_package", "npm_version", "npm_file", "npm_integrity"): npm_source,
}


def build_font(entry: object, code_points: list[int]) -> tuple[dict[str, Any], dict[Path, bytes]]:
    """Subset one [[fonts]] entry; return its manifest record and the files to write."""
    sources = [read for keys, read in SOURCES.items() if isinstance(entry, dict) and set(keys) <= entry.keys()]
    if not isinstance(entry, dict) or "path" not in entry or len(sources) != 1:
        needs = " or ".join(", ".join(keys) for keys in SOURCES)
        raise BundleError(f"font entry {entry!r} needs path and one source: {needs}")
    source, label, licence, provenance = sources[0](entry)
    rel_path = Path(entry["path"])
    reserved = list(entry.get("reserved_names", []))
    family = bundled_family(rel_path, reserved) if reserved else None
    data = subset_font(source, label, code_points, family)
    suffix = ".otf" if "CFF " in TTFont(io.BytesIO(data), lazy=True) else ".ttf"
    if rel_path.suffix != suffix:
        raise BundleError(f"{label} has {suffix[1:].upper()} outlines; name its path {rel_path.with_suffix(suffix)}")
    check_renders(data, label, code_points)
    licence_path = rel_path.with_name(f"{rel_path.stem}.LICENSE.txt")
    files = {rel_path: data, licence_path: licence.encode("utf-8")}
    record = {
        "path": rel_path.as_posix(),
        "source_family": TTFont(io.BytesIO(source), lazy=True)["name"].getBestFamilyName(),
        "bundled_family": TTFont(io.BytesIO(data))["name"].getBestFamilyName(),
        **provenance,
        "source_sha256": sha256(source),
        "subset_sha256": sha256(data),
        "license_path": licence_path.as_posix(),
        "licence": provenance.get("licence_type") or licence_name(licence),
        "reserved_names": reserved,
        "exclude_classes": list(entry.get("exclude_classes", [])),
        "size_bytes": len(data),
    }
    return record, files


def check_designs(records: list[dict[str, Any]], files: dict[Path, bytes], spec: dict[str, Any], label: str) -> None:
    """Run the design check on the built subsets; add each flag to its font's record and print it."""
    characters = [chr(code_point) for code_point in map(parse_code_point, spec["code_points"])]
    class_names = list(spec["class_names"])
    with tempfile.TemporaryDirectory() as tmp:
        glyphs = []
        for record in records:
            font_path = Path(tmp) / Path(record["path"]).name
            font_path.write_bytes(files[Path(record["path"])])
            glyphs.append([render_glyph(font_path, character) for character in characters])
    for record in records:
        record["design_flags"] = []
    for flag in design_flags(glyphs):
        record = records[flag.font]
        excluded = class_names[flag.label] in record["exclude_classes"]
        record["design_flags"].append(
            {"class": class_names[flag.label], "excluded": excluded, "reason": flag.reason(class_names)}
        )
        action = "excluded in the spec" if excluded else "exclude it (exclude_classes) or drop the font if it is wrong"
        print(f"design check: {label}/{record['path']}: {flag.reason(class_names)}; {action}", file=sys.stderr)
    for flag in structure_flags(glyphs):
        record = records[flag.font]
        excluded = class_names[flag.label] in record["exclude_classes"]
        record["design_flags"].append(
            {"class": class_names[flag.label], "excluded": excluded, "reason": flag.reason(class_names)}
        )
        print(f"design check: {label}/{record['path']}: {flag.reason(class_names)}; drop the font", file=sys.stderr)


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
    records = [record for record, _ in built]
    all_files = {rel_path: data for _, files in built for rel_path, data in files.items()}
    check_designs(records, all_files, spec, spec_path.parent.name)
    for rel_path, data in all_files.items():
        write_atomic(out_dir / rel_path, data)
    records.sort(key=lambda record: record["path"])
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
            fresh = (Path(tmp) / name / "fonts" / "manifest.json").read_bytes()
            if not manifest_path.is_file() or manifest_path.read_bytes() != fresh:
                problems.append(f"{name}/fonts/manifest.json: differs from a fresh build")
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

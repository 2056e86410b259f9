"""The registry of numeral systems: the single source of truth for configs, code points and fonts.

Every built-in system is a spec file, ``numeral_systems/<name>/spec.toml``, with its subset fonts
beside it. A user's own system is a spec file in exactly the same format, passed with ``--spec``:

    name = "vai"                     # config name, [a-z0-9_]+
    script = "Vai"
    iso15924 = "Vaii"                # optional
    languages = ["vai"]              # optional, ISO 639-3
    code_points = ["U+A620", ...]    # one per class, label 0 first
    class_names = ["0", ...]         # one per class
    fonts = ["fonts/a.ttf", ...]     # relative to the spec file, or absolute; or a folder or glob
    default_order = 2                # optional: built when no config is named, at this place in the list
    [paper]                          # optional: the Afro-MNIST paper's figures for this system
    test_accuracy = 1.0              # LeNet-5 on the paper's synthetic test split
    real_accuracy = 0.30             # LeNet-5 trained on the paper's synthetic data, on real handwriting

A font may also be a table ``{path = "...", ...}``. The generator reads its ``path`` and its
``exclude_classes``, the class names whose glyph in that font is a wrong design and is never drawn
(see ``generator.synthesis.designs``); the other keys record where a bundled font came from (see
``scripts/bundle_fonts.py``).
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from generator.errors import InputError
from generator.layout import (
    BUILTIN_DIR,
    CONFIG_NAME,
    SPEC_FILE,
    check_class_name,
    check_config_name,
    check_label,
    format_code_point,
    is_font_pattern,
)

# The config the dataset card opens on and ``load_dataset(repo)`` gives without a config name. Not geez, the
# paper's first: its numerals differ only in a small sign between two bars, the hardest to read of them all
# (LeNet-5 reads it least well, results/baselines.json). Vai is the most legible, has
# a zero like MNIST's ten digits, and so makes the gentlest first example of a drop-in MNIST.
DEFAULT_CONFIG = "vai"

_CODE_POINT = re.compile(r"U\+([0-9A-Fa-f]{4,6})")
_TIMESTAMP_LOGGER = "fontTools.ttLib.tables._h_e_a_d"


def _not_about_timestamps(record: logging.LogRecord) -> bool:
    return "timestamp seems very low" not in record.getMessage()


# fontTools 4.69 and later warn on reading the bundled Unifont ("'created' timestamp seems very low; regarding as
# unix timestamp"): its head table counts from 1970, not 1904. Nothing here reads those dates, and a warning would
# turn every one-line error into three; the font files stay as they are (their SHA-256 is in every metadata.json).
# Every font the tool reads comes through this registry, so the filter is in place before the first is read.
logging.getLogger(_TIMESTAMP_LOGGER).addFilter(_not_about_timestamps)
_REQUIRED = ("name", "script", "code_points", "class_names", "fonts")
_OPTIONAL = ("iso15924", "languages", "default_order", "paper")
_PAPER_KEYS = ("test_accuracy", "real_accuracy")


@dataclass(frozen=True)
class NumeralSystem:
    """One numeral system, that is one dataset config.

    Attributes:
        name: config name, ``[a-z0-9_]+``.
        script: the script's English name.
        code_points: the code point of each class, label 0 first.
        class_names: the name of each class, label 0 first.
        fonts: absolute paths of the fonts that provide exemplars.
        iso15924: the script's ISO 15924 code, if known.
        languages: ISO 639-3 codes of languages written with these numerals.
        spec_path: the spec file this system was read from.
        excluded: per font, the labels its glyph is not drawn for (empty: every label).
        default_order: where the system stands among those built when no config is named; None: not built then.
        paper_accuracy: the Afro-MNIST paper's LeNet-5 accuracy on its synthetic test split, if it reports one.
        paper_real_accuracy: the paper's accuracy on real handwriting of a LeNet-5 trained on its synthetic data.
    """

    name: str
    script: str
    code_points: tuple[int, ...]
    class_names: tuple[str, ...]
    fonts: tuple[Path, ...]
    iso15924: str | None = None
    languages: tuple[str, ...] = ()
    spec_path: Path | None = None
    excluded: tuple[frozenset[int], ...] = ()
    default_order: int | None = None
    paper_accuracy: float | None = None
    paper_real_accuracy: float | None = None

    def draws(self, font: int, label: int) -> bool:
        """Whether font ``font``'s glyph for ``label`` is one of the class's designs."""
        return not self.excluded or label not in self.excluded[font]

    @property
    def num_classes(self) -> int:
        return len(self.code_points)

    @property
    def characters(self) -> tuple[str, ...]:
        return tuple(chr(cp) for cp in self.code_points)

    @property
    def is_builtin(self) -> bool:
        return self.spec_path is not None and self.spec_path.parent.parent == BUILTIN_DIR


def system_metadata(system: NumeralSystem) -> dict:
    """The numeral system as ``metadata.json`` records it (``numeral_system``), for generated and collected configs."""
    return {
        "name": system.name,
        "script": system.script,
        "iso15924": system.iso15924,
        "languages": list(system.languages),
        "code_points": [format_code_point(cp) for cp in system.code_points],
        "characters": list(system.characters),
        "class_names": list(system.class_names),
    }


def load_spec(path: str | Path) -> NumeralSystem:
    """Reads and validates one spec file.

    Raises:
        InputError: the file is missing, is not TOML, or a key is missing or malformed.
    """
    try:
        path = Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a link loop: RuntimeError before Python 3.13, OSError since
        raise InputError(f"spec file {path} cannot be found ({exc}); check the --spec path") from None
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"spec file {path} does not exist; check the --spec path") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"spec file {path} is not valid TOML ({exc}); fix its syntax") from None
    except RecursionError:  # tomllib recurses once per nested array or table
        raise InputError(f"spec file {path} nests arrays or tables too deep to read; a spec needs two levels") from None

    def bad(key: str, why: str) -> InputError:
        return InputError(f"spec file {path}: {key} = {spec.get(key)!r} {why}")

    missing = [key for key in _REQUIRED if key not in spec]
    if missing:
        raise InputError(f"spec file {path} lacks required key(s) {', '.join(missing)}; add them")
    unknown = sorted(set(spec) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise InputError(f"spec file {path} has unknown key(s) {', '.join(unknown)}; remove them")

    name = spec["name"]
    if not isinstance(name, str) or not CONFIG_NAME.fullmatch(name):
        raise bad("name", "is not a config name; use 1 to 64 lowercase letters, digits and _")
    if (why := check_label(spec["script"], "script")) is not None:
        raise InputError(f"spec file {path}: {why}")

    raw_points = spec["code_points"]
    if not _is_str_list(raw_points) or len(raw_points) < 2:
        raise bad("code_points", 'must be a list of at least two "U+XXXX" strings')
    code_points = []
    for raw in raw_points:
        match = _CODE_POINT.fullmatch(raw)
        if not match or int(match[1], 16) > 0x10FFFF:
            raise InputError(f'spec file {path}: code point {raw!r} is not of the form "U+XXXX"')
        code_points.append(int(match[1], 16))
    if len(set(code_points)) != len(code_points):
        raise bad("code_points", "repeats a code point; each class needs its own")

    class_names = spec["class_names"]
    if not _is_str_list(class_names) or len(class_names) != len(code_points):
        raise bad("class_names", f"must be a list of {len(code_points)} strings, one per code point")
    if len(set(class_names)) != len(class_names):
        raise bad("class_names", "repeats a name; class names must be unique")
    for class_name in class_names:
        if (why := check_class_name(class_name)) is not None:
            raise InputError(f"spec file {path}: {why}")

    fonts = spec["fonts"]
    if not isinstance(fonts, list) or not fonts:
        raise bad("fonts", "must be a non-empty list of font paths")
    font_paths, excluded = [], []
    for font in fonts:
        font_path = font.get("path") if isinstance(font, dict) else font
        if not isinstance(font_path, str) or not font_path:
            raise InputError(f"spec file {path}: font entry {font!r} is not a path")
        names = font.get("exclude_classes", []) if isinstance(font, dict) else []
        if not _is_str_list(names) or not set(names) <= set(class_names):
            raise InputError(
                f"spec file {path}: exclude_classes = {names!r} of font {font_path} must list class names of the spec"
            )
        try:
            matched = _expand(path, font_path, tuple(code_points))
        except (OSError, RuntimeError) as exc:  # a link loop
            raise InputError(f"spec file {path}: font {font_path} cannot be found ({exc}); fix its path") from None
        font_paths += matched
        excluded += [frozenset(class_names.index(name) for name in names)] * len(matched)
    for label, class_name in enumerate(class_names):
        if all(label in labels for labels in excluded):
            raise InputError(f"spec file {path}: every font excludes class {class_name}; keep at least one design")

    iso15924 = spec.get("iso15924")
    if iso15924 is not None and not (isinstance(iso15924, str) and re.fullmatch(r"[A-Z][a-z]{3}", iso15924)):
        raise bad("iso15924", 'is not an ISO 15924 code such as "Ethi"')
    languages = spec.get("languages", [])
    if not _is_str_list(languages) or not all(re.fullmatch(r"[a-z]{3}", code) for code in languages):
        raise bad("languages", 'must be a list of ISO 639-3 codes such as ["amh"]')

    default_order = spec.get("default_order")
    if default_order is not None and (type(default_order) is not int or default_order < 1):
        raise bad("default_order", "must be a positive integer, the system's place in the default list")
    paper = spec.get("paper", {})
    if not isinstance(paper, dict) or not set(paper) <= set(_PAPER_KEYS):
        raise bad("paper", f"must be a table of {' and '.join(_PAPER_KEYS)}")
    for key, value in paper.items():
        if type(value) not in (int, float) or not 0 <= value <= 1:
            raise InputError(f"spec file {path}: paper.{key} = {value!r} must be an accuracy between 0 and 1")

    return NumeralSystem(
        name=name,
        script=spec["script"],
        code_points=tuple(code_points),
        class_names=tuple(class_names),
        fonts=tuple(font_paths),
        iso15924=iso15924,
        languages=tuple(languages),
        spec_path=path,
        excluded=tuple(excluded) if any(excluded) else (),
        default_order=default_order,
        paper_accuracy=_accuracy(paper.get("test_accuracy")),
        paper_real_accuracy=_accuracy(paper.get("real_accuracy")),
    )


@cache
def builtin_systems() -> dict[str, NumeralSystem]:
    """The numeral systems shipped with the generator, by config name."""
    systems = [load_spec(path) for path in sorted(BUILTIN_DIR.glob(f"*/{SPEC_FILE}"))]
    return {system.name: system for system in systems}


def builtin_class_count(config: str) -> int | None:
    """The class count of a built-in config, or None for a config the registry does not know (one of a spec file).

    ``layout.read_metadata(folder, class_count=...)`` takes it: the layout, a layer below the registry, cannot ask.
    """
    system = builtin_systems().get(config)
    return system.num_classes if system is not None else None


@cache
def default_configs() -> tuple[str, ...]:
    """The configs built when none is named: the built-in systems with a ``default_order``, in that order.

    The Afro-MNIST paper's four come first (geez, vai, osmanya, nko), then Adlam and Medefaidrin.
    """
    chosen = sorted((s for s in builtin_systems().values() if s.default_order is not None), key=_default_rank)
    return tuple(system.name for system in chosen)


@cache
def paper_configs() -> tuple[str, ...]:
    """The default configs that the Afro-MNIST paper measured, in default order; speed targets are stated for them."""
    return tuple(name for name in default_configs() if builtin_systems()[name].paper_accuracy is not None)


def _default_rank(system: NumeralSystem) -> tuple[int, str]:
    return (system.default_order or 0, system.name)


def resolve(configs: list[str] | None, spec_paths: list[str | Path] | None = None) -> list[NumeralSystem]:
    """Turns ``--configs`` and ``--spec`` into the numeral systems to build.

    With neither, that is every default config: the paper's four, then Adlam and Medefaidrin. A spec file
    may not take a built-in config's name, nor another spec file's.

    Raises:
        InputError: an unknown or malformed config name, a bad spec file, or a spec named like another config.
    """
    available = dict(builtin_systems())
    from_specs = [load_spec(path) for path in spec_paths or []]
    for system in from_specs:
        if system.name in available:
            other = "a built-in config" if system.name in builtin_systems() else "the config of another --spec"
            raise InputError(
                f"spec file {system.spec_path} names config {system.name!r}, {other}; give it a name of its own"
            )
        available[system.name] = system
    for name in configs or []:
        check_config_name(name, "--configs")
    if configs is None:
        configs = [system.name for system in from_specs] or list(default_configs())
    unknown = [name for name in configs if name not in available]
    if unknown:
        known = ", ".join(sorted(available))
        raise InputError(f"unknown config {unknown[0]!r}; choose from {known}, or pass --spec FILE.toml")
    return [available[name] for name in dict.fromkeys(configs)]


def _expand(spec_path: Path, entry: str, code_points: tuple[int, ...]) -> list[Path]:
    """One font file, or every font that a folder or glob names and that draws every code point.

    A font named by a folder or glob that lacks a code point or draws an empty glyph is skipped with
    a warning; a font named on its own is checked later, and such a font is an error.
    """
    base = spec_path.parent
    if not is_font_pattern(entry, base):
        return [(base / Path(entry).expanduser()).resolve()]
    # Only for a pattern: numerals brings the design check and albumentations, which imports PyTorch (seconds).
    from generator.synthesis import numerals

    kept, skipped = numerals.covering(numerals.expand_fonts(entry, base), code_points)
    for font, why in skipped:
        numerals.warn(f"spec file {spec_path}: {entry} skips {font}: it {why}")
    if not kept:
        raise InputError(
            f"spec file {spec_path}: fonts entry {entry!r} matches no font that draws every code point; fix the pattern"
        )
    return kept


def _accuracy(value: float | None) -> float | None:
    return None if value is None else float(value)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)

"""The dataset card and the other root files of the dataset repository.

The generator's output folder is the Hub repository: one folder per config (shards, ``recipe.json``,
``metadata.json``, and ``baseline.json`` once a baseline has run), and at the root the files made here:

- ``README.md``, the card, rendered from ``dataset_card.md`` and the metadata of every config;
- ``sample-grids/<config>.png``, a grid of test images per config, which the card shows;
- ``builder-script/afro_mnist.py``, the ``datasets`` builder, one folder down because ``datasets`` >= 4
  refuses to load a folder ``afro_mnist`` that has ``afro_mnist.py`` at its root.

Folder names with a hyphen can never collide with a config name, which is ``[a-z0-9_]+``.
"""

from __future__ import annotations

import ast
import io
import json
import math
import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from PIL import Image

from generator.layout import BASELINE_FILE, config_folders, read_metadata, write_atomic
from generator.registry import BUILTIN_DIR, DEFAULT_CONFIGS
from generator.tiling import png_bytes, tile

# The card's template and the builder script sit at the project's root, where readers look for them.
# The package reaches them through links in ``dataset_repository/``, which a built wheel stores as
# copies, so an installed generator writes the same repository as a checkout does.
_REPOSITORY_FILES = Path(__file__).parent / "dataset_repository"
CARD_TEMPLATE = _REPOSITORY_FILES / "dataset_card.md"
BUILDER_SCRIPT = _REPOSITORY_FILES / "afro_mnist.py"
README = "README.md"
SAMPLE_GRID_DIR = "sample-grids"
DEFAULT_REPO_ID = "<owner>/afro_mnist"
PRETTY_NAME = "Afro-MNIST"

# The Hub's size buckets, by upper bound; the last is open.
_SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
]
_GRID_ROWS = 8  # test images per class in a sample grid


@dataclass(frozen=True)
class ConfigRecord:
    """What the card says about one config.

    Attributes:
        metadata: the config's ``metadata.json``.
        baseline: its ``baseline.json``, once a baseline has been run.
        folder: the local folder of its shards; None for a config known only from the Hub.
    """

    metadata: dict
    baseline: dict | None = None
    folder: Path | None = None

    @property
    def name(self) -> str:
        return self.metadata["config"]


def read_config(folder: Path) -> ConfigRecord:
    """Reads a generated config folder: its metadata and, if present, its baseline result."""
    baseline_path = folder / BASELINE_FILE
    return ConfigRecord(
        metadata=read_metadata(folder),
        baseline=json.loads(baseline_path.read_text(encoding="utf-8")) if baseline_path.is_file() else None,
        folder=folder,
    )


def read_configs(out: Path) -> list[ConfigRecord]:
    """Every complete config under ``out``, in card order."""
    return card_order([read_config(folder) for folder in config_folders(out)])


def card_order(records: list[ConfigRecord]) -> list[ConfigRecord]:
    """The Afro-MNIST configs in their usual order, then any others by name; the first is the default."""

    def rank(record: ConfigRecord) -> tuple[int, str]:
        known = record.name in DEFAULT_CONFIGS
        return (DEFAULT_CONFIGS.index(record.name) if known else len(DEFAULT_CONFIGS), record.name)

    return sorted(records, key=rank)


def sample_grid_path(config: str) -> str:
    return f"{SAMPLE_GRID_DIR}/{config}.png"


def builder_path_in_repo() -> str:
    return f"{builder_constants()['SCRIPT_FOLDER']}/{BUILDER_SCRIPT.name}"


@cache
def builder_constants() -> dict[str, str]:
    """The builder script's module-level string constants (``_CITATION``, ``SCRIPT_FOLDER``...), read, not run."""
    tree = ast.parse(BUILDER_SCRIPT.read_text(encoding="utf-8"))
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


# --- the card's YAML -------------------------------------------------------------------------------------------


def size_category(num_examples: int) -> str:
    for bound, category in _SIZE_CATEGORIES:
        if num_examples < bound:
            return category
    return "n>1B"


def card_metadata(records: list[ConfigRecord]) -> dict:
    """The card's YAML header: what the Hub indexes, the configs over the shards, and each config's info."""
    records = card_order(records)
    languages = list(dict.fromkeys(code for r in records for code in r.metadata["numeral_system"]["languages"]))
    # The repository as a whole: every image of every config.
    total = sum(split["num_examples"] for r in records for split in r.metadata["splits"].values())
    header: dict = {"pretty_name": PRETTY_NAME, "license": builder_constants()["_LICENSE"].lower()}
    if languages:
        header["language"] = languages
    handwritten = any(_is_handwritten(r) for r in records)
    header |= {
        "annotations_creators": ["machine-generated"] + (["crowdsourced"] if handwritten else []),
        "language_creators": ["machine-generated"] + (["crowdsourced"] if handwritten else []),
        "size_categories": [size_category(total)],
        "source_datasets": ["original"],
        "task_categories": ["image-classification"],
        "task_ids": ["multi-class-image-classification"],
        "tags": ["mnist", "numerals", "synthetic"],
        "configs": [_config_entry(r, default=i == 0) for i, r in enumerate(records)],
        "dataset_info": [_dataset_info_entry(r) for r in records],
    }
    return header


def _config_entry(record: ConfigRecord, default: bool) -> dict:
    entry: dict = {
        "config_name": record.name,
        "data_files": [{"split": split, "path": f"{record.name}/{split}-*"} for split in record.metadata["splits"]],
    }
    if default:
        entry["default"] = True
    return entry


def _dataset_info_entry(record: ConfigRecord) -> dict:
    class_names = record.metadata["numeral_system"]["class_names"]
    splits = record.metadata["splits"]
    return {
        "config_name": record.name,
        "features": [
            {"name": "image", "dtype": "image"},
            {
                "name": "label",
                "dtype": {"class_label": {"names": {str(i): name for i, name in enumerate(class_names)}}},
            },
        ],
        "splits": [
            {"name": split, "num_bytes": info["num_bytes"], "num_examples": info["num_examples"]}
            for split, info in splits.items()
        ],
        "download_size": sum(info["download_size"] for info in splits.values()),
        "dataset_size": sum(info["num_bytes"] for info in splits.values()),
    }


# --- the card's body -------------------------------------------------------------------------------------------


def render_card(records: list[ConfigRecord], repo_id: str = DEFAULT_REPO_ID) -> str:
    """The card, ``README.md``, for a repository holding ``records``.

    Raises:
        ValueError: ``records`` is empty.
    """
    if not records:
        raise ValueError("a dataset card needs at least one config")
    records = card_order(records)
    first = records[0].metadata
    height, width = first["image"]["shape"]
    template = string.Template(CARD_TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(
        yaml=yaml.safe_dump(card_metadata(records), sort_keys=False, allow_unicode=True, width=1000),
        script_list=_join([_script_label(r) for r in records]),
        image_size=f"{height}\N{MULTIPLICATION SIGN}{width}",
        height=height,
        width=width,
        ink=first["image"]["ink"],
        box=first["image"]["box"],
        split_sizes=_split_sizes(records),
        configs_table=_configs_table(records),
        config_sections="\n\n".join(_config_section(r) for r in records),
        repo_id=repo_id,
        default_config=records[0].name,
        builder_path=builder_path_in_repo(),
        generation_table=_generation_table(records),
        recipes=_recipes(records),
        baselines=_baselines(records),
        font_licences=_font_licences(records),
        citation=builder_constants()["_CITATION"].strip(),
    )


def _script_label(record: ConfigRecord) -> str:
    system = record.metadata["numeral_system"]
    return f"{system['script']} (`{record.name}`)"


def _split_sizes(records: list[ConfigRecord]) -> str:
    sizes = {tuple((split, info["num_examples"]) for split, info in r.metadata["splits"].items()) for r in records}
    if len(sizes) != 1:
        return "a train and a test split (their sizes are in the table below)"
    return _join([f"{count:,} {split} images" for split, count in sizes.pop()]) + (
        " per config" if len(records) > 1 else ""
    )


def _configs_table(records: list[ConfigRecord]) -> str:
    rows = []
    for r in records:
        system, splits = r.metadata["numeral_system"], r.metadata["splits"]
        rows.append(
            [
                f"`{r.name}`",
                system["script"],
                system.get("iso15924") or "",
                ", ".join(system["languages"]),
                " ".join(system["characters"]),
                str(len(system["class_names"])),
                *(f"{splits[split]['num_examples']:,}" if split in splits else "" for split in ("train", "test")),
                _bytes(sum(info["download_size"] for info in splits.values())),
            ]
        )
    header = ["Config", "Script", "ISO 15924", "Languages (ISO 639)", "Numerals", "Classes", "Train", "Test"]
    return _table([*header, "Download"], rows, align="lllllrrrr")


def _is_handwritten(record: ConfigRecord) -> bool:
    """A config of real handwriting, collected with ``afro-mnist collect`` rather than generated."""
    return record.metadata.get("source") == "handwritten"


def _handwritten_section(record: ConfigRecord) -> str:
    system, splits = record.metadata["numeral_system"], record.metadata["splits"]
    collection = record.metadata["collection"]
    per_class = min(_GRID_ROWS, splits[_grid_split(record.metadata)]["examples_per_class"])
    labels = _table(
        ["Label", "Class name", "Glyph", "Code point", "Train", "Test"],
        [
            [str(i), name, char, point, *(str(splits[split]["examples_by_class"][name]) for split in ("train", "test"))]
            for i, (name, char, point) in enumerate(
                zip(system["class_names"], system["characters"], system["code_points"], strict=True)
            )
        ],
        align="rlclrr",
    )
    writers = collection["writers"]
    return "\n\n".join(
        [
            f"### `{record.name}`: {system['script']} numerals, handwritten",
            f"![{per_class} test images per class of {record.name}, one column per class, label 0 on the left]"
            f"({sample_grid_path(record.name)})",
            labels,
            f"Real handwriting, not generated: drawn with finger, pen or mouse on a web page (`afro-mnist collect`) "
            f"between {collection['first_drawing'][:10]} and {collection['last_drawing'][:10]} by "
            f"{writers['train'] + writers['test']} anonymous writers, and cleaned by a per-class anomaly model and "
            f"a reviewer. Train and test are split by writer ({writers['train']} and {writers['test']}): no writer is "
            f"in both. The writers agreed to publication under [{collection['licence']}]({collection['licence_url']}), "
            "which applies to this config instead of the generated configs' licence. Classes are not balanced.",
        ]
    )


def _config_section(record: ConfigRecord) -> str:
    if _is_handwritten(record):
        return _handwritten_section(record)
    system = record.metadata["numeral_system"]
    per_class = min(_GRID_ROWS, record.metadata["splits"][_grid_split(record.metadata)]["examples_per_class"])
    labels = _table(
        ["Label", "Class name", "Glyph", "Code point"],
        [
            [str(i), name, char, point]
            for i, (name, char, point) in enumerate(
                zip(system["class_names"], system["characters"], system["code_points"], strict=True)
            )
        ],
        align="rlcl",
    )
    fonts = _table(
        ["Font", "File", "Licence", "Subset of", "SHA-256"],
        [
            [font["family"], f"`{font['file']}`", licence.name, licence.source, f"`{font['sha256'][:12]}`"]
            for font in record.metadata["fonts"]
            for licence in [font_licence(font)]
        ],
    )
    return "\n\n".join(
        [
            f"### `{record.name}`: {system['script']} numerals",
            f"![{per_class} test images per class of {record.name}, one column per class, label 0 on the left]"
            f"({sample_grid_path(record.name)})",
            labels,
            f"Drawn with {len(record.metadata['fonts'])} fonts:",
            fonts,
        ]
    )


def _generation_table(records: list[ConfigRecord]) -> str:
    records = [r for r in records if not _is_handwritten(r)]
    rows = [
        [
            f"`{r.name}`",
            str(r.metadata["seed"]),
            f"{r.metadata['generator']['name']} {r.metadata['generator']['version']}",
            f"`{_recipe_id(r.metadata)}`",
            ", ".join(f"{name} {version}" for name, version in r.metadata["libraries"].items()),
        ]
        for r in records
    ]
    return _table(["Config", "Seed", "Generator", "Recipe", "Libraries"], rows)


def _recipe_id(metadata: dict) -> str:
    return metadata.get("recipe_sha256", "")[:12] or "recipe"


def _recipes(records: list[ConfigRecord]) -> str:
    """Each distinct recipe once: its steps, then the whole ``recipe.json`` folded away."""
    by_recipe: dict[str, list[ConfigRecord]] = {}
    for r in records:
        if _is_handwritten(r):
            continue
        by_recipe.setdefault(json.dumps(r.metadata["recipe"], sort_keys=True), []).append(r)
    blocks = []
    for users in by_recipe.values():
        metadata = users[0].metadata
        steps = metadata["recipe"]["transform"]["transforms"]
        lines = [f"Recipe `{_recipe_id(metadata)}`, used by {_join([f'`{r.name}`' for r in users])}:", ""]
        lines += [f"{i}. `{step['__class_fullname__']}`, p = {step['p']}" for i, step in enumerate(steps, 1)]
        lines += [
            "",
            "<details><summary>recipe.json</summary>",
            "",
            "```json",
            json.dumps(metadata["recipe"], indent=2),
            "```",
            "",
            "</details>",
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _baselines(records: list[ConfigRecord]) -> str:
    run = [r for r in records if r.baseline]
    if not run:
        return "No baseline has been run yet."
    rows = [
        [
            f"`{r.name}`",
            _percent(r.baseline.get("test_accuracy")),
            _percent(r.baseline.get("paper_accuracy")),
            str(r.baseline.get("epochs", "")),
            str(r.baseline.get("seed", "")),
        ]
        for r in run
    ]
    text = _table(["Config", "Test accuracy", "Paper's test accuracy", "Epochs", "Seed"], rows, align="lrrrr")
    missing = [f"`{r.name}`" for r in records if not r.baseline]
    if missing:
        text += f"\n\nNo baseline has been run yet for {_join(missing)}."
    return text


def _font_licences(records: list[ConfigRecord]) -> str:
    families: dict[str, list[str]] = {}
    for r in records:
        for font in r.metadata["fonts"]:
            names = families.setdefault(font_licence(font).name, [])
            if font["family"] not in names:
                names.append(font["family"])
    return "\n".join(f"- **{licence}**: {', '.join(names)}" for licence, names in sorted(families.items()))


# --- font licences ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontLicence:
    """A font's licence, short, and where the bundled subset came from."""

    name: str
    source: str


_UNKNOWN_LICENCE = FontLicence("not recorded (a font from a user's spec file; see its own licence)", "")


def font_licence(font: dict) -> FontLicence:
    """The licence of a font listed in ``metadata.json``, found by its SHA-256 among the bundled fonts."""
    return bundled_font_licences().get(font["sha256"], _UNKNOWN_LICENCE)


@cache
def bundled_font_licences() -> dict[str, FontLicence]:
    """Every bundled font's licence, by the SHA-256 of the font file, from each ``fonts/manifest.json``."""
    licences = {}
    for manifest_path in sorted(BUILTIN_DIR.glob("*/fonts/manifest.json")):
        for font in json.loads(manifest_path.read_text(encoding="utf-8")):
            name = font.get("license") or licence_name(
                (manifest_path.parent.parent / font["license_path"]).read_text(encoding="utf-8")
            )
            source = f"{font['source_family']} (Debian {font['debian_package']} {font['debian_version']})"
            licences[font["subset_sha256"]] = FontLicence(name, source)
    return licences


# Short names for the licences as Debian copyright files spell them.
_LICENCE_NAMES = [
    (re.compile(r"OFL-1\.1|Open Font License,? Version 1\.1", re.IGNORECASE), "OFL-1.1"),
    (re.compile(r"GPL-3\+ with (Special )?Font Exception", re.IGNORECASE), "GPL-3+ with font exception"),
    (re.compile(r"bitstream-vera", re.IGNORECASE), "Bitstream Vera"),
    (re.compile(r"public domain", re.IGNORECASE), "public domain"),
]
_FILES = re.compile(r"^Files:\s*(.+)$", re.MULTILINE)
_LICENSE = re.compile(r"^License:\s*(.+)$", re.MULTILINE)


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


# --- sample grids and the files at the root --------------------------------------------------------------------


def sample_grid(record: ConfigRecord) -> bytes:
    """A PNG with one column per class: the first test images of each label, in shard order.

    Raises:
        ValueError: the record has no local folder to read images from.
    """
    if record.folder is None:
        raise ValueError(f"config {record.name!r} has no local shards to draw a sample grid from")
    splits = record.metadata["splits"]
    split = _grid_split(record.metadata)
    table = _read_split(record.folder, splits[split]["shards"])
    labels = np.asarray(table.column("label"))
    images = table.column("image")
    num_classes = len(record.metadata["numeral_system"]["class_names"])
    firsts = [np.flatnonzero(labels == label)[:_GRID_ROWS] for label in range(num_classes)]
    rows = [
        [
            np.asarray(Image.open(io.BytesIO(images[int(column[row])]["bytes"].as_py())).convert("L"))
            for column in firsts
        ]
        for row in range(min(len(column) for column in firsts))
    ]
    return png_bytes(tile(rows))


def _grid_split(metadata: dict) -> str:
    """The split a sample grid shows: test, as the images a model is judged on, else the first."""
    return "test" if "test" in metadata["splits"] else next(iter(metadata["splits"]))


def _read_split(folder: Path, shards: list[dict]) -> pa.Table:
    return pa.concat_tables([pq.read_table(folder / shard["file"]) for shard in shards])


def root_files(records: list[ConfigRecord], repo_id: str = DEFAULT_REPO_ID) -> dict[str, bytes]:
    """The repository's root files for ``records``, by path in the repository.

    That is the card, the builder script, and a sample grid for each record with local shards (a config known
    only from the Hub keeps the grid it has there).
    """
    files = {README: render_card(records, repo_id).encode("utf-8"), builder_path_in_repo(): BUILDER_SCRIPT.read_bytes()}
    for record in records:
        if record.folder is not None:
            files[sample_grid_path(record.name)] = sample_grid(record)
    return files


def write_repository_files(out: Path, repo_id: str = DEFAULT_REPO_ID) -> None:
    """(Re)writes the root files of the dataset repository ``out`` for every config generated into it.

    Each file is written to a temporary file beside it, then moved into place, so a reader never sees half a
    file. Sample grids of configs no longer in ``out`` are removed. With no config in ``out``, nothing is written.
    """
    records = read_configs(out)
    if not records:
        return
    files = root_files(records, repo_id)
    for path_in_repo, data in files.items():
        write_atomic(out / path_in_repo, data)
    for grid in (out / SAMPLE_GRID_DIR).glob("*.png"):
        if f"{SAMPLE_GRID_DIR}/{grid.name}" not in files:
            grid.unlink()


# --- small formatting helpers ----------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    """A Markdown table; ``align`` has one of ``l``, ``c``, ``r`` per column (default ``l``)."""
    rules = {"l": "---", "c": ":---:", "r": "---:"}
    align = align.ljust(len(header), "l")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rules[a] for a in align) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _join(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _bytes(count: int) -> str:
    units = ("B", "kB", "MB", "GB", "TB")
    exponent = min(int(math.log10(max(count, 1)) // 3), len(units) - 1)
    return f"{count} B" if exponent == 0 else f"{count / 1000**exponent:,.1f} {units[exponent]}"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2%}"

"""The dataset card and the other root files of the dataset repository.

The generator's output folder is the Hub repository: one folder per config (shards, ``recipe.json``,
``metadata.json``, and ``baseline.json`` once a baseline has run), and at the root the files made here:

- ``README.md``, the card: the Jinja template ``templates/dataset_card.md`` holds its words, and ``card_facts``
  gathers what it states from the metadata of every config, ``results/`` and ``CHANGELOG.md``;
- ``sample-grids/<config>.png``, a grid of test images per config, which the card shows;
- ``builder-script/afro_mnist.py``, the ``datasets`` builder, one folder down because ``datasets`` >= 4
  refuses to load a folder ``afro_mnist`` that has ``afro_mnist.py`` at its root, and beside it
  ``afro_mnist.json``, the citation and licence that the builder and the card both state.

Folder names with a hyphen can never collide with a config name, which is ``[a-z0-9_]+``.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import albumentations as A
import jinja2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from albumentations.core.serialization import SERIALIZABLE_REGISTRY
from PIL import Image

from generator import settings
from generator.errors import InputError
from generator.layout import BASELINE_FILE, BUILTIN_DIR, config_folders, read_metadata
from generator.registry import DEFAULT_CONFIG, NumeralSystem, builtin_class_count, builtin_systems, default_configs
from generator.repository.output import write_root_files
from generator.repository.shards import features
from generator.synthesis.fonts import render_glyph
from generator.synthesis.normalize import mnist_normalize
from generator.synthesis.recipe import default_recipe
from generator.synthesis.tiling import FRAME, GAP, GREY, labelled_png, tile

# The card's words: a Jinja template beside this module, which reads as the card it renders.
CARD_TEMPLATE = Path(__file__).parent / "templates" / "dataset_card.md"
# The builder script sits at the project's root, where readers look for it. The package reaches it, and the
# changelog and results the card quotes, through links in ``dataset_repository/``, which a built wheel stores as
# copies, so an installed generator writes the same repository as a checkout does.
_REPOSITORY_FILES = Path(__file__).parent.parent / "dataset_repository"
BUILDER_SCRIPT = _REPOSITORY_FILES / "afro_mnist.py"
# Beside the builder script and published with it: the citation and licence it and the card state, and its folder.
BUILDER_DATA = BUILDER_SCRIPT.with_suffix(".json")
# Results that ship with the generator (results/ at the project's root) and its changelog: the card quotes them.
SHIPPED_BASELINES = _REPOSITORY_FILES / "baselines.json"
SHIPPED_REAL_TRANSFER = _REPOSITORY_FILES / "real_transfer.json"
CHANGELOG = _REPOSITORY_FILES / "CHANGELOG.md"
README = "README.md"
SAMPLE_GRID_DIR = "sample-grids"
DEFAULT_REPO_ID = settings.REPO_ID
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
    baseline = None
    if baseline_path.is_file():
        try:
            baseline = json.loads(baseline_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InputError(f"{baseline_path} cannot be read ({exc}); rerun afro-mnist baseline --overwrite") from None
        if not isinstance(baseline, dict):
            raise InputError(f"{baseline_path} is not a JSON object; rerun afro-mnist baseline --overwrite")
    metadata = read_metadata(folder, builtin_class_count(folder.name))
    return ConfigRecord(metadata=metadata, baseline=baseline, folder=folder)


def read_configs(out: Path) -> list[ConfigRecord]:
    """Every complete config under ``out``, in card order."""
    return card_order([read_config(folder) for folder in config_folders(out)])


def card_order(records: list[ConfigRecord]) -> list[ConfigRecord]:
    """The default config (``registry.DEFAULT_CONFIG``) first, then the Afro-MNIST configs in their usual order,
    then any others by name; the first is the repository's default."""
    usual = default_configs()

    def rank(record: ConfigRecord) -> tuple[bool, int, str]:
        order = usual.index(record.name) if record.name in usual else len(usual)
        return (record.name != DEFAULT_CONFIG, order, record.name)

    return sorted(records, key=rank)


def sample_grid_path(config: str) -> str:
    return f"{SAMPLE_GRID_DIR}/{config}.png"


def builder_path_in_repo() -> str:
    return f"{builder_about()['script_folder']}/{BUILDER_SCRIPT.name}"


def builder_data_path_in_repo() -> str:
    return f"{builder_about()['script_folder']}/{BUILDER_DATA.name}"


@cache
def builder_about() -> dict[str, str]:
    """The builder's data file: ``citation``, ``license`` and ``script_folder``, the folder both are published in."""
    return json.loads(BUILDER_DATA.read_text(encoding="utf-8"))


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
    # A handwritten config is under the licence its writers agreed to ("CC BY-SA 4.0": the Hub's cc-by-sa-4.0).
    licences = [builder_about()["license"].lower()]
    licences += [r.metadata["collection"]["licence"].lower().replace(" ", "-") for r in records if _is_handwritten(r)]
    licences = list(dict.fromkeys(licences))
    header: dict = {"pretty_name": PRETTY_NAME, "license": licences[0] if len(licences) == 1 else licences}
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
    splits = record.metadata["splits"]
    return {
        "config_name": record.name,
        # The features the shards carry in their schema, in the card's YAML form (datasets' own conversion).
        "features": features(tuple(record.metadata["numeral_system"]["class_names"]))._to_yaml_list(),
        "splits": [
            {"name": split, "num_bytes": info["num_bytes"], "num_examples": info["num_examples"]}
            for split, info in splits.items()
        ],
        "download_size": sum(info["download_size"] for info in splits.values()),
        "dataset_size": sum(info["num_bytes"] for info in splits.values()),
    }


# --- the card's body: the facts the template words ---------------------------------------------------------------


def render_card(records: list[ConfigRecord], repo_id: str = DEFAULT_REPO_ID) -> str:
    """The card, ``README.md``, for a repository holding ``records``: ``dataset_card.md`` rendered with
    ``card_facts``.

    Raises:
        ValueError: ``records`` is empty.
    """
    if not records:
        raise ValueError("a dataset card needs at least one config")
    return _card_template().render(card_facts(card_order(records), repo_id))


def _card_template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(CARD_TEMPLATE.parent),
        # A Markdown card, not HTML: free text is made safe for Markdown by the |md and |cell filters instead.
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters |= {
        "md": _text,
        "ltr": _isolated,
        "cell": _cell,
        "join_and": lambda items: _join(list(items)),
        "and_sep": _and_separator,
        "code": lambda name: f"`{name}`",
        "percent": _percent,
        "bytes": _bytes,
        "thousands": lambda count: "" if count is None else f"{count:,}",
    }
    return environment.get_template(CARD_TEMPLATE.name)


def card_facts(records: list[ConfigRecord], repo_id: str = DEFAULT_REPO_ID) -> dict:
    """Everything ``dataset_card.md`` states, gathered from ``records`` (in card order) and the shipped files."""
    first = records[0].metadata
    height, width = first["image"]["shape"]
    return {
        "yaml": yaml.safe_dump(card_metadata(records), sort_keys=False, allow_unicode=True, width=1000),
        "repo_id": repo_id,
        "page": settings.dataset_url(repo_id),
        "source_url": settings.SOURCE_URL,
        "paper_url": settings.PAPER_URL,
        "paper_arxiv_id": settings.PAPER_ARXIV_ID,
        "maintainers": settings.MAINTAINERS,
        "image": {"height": height, "width": width, "ink": first["image"]["ink"], "box": first["image"]["box"]},
        "image_size": f"{height}\N{MULTIPLICATION SIGN}{width}",
        "split_sizes": _split_sizes(records),
        "split_names": list(first["splits"]),
        "configs": [_config_facts(r) for r in records],
        "handwritten": [r.name for r in records if _is_handwritten(r)],
        "default": _default_facts(records),
        "instance": _instance(records),
        "transfer": _transfer_facts(),
        "versions": _versions(records),
        "recipes": _recipes(records),
        "baselines": _baseline_facts(records),
        "font_licences": _font_licences(records),
        "builder_path": builder_path_in_repo(),
        "citation": builder_about()["citation"].strip(),
    }


def _split_sizes(records: list[ConfigRecord]) -> list[str] | None:
    """``["60,000 train images", "10,000 test images"]`` when every config has those sizes, else None."""
    sizes = {tuple((split, info["num_examples"]) for split, info in r.metadata["splits"].items()) for r in records}
    if len(sizes) != 1:
        return None
    return [f"{count:,} {split} images" for split, count in sizes.pop()]


def _config_facts(record: ConfigRecord) -> dict:
    metadata = record.metadata
    system, splits = metadata["numeral_system"], metadata["splits"]
    labels = [
        {"index": i, "name": name, "character": character, "code_point": point}
        | {split: str(info["examples_by_class"][name]) for split, info in splits.items() if "examples_by_class" in info}
        for i, (name, character, point) in enumerate(
            zip(system["class_names"], system["characters"], system["code_points"], strict=True)
        )
    ]
    return {
        "name": record.name,
        "handwritten": _is_handwritten(record),
        "script": system["script"],
        "script_label": f"{_text(system['script'])} (`{record.name}`)",
        "iso15924": system.get("iso15924") or "",
        "languages": system["languages"],
        "characters": system["characters"],
        "classes": len(system["class_names"]),
        "labels": labels,
        "labels_are_values": system["class_names"] == [str(i) for i in range(len(system["class_names"]))],
        "has_zero": "0" in system["class_names"],
        "sizes": {split: splits[split]["num_examples"] if split in splits else None for split in ("train", "test")},
        "splits": splits,
        "download_size": sum(info["download_size"] for info in splits.values()),
        "grid": sample_grid_path(record.name),
        "grid_rows": min(_GRID_ROWS, _most_per_class(splits[_grid_split(metadata)])),
        "fonts": [font | {"licence": font_licence(font)} for font in metadata["fonts"]],
        "collection": metadata.get("collection"),
        "seed": metadata.get("seed"),
        "generator": f"{metadata['generator']['name']} {metadata['generator']['version']}",
        "recipe_id": _recipe_id(metadata),
        "libraries": ", ".join(f"{name} {version}" for name, version in metadata["libraries"].items()),
    }


def _most_per_class(split: dict) -> int:
    """The most images any class has in a split: a handwritten split may lack a class, a generated one never does."""
    return max(split.get("examples_by_class", {}).values(), default=split["examples_per_class"])


def _is_handwritten(record: ConfigRecord) -> bool:
    """A config of real handwriting, collected with ``afro-mnist collect`` rather than generated."""
    return record.metadata.get("source") == "handwritten"


def _recipe_id(metadata: dict) -> str:
    return metadata.get("recipe_sha256", "")[:12] or "recipe"


def _recipes(records: list[ConfigRecord]) -> list[dict]:
    """Each distinct recipe once: its id, the configs that use it, its steps and its ``recipe.json``."""
    by_recipe: dict[str, list[ConfigRecord]] = {}
    for r in records:
        if not _is_handwritten(r):
            by_recipe.setdefault(json.dumps(r.metadata["recipe"], sort_keys=True), []).append(r)
    return [
        {
            "id": _recipe_id(users[0].metadata),
            "users": [r.name for r in users],
            "steps": [
                {"name": transform_path(step["__class_fullname__"]), "p": step["p"]}
                for step in users[0].metadata["recipe"]["transform"]["transforms"]
            ],
            "json": json.dumps(users[0].metadata["recipe"], indent=2),
        }
        for users in by_recipe.values()
    ]


def transform_path(saved_name: str) -> str:
    """Where the class of a recipe step is defined, from the name ``recipe.json`` saved it under.

    albumentations saves its own transforms by class name (``ElasticTransform``) and the generator's under a name
    that outlives the modules they move between (``generator.transforms.PenStroke``); both load through
    albumentations' registry of transforms, which knows each one's class. A name the registry lacks (a transform of
    a package that is not imported) is given as saved.
    """
    transform = SERIALIZABLE_REGISTRY.get(saved_name)
    if transform is None:
        return saved_name
    if transform.__module__.split(".")[0] == "albumentations":
        return f"albumentations.{transform.__name__}"
    return f"{transform.__module__}.{transform.__name__}"


def _baseline_facts(records: list[ConfigRecord]) -> dict:
    found = {r.name: baseline_for(r) for r in records}
    rows = [
        {
            "config": r.name,
            "test_accuracy": result.get("test_accuracy"),
            "paper_accuracy": result.get("paper_accuracy"),
            "epochs": str(result.get("epochs", "")),
            "seed": str(result.get("seed", "")),
            "source": source,
        }
        for r in records
        for result, source in [found[r.name]]
        if result
    ]
    return {
        "rows": rows,
        "shipped": any(row["source"] != _THIS_DATA for row in rows),
        "missing": [r.name for r in records if not found[r.name][0]],
    }


_THIS_DATA = "this data"


def baseline_for(record: ConfigRecord) -> tuple[dict | None, str]:
    """A config's LeNet-5 result and where it was measured.

    That is its own ``baseline.json`` if it has one ("this data"), else the shipped result
    (``results/baselines.json``) measured on byte-identical data: a built-in config, the same seed and split sizes,
    the default recipe with sanitation and no handwritten seeds, made by a generator version whose data the
    changelog calls unchanged. Otherwise ``(None, "")``.
    """
    if record.baseline:
        return record.baseline, _THIS_DATA
    metadata = record.metadata
    sizes = {split: info["num_examples"] for split, info in metadata["splits"].items()}
    for entry in shipped_baselines():
        dataset = entry["dataset"]
        if (
            entry["config"] == record.name
            and dataset["seed"] == metadata["seed"]
            and {"train": entry["train_examples"], "test": entry["test_examples"]} == sizes
            and dataset["generator_version"] in same_data_versions(metadata["generator"]["version"])
            and _default_build(metadata)
        ):
            return entry, f"identical data (generator {dataset['generator_version']})"
    return None, ""


def _default_build(metadata: dict) -> bool:
    """Whether a config was made as ``make dataset`` makes it: bundled fonts, default recipe, sanitation, no seeds."""
    system = builtin_systems().get(metadata["config"])
    if system is None or metadata["exemplars"]["handwritten_seeds"] is not None:
        return False
    if metadata["sanitation"]["samples"] is None:
        return False
    if [font["file"] for font in metadata["fonts"]] != [path.name for path in system.fonts]:
        return False
    return metadata["recipe"] == _default_recipe_dict()


@cache
def _default_recipe_dict() -> dict:
    return json.loads(json.dumps(A.to_dict(default_recipe())))


@cache
def shipped_baselines() -> list[dict]:
    """The baselines in ``results/baselines.json``, one per config."""
    return json.loads(SHIPPED_BASELINES.read_text(encoding="utf-8"))["baselines"]


@cache
def shipped_real_transfer() -> dict:
    """``results/real_transfer.json``: the synthetic-to-real measurements, as benchmarks/real_transfer.py writes."""
    return json.loads(SHIPPED_REAL_TRANSFER.read_text(encoding="utf-8"))


# --- the changelog -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """One version's entry in ``CHANGELOG.md``.

    Attributes:
        version: as ``generator.__version__`` spells it, or ``Unreleased``.
        date: ``YYYY-MM-DD``, or None for the unreleased entry.
        data: the bullets of its ``### Data`` section, what changed in the data, each on one line.
        data_markdown: that section as written, nested lists and paragraphs kept.
    """

    version: str
    date: str | None
    data: tuple[str, ...]
    data_markdown: str = ""

    @property
    def data_unchanged(self) -> bool:
        return bool(self.data) and self.data[0].startswith("No change")


_RELEASE = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$", re.MULTILINE)


@cache
def releases() -> tuple[Release, ...]:
    """Every entry of ``CHANGELOG.md``, newest first."""
    text = CHANGELOG.read_text(encoding="utf-8")
    headings = list(_RELEASE.finditer(text))
    entries = []
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        body = text[heading.end() : following.start() if following else len(text)]
        # The section ends at the next heading, or at the link definitions that close the changelog.
        data = re.search(r"^### Data\n(.*?)(?=^### |^\[[^\]]+\]: |\Z)", body, re.MULTILINE | re.DOTALL)
        bullets = re.split(r"^- ", data[1], flags=re.MULTILINE)[1:] if data else []
        entries.append(
            Release(
                heading["version"],
                heading["date"],
                tuple(" ".join(b.split()) for b in bullets if b.strip()),
                data[1].strip() if data else "",
            )
        )
    return tuple(entries)


def release(version: str) -> Release | None:
    return next((entry for entry in releases() if entry.version == version), None)


def same_data_versions(version: str) -> set[str]:
    """The released versions whose data is byte for byte that of ``version``, by the changelog's Data sections."""
    groups: list[list[str]] = []
    for entry in reversed(releases()):  # oldest first: a version that changes nothing joins the one before
        if entry.version == "Unreleased":
            continue
        if entry.data_unchanged and groups:
            groups[-1].append(entry.version)
        else:
            groups.append([entry.version])
    return next((set(group) for group in groups if version in group), {version})


# --- the card's other facts --------------------------------------------------------------------------------------


def _default_facts(records: list[ConfigRecord]) -> dict:
    """The default config, and the baselines that say why it was chosen."""
    default = records[0].name
    accuracies = {r.name: (baseline_for(r)[0] or {}).get("test_accuracy") for r in records}
    return {
        "name": default,
        "is_registry_default": default == DEFAULT_CONFIG,
        "accuracy": accuracies.get(default),
        "geez_accuracy": accuracies.get("geez"),
    }


def _instance(records: list[ConfigRecord]) -> dict:
    """A row of the default config, in the split its sample grid shows: its first label with images.

    It is read from the metadata alone, not from shards, so the card says the same whichever folder is pushed.
    """
    default = records[0].metadata
    split = _grid_split(default)
    system = default["numeral_system"]
    counts = default["splits"][split].get("examples_by_class", {})
    label = next((i for i, name in enumerate(system["class_names"]) if counts.get(name, 1) > 0), 0)
    character = system["characters"][label]
    return {
        "config": default["config"],
        "split": split,
        "label": label,
        "class_name": system["class_names"][label],
        "character": character,
        "code_point": system["code_points"][label],
        "character_name": unicodedata.name(character, "unnamed").title(),
    }


# How many of a script's classes the card names where a model trained on generated data reads real digits worst.
WORST_SHOWN = 3


def _weakest(per_class: dict[str, float], count: int) -> list[tuple[str, float]]:
    """The ``count`` classes read worst, weakest first (ties in class order)."""
    return sorted(per_class.items(), key=lambda item: item[1])[:count]


def _transfer_facts() -> dict:
    """What ``results/real_transfer.json`` measured with the default recipe on real handwriting."""
    transfer = shipped_real_transfer()
    rows = [row for row in transfer["results"] if row["row"] == "default" and "real_accuracy" in row]
    return {
        "rows": [row | {"script": row["script"].title()} for row in rows],
        "worst": [
            {"script": row["script"].title(), "classes": _weakest(per_class, WORST_SHOWN)}
            for row in rows
            if (per_class := row.get("real_per_class")) and isinstance(per_class, dict)
        ],
        "geez_paper_real_accuracy": builtin_systems()["geez"].paper_real_accuracy,
        "generator_version": transfer["generator_version"],
        "train_size": transfer["train_size"],
        "seed": transfer["seed"],
    }


def _versions(records: list[ConfigRecord]) -> list[dict]:
    """Each generator version that made a config: its configs, and its changelog entry's date and data bullets."""
    versions = list(dict.fromkeys(r.metadata["generator"]["version"] for r in records))
    facts = []
    for version in versions:
        entry = release(version)
        facts.append(
            {
                "version": version,
                "users": [r.name for r in records if r.metadata["generator"]["version"] == version],
                "date": entry.date if entry else None,
                "data": source_links(entry.data_markdown) if entry else "",
            }
        )
    return facts


# A path of the generator's source named in its changelog (``docs/results.md``, ``results/ablation.json``), bare or
# in backticks; on the Hub such a path is dead text, so the card links it to the source repository.
_SOURCE_PATH = re.compile(
    r"(?<![\w/\[])(?<!\]\()(?P<tick>`?)(?P<path>(?:docs|results|benchmarks|examples|generator|scripts|tests)/[\w./#-]*\w)"
    r"(?P=tick)(?![\w/\]])"
)


def source_links(markdown: str) -> str:
    """``markdown`` with every path of the generator's source made a link into the source repository."""

    def link(match: re.Match[str]) -> str:
        tick, path = match["tick"], match["path"]
        return f"[{tick}{path}{tick}]({settings.SOURCE_URL}/blob/main/{path})"

    return _SOURCE_PATH.sub(link, markdown)


def _font_licences(records: list[ConfigRecord]) -> list[tuple[str, list[str]]]:
    """Each licence of the fonts, with the font families under it, by licence."""
    families: dict[str, list[str]] = {}
    for r in records:
        for font in r.metadata["fonts"]:
            names = families.setdefault(font_licence(font).name, [])
            if font["family"] not in names:
                names.append(font["family"])
    return sorted(families.items())


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
            if "npm_package" in font:
                source = f"{font['source_family']} (npm {font['npm_package']} {font['npm_version']})"
            else:
                source = f"{font['source_family']} (Debian {font['debian_package']} {font['debian_version']})"
            licences[font["subset_sha256"]] = FontLicence(font["licence"], source)
    return licences


# --- sample grids and the files at the root --------------------------------------------------------------------


def sample_grid(record: ConfigRecord, system: NumeralSystem | None = None) -> bytes:
    """A labelled PNG with one column per class: the class's glyph, then the first test images of each label.

    The glyph is drawn as an image from the config's first font (``system``, or the built-in config of that name
    drawn with the same fonts), so it shows on a machine without the script's fonts; the class names head the
    columns and the rows say what they hold.

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
    class_names = record.metadata["numeral_system"]["class_names"]
    firsts = [np.flatnonzero(labels == label)[:_GRID_ROWS] for label in range(len(class_names))]
    rows = [
        [
            np.asarray(Image.open(io.BytesIO(images[int(column[row])]["bytes"].as_py())).convert("L"))
            if row < len(column)
            else None  # a class missing from this split (a handwritten config with few writers): a grey cell
            for column in firsts
        ]
        for row in range(max(len(column) for column in firsts))
    ]
    samples = tile(rows)
    centres = [GAP + row * (FRAME + GAP) + FRAME / 2 for row in range(len(rows))]
    row_labels = [f"{split} images"] + [""] * (len(rows) - 1)
    glyphs = _glyph_row(record, system)
    if glyphs is not None:
        head = tile([glyphs])
        separator = np.full((_GRID_SEPARATOR, samples.shape[1]), GREY, np.uint8)
        samples = np.vstack([head, separator, samples])
        shift = head.shape[0] + _GRID_SEPARATOR
        centres = [GAP + FRAME / 2] + [shift + centre for centre in centres]
        row_labels = ["glyph", *row_labels]
    return labelled_png(
        samples,
        title=f"{record.name}: one column per class, label 0 first",
        row_labels=row_labels,
        row_centres=centres,
        column_labels=class_names,
    )


_GRID_SEPARATOR = 6


def _glyph_row(record: ConfigRecord, system: NumeralSystem | None) -> list[np.ndarray] | None:
    """Each class's numeral typeset in the config's first font, MNIST-normalised; None without the font."""
    system = system or builtin_systems().get(record.name)
    fonts = [font["file"] for font in record.metadata["fonts"]]
    if system is None or [path.name for path in system.fonts] != fonts:
        return None
    return [mnist_normalize(render_glyph(system.fonts[0], character)) for character in system.characters]


def _grid_split(metadata: dict) -> str:
    """The split a sample grid shows: test, as the images a model is judged on, else the first."""
    return "test" if "test" in metadata["splits"] else next(iter(metadata["splits"]))


def _read_split(folder: Path, shards: list[dict]) -> pa.Table:
    return pa.concat_tables([pq.read_table(folder / shard["file"]) for shard in shards])


def root_files(
    records: list[ConfigRecord], repo_id: str = DEFAULT_REPO_ID, systems: list[NumeralSystem] | None = None
) -> dict[str, bytes]:
    """The repository's root files for ``records``, by path in the repository.

    That is the card, the builder script, and a sample grid for each record with local shards (a config known
    only from the Hub keeps the grid it has there). ``systems`` are numeral systems beyond the built-in ones
    (from spec files) whose fonts can draw the grids' glyphs.
    """
    by_name = {system.name: system for system in systems or []}
    files = {
        README: render_card(records, repo_id).encode("utf-8"),
        builder_path_in_repo(): BUILDER_SCRIPT.read_bytes(),
        builder_data_path_in_repo(): BUILDER_DATA.read_bytes(),
    }
    for record in records:
        if record.folder is not None:
            files[sample_grid_path(record.name)] = sample_grid(record, by_name.get(record.name))
    return files


def root_paths(configs: list[str]) -> list[str]:
    """The root files a repository holding ``configs`` has, by path in the repository."""
    return [
        README,
        builder_path_in_repo(),
        builder_data_path_in_repo(),
        *(sample_grid_path(config) for config in configs),
    ]


def write_repository_files(
    out: Path, repo_id: str = DEFAULT_REPO_ID, systems: list[NumeralSystem] | None = None, *, overwrite: bool = False
) -> None:
    """(Re)writes the root files of the dataset repository ``out`` for every config generated into it.

    Each file is written to a temporary file beside it, then moved into place, so a reader never sees half a
    file. The tool's sample grids of configs no longer in ``out`` are removed. With no config in ``out``, nothing is
    written. A root file that the tool did not write is replaced only with ``overwrite`` (see
    ``generator.repository.output``).

    Raises:
        InputError: a root file is the user's (without ``overwrite``), or the disk refuses a write.
    """
    records = read_configs(out)
    if not records:
        return
    write_root_files(out, root_files(records, repo_id, systems), overwrite)


# --- small formatting helpers, the template's filters ------------------------------------------------------------


def _text(text: str) -> str:
    """``text`` as one line of Markdown that holds no HTML: a name from a spec file or a font cannot break the card."""
    return " ".join(str(text).split()).replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    """``text`` as a Markdown table cell."""
    return _text(text).replace("|", "\\|")


# Bidirectional classes that a left-to-right line would reorder: N'Ko's and Adlam's digits are right-to-left letters.
_RIGHT_TO_LEFT = {"R", "AL", "AN"}


def _isolated(character: str) -> str:
    """``character`` between LEFT-TO-RIGHT ISOLATE and POP DIRECTIONAL ISOLATE if it is written right to left, so that
    a row of such numerals shows 0 to 9 from the left as the table means, not 9 to 0; other characters as they are."""
    if any(unicodedata.bidirectional(c) in _RIGHT_TO_LEFT for c in character):
        return f"\N{LEFT-TO-RIGHT ISOLATE}{character}\N{POP DIRECTIONAL ISOLATE}"
    return character


def _join(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _and_separator(loop: jinja2.runtime.LoopContext) -> str:
    """What follows an item of a list written ``a, b and c``: ``", "``, ``" and "`` before the last, else nothing."""
    return "" if loop.last else " and " if loop.revindex == 2 else ", "


def _bytes(count: int) -> str:
    units = ("B", "kB", "MB", "GB", "TB")
    exponent = min(int(math.log10(max(count, 1)) // 3), len(units) - 1)
    return f"{count} B" if exponent == 0 else f"{count / 1000**exponent:,.1f} {units[exponent]}"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2%}"

"""The dataset repository's root files: the card, its YAML, the sample grids and the builder script."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData
from packaging.licenses import canonicalize_license_expression
from PIL import Image

import generator
from generator import settings
from generator.cli import main
from generator.layout import BASELINE_FILE, METADATA_FILE
from generator.registry import DEFAULT_CONFIG, builtin_systems, default_configs
from generator.repository import card
from generator.repository.output import MANIFEST_FILE
from tests.conftest import PROJECT_DIR, TINY

SYSTEMS = sorted(builtin_systems())
SPLIT_SIZES = {"train": TINY["train_size"], "test": TINY["test_size"]}
BUNDLED_LICENCES = {"OFL-1.1", "GPL-3+ with font exception", "GPL-2+", "public domain", "Bitstream Vera"}


@pytest.fixture(scope="module")
def repository(tiny_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny build, named ``afro_mnist``, with its root files written."""
    folder = tmp_path_factory.mktemp("repository") / "afro_mnist"
    shutil.copytree(tiny_build, folder)
    card.write_repository_files(folder)
    return folder


@pytest.fixture
def datasets_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keeps every ``load_dataset`` of a test, including those inside the card's snippets, out of ~/.cache."""
    cache = tmp_path / "hf-datasets"
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    return cache


def card_data(repository: Path) -> DatasetCardData:
    return DatasetCard((repository / card.README).read_text(encoding="utf-8")).data


def test_root_files_are_written_where_the_script_check_cannot_see_them(repository: Path):
    names = sorted(path.relative_to(repository).as_posix() for path in repository.rglob("*") if path.is_file())
    root = [name for name in names if "/" not in name or name.split("/")[0] not in SYSTEMS]
    assert root == [
        MANIFEST_FILE,
        card.README,
        "builder-script/afro_mnist.json",
        "builder-script/afro_mnist.py",
        *(card.sample_grid_path(config) for config in SYSTEMS),
    ]
    assert not (repository / "afro_mnist.py").exists(), "datasets would refuse a folder with its own name .py"
    for name in ("afro_mnist.py", "afro_mnist.json"):
        assert (repository / "builder-script" / name).read_bytes() == (PROJECT_DIR / name).read_bytes()


def test_the_cards_template_is_a_file_of_the_package():
    assert card.CARD_TEMPLATE.is_relative_to(Path(generator.__file__).parent)
    assert card.CARD_TEMPLATE.is_file()
    assert not card.CARD_TEMPLATE.is_symlink(), "a file, so that an editor that rewrites links cannot fork it"


def test_the_package_reads_the_builder_kept_at_the_project_root():
    # Through links inside the package, so that a built wheel carries them too.
    packaged_files = {
        card.BUILDER_SCRIPT: "afro_mnist.py",
        card.BUILDER_DATA: "afro_mnist.json",
    }
    for packaged, name in packaged_files.items():
        assert packaged.is_relative_to(Path(generator.__file__).parent)
        assert packaged.read_bytes() == (PROJECT_DIR / name).read_bytes()


@pytest.mark.parametrize("config", SYSTEMS)
def test_folder_loads_from_its_parent_with_load_dataset(repository: Path, datasets_cache, monkeypatch, config):
    monkeypatch.chdir(repository.parent)
    for path in ("afro_mnist", str(repository)):
        loaded = datasets.load_dataset(path, config)
        assert {split: loaded[split].num_rows for split in loaded} == SPLIT_SIZES
        assert loaded["train"].features["label"].names == list(builtin_systems()[config].class_names)
        assert isinstance(loaded["train"].features["image"], datasets.Image)


def test_card_yaml_parses_with_the_hub_and_datasets(repository: Path):
    data = card_data(repository)
    DatasetCardData(**data.to_dict())  # the Hub client's own model of the card takes every key
    assert data.license == "mit"
    assert data.task_categories == ["image-classification"]
    assert data.task_ids == ["multi-class-image-classification"]
    assert set(data.language) == {code for s in builtin_systems().values() for code in s.languages}
    assert data.size_categories == ["n<1K"]

    configs = MetadataConfigs.from_dataset_card_data(data)
    assert list(configs) == [DEFAULT_CONFIG, *(name for name in default_configs() if name != DEFAULT_CONFIG)]
    assert configs.get_default_config_name() == DEFAULT_CONFIG != "geez"
    infos = DatasetInfosDict.from_dataset_card_data(data)
    for config in SYSTEMS:
        metadata = json.loads((repository / config / METADATA_FILE).read_text())
        info = infos[config]
        assert info.features["label"].names == metadata["numeral_system"]["class_names"]
        shard = repository / config / metadata["splits"]["train"]["shards"][0]["file"]
        assert info.features == datasets.Features.from_arrow_schema(pq.read_schema(shard)), "the shards' own features"
        assert {name: split.num_examples for name, split in info.splits.items()} == SPLIT_SIZES
        assert info.download_size == sum(split["download_size"] for split in metadata["splits"].values())
        assert configs[config]["data_files"] == [
            {"split": "train", "path": f"{config}/train-*"},
            {"split": "test", "path": f"{config}/test-*"},
        ]


def test_card_body_is_rendered_from_the_registry_and_metadata(repository: Path):
    text = (repository / card.README).read_text(encoding="utf-8")
    assert "${" not in text, "every placeholder of the template is filled"
    for config, system in builtin_systems().items():
        assert f"]({card.sample_grid_path(config)})" in text
        for code_point, character in zip(system.code_points, system.characters, strict=True):
            assert re.search(rf"\| {re.escape(character)} \| U\+{code_point:04X} \|", text)
    assert "| `vai` | 7 | afro-mnist " in text, "the seed and generator version of each config"
    assert "No baseline has been run yet." in text
    assert "arXiv:2009.13509" in text
    assert "MIT licence" in text


def test_card_snippets_run_against_the_folder(repository: Path, datasets_cache):
    text = card.render_card(card.read_configs(repository), repo_id=str(repository))
    snippets = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(snippets) == 3
    for snippet in snippets:
        compile(snippet, "<card snippet>", "exec")
    namespace: dict = {}
    exec(snippets[0], namespace)  # 🤗 Datasets
    assert namespace["class_names"] == list(builtin_systems()[DEFAULT_CONFIG].class_names)
    exec(snippets[1], namespace)  # NumPy; the PyTorch one needs torch, which is not a dependency
    assert namespace["x_train"].shape == (TINY["train_size"], 28, 28)
    assert str(namespace["x_train"].dtype) == "uint8"


def test_baselines_table_comes_from_baseline_files(repository: Path, tmp_path: Path):
    folder = tmp_path / "afro_mnist"
    shutil.copytree(repository, folder)
    result = {"config": "vai", "test_accuracy": 0.9876, "paper_accuracy": 0.99, "seed": 3, "epochs": 12}
    (folder / "vai" / BASELINE_FILE).write_text(json.dumps(result))
    card.write_repository_files(folder)
    text = (folder / card.README).read_text(encoding="utf-8")
    assert "| `vai` | 98.76% | 99.00% | 12 | 3 | this data |" in text
    assert "No baseline has been run yet for `geez`, `osmanya`, `nko`, `adlam` and `medefaidrin`." in text


def test_every_bundled_font_has_a_licence_in_the_card(repository: Path):
    text = (repository / card.README).read_text(encoding="utf-8")
    licences = card.bundled_font_licences()
    for system in builtin_systems().values():
        metadata = json.loads((repository / system.name / METADATA_FILE).read_text())
        for font in metadata["fonts"]:
            licence = card.font_licence(font)
            assert licence.name in BUNDLED_LICENCES
            assert font["sha256"] in licences
            assert f"| {font['family']} | `{font['file']}` | {licence.name} |" in text


def test_sample_grid_shows_each_glyph_above_test_images_one_column_per_class(repository: Path):
    record = card.read_config(repository / "osmanya")
    labelled = Image.open(io.BytesIO((repository / card.sample_grid_path("osmanya")).read_bytes()))
    rows = min(8, TINY["test_size"] // 10)
    cell = 28 + 2
    assert labelled.mode == "RGB"
    assert labelled.width > (10 * cell + 2) * 2, "room for row labels"
    # Without the config's fonts the grid has no glyph row: exactly one row of cells and its separator less.
    stranger = card.ConfigRecord({**record.metadata, "fonts": [{"file": "other.ttf"}]}, None, record.folder)
    bare = Image.open(io.BytesIO(card.sample_grid(stranger)))
    assert labelled.height - bare.height == (cell + 2 + 6) * 2
    assert bare.height > (rows * cell + 2) * 2, "a title and class names above the cells"


def test_write_repository_files_is_repeatable_and_leaves_no_partial_files(repository: Path, tmp_path: Path):
    folder = tmp_path / "afro_mnist"
    shutil.copytree(repository, folder)
    before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    card.write_repository_files(folder)
    assert {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == before

    shutil.rmtree(folder / "nko")
    card.write_repository_files(folder)
    assert not (folder / card.sample_grid_path("nko")).exists(), "a removed config's grid goes too"
    assert "config_name: nko" not in (folder / card.README).read_text(encoding="utf-8")
    assert [path.name for path in folder.rglob(".*")] == [MANIFEST_FILE], "no temporary file is left behind"


def import_builder(folder: Path, monkeypatch: pytest.MonkeyPatch):
    """Imports ``afro_mnist.py`` from ``folder`` as its docstring shows (``datasets`` re-imports it by name)."""
    monkeypatch.delitem(sys.modules, "afro_mnist", raising=False)
    monkeypatch.syspath_prepend(str(folder))
    import afro_mnist

    return afro_mnist


def test_builder_script_in_the_source_tree_reads_a_build_folder(repository: Path, tmp_path: Path, monkeypatch):
    afro_mnist = import_builder(PROJECT_DIR, monkeypatch)
    assert [config.name for config in afro_mnist.AfroMnist.BUILDER_CONFIGS][: len(SYSTEMS)] == SYSTEMS
    builder = afro_mnist.AfroMnist(config_name="geez", data_dir=str(repository), cache_dir=str(tmp_path))
    builder.download_and_prepare()
    loaded = builder.as_dataset()
    assert {split: loaded[split].num_rows for split in loaded} == SPLIT_SIZES
    assert loaded["test"].features["label"].names == list(builtin_systems()["geez"].class_names)


def test_builder_script_in_the_published_tree_needs_no_generator(repository: Path, tmp_path: Path, monkeypatch):
    published = tmp_path / "afro_mnist"
    shutil.copytree(
        repository, published, ignore=shutil.ignore_patterns("geez", "vai", "osmanya", "adlam", "medefaidrin")
    )
    monkeypatch.setitem(sys.modules, "generator", None)  # as where the generator is not installed
    afro_mnist = import_builder(published / "builder-script", monkeypatch)
    assert [config.name for config in afro_mnist.AfroMnist.BUILDER_CONFIGS] == ["nko"], "from metadata.json alone"
    builder = afro_mnist.AfroMnist(config_name="nko", cache_dir=str(tmp_path / "cache"))  # the repository around it
    builder.download_and_prepare()
    loaded = builder.as_dataset(split="train")
    assert loaded.num_rows == TINY["train_size"]
    assert loaded.features["label"].names == list(builtin_systems()["nko"].class_names)


def test_builder_script_serves_a_regenerated_config_not_its_old_cache(tmp_path: Path, monkeypatch):
    folder, cache = tmp_path / "afro_mnist", tmp_path / "cache"
    afro_mnist = import_builder(PROJECT_DIR, monkeypatch)
    rows = []
    for train, test in ((60, 20), (30, 10)):
        argv = ["generate", "--configs", "vai", "--train-size", str(train), "--test-size", str(test)]
        assert main([*argv, "--seed", "1", "--workers", "1", "--out", str(folder), "--overwrite"]) == 0
        builder = afro_mnist.AfroMnist(config_name="vai", data_dir=str(folder), cache_dir=str(cache))
        builder.download_and_prepare()
        loaded = builder.as_dataset()
        rows.append({split: loaded[split].num_rows for split in loaded})
    assert rows == [{"train": 60, "test": 20}, {"train": 30, "test": 10}], "the shards' SHA-256 keys the cache"


def test_builder_script_refuses_a_folder_with_other_class_names(repository: Path, tmp_path: Path, monkeypatch):
    folder = tmp_path / "afro_mnist"
    shutil.copytree(repository, folder)
    metadata_path = folder / "vai" / METADATA_FILE
    metadata = json.loads(metadata_path.read_text())
    metadata["numeral_system"]["class_names"] = [f"digit {name}" for name in metadata["numeral_system"]["class_names"]]
    metadata_path.write_text(json.dumps(metadata))
    afro_mnist = import_builder(PROJECT_DIR, monkeypatch)
    builder = afro_mnist.AfroMnist(config_name="vai", data_dir=str(folder), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(ValueError, match=r"class_names=.*digit 0"):
        builder.download_and_prepare()


# --- what the card quotes from the results and changelog that ship with the generator -----------------------------


def full_size(record: card.ConfigRecord, **changes: object) -> card.ConfigRecord:
    """The record as a full-size `make dataset` would have written it (seed 0), with ``changes`` to its metadata."""
    metadata = json.loads(json.dumps(record.metadata))
    metadata["seed"] = 0
    for split, size in (("train", 60_000), ("test", 10_000)):
        metadata["splits"][split] |= {"num_examples": size, "examples_per_class": size // 10}
    metadata |= changes
    return card.ConfigRecord(metadata, None, record.folder)


def test_a_full_size_default_build_gets_the_shipped_baseline(repository: Path):
    record = full_size(card.read_config(repository / "geez"))
    result, source = card.baseline_for(record)
    shipped = next(entry for entry in card.shipped_baselines() if entry["config"] == "geez")
    assert result == shipped
    assert source == f"identical data (generator {shipped['dataset']['generator_version']})"
    text = card.render_card([record])
    assert "No baseline has been run yet." not in text
    assert f"| `geez` | {shipped['test_accuracy']:.2%} | {shipped['paper_accuracy']:.2%} | 10 | 0 |" in text


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"sanitation": {"samples": None}},
        {"recipe": {"transform": {"transforms": []}}},
        {"generator": {"name": "afro-mnist", "version": "0.2.0"}},
    ],
)
def test_the_shipped_baseline_is_only_for_identical_data(repository: Path, change: dict):
    assert card.baseline_for(full_size(card.read_config(repository / "geez"), **change)) == (None, "")
    assert card.baseline_for(card.read_config(repository / "geez")) == (None, ""), "tiny data is other data"


def test_changelog_dates_every_version_and_says_what_changed_in_the_data():
    releases = card.releases()
    released = [entry for entry in releases if entry.version != "Unreleased"]
    assert released[0].version == generator.__version__, "the running version has its changelog entry"
    assert [entry.date for entry in released] == sorted((entry.date for entry in released), reverse=True)
    assert all(entry.data for entry in releases), "every entry says what changed in the data"
    assert card.same_data_versions("0.3.1") == {"0.3.0", "0.3.1"}
    assert card.same_data_versions("0.2.0") == {"0.2.0"}


def test_card_has_links_structure_limitations_and_version(repository: Path):
    text = (repository / card.README).read_text(encoding="utf-8")
    headings = ("## Dataset structure", "### Data fields", "### Data splits", "## Considerations and", "## Version")
    for heading in headings:
        assert f"\n{heading}" in text
    assert f"]({settings.PAPER_URL})" in text
    assert f"]({settings.SOURCE_URL})" in text
    assert f"]({settings.dataset_url()})" in text
    assert 'label 0 is class `"1"` (፩) and label 9 is class `"10"` (፲)' in text, "Ge'ez labels are not values"
    transfer = card.shipped_real_transfer()
    measured = [row for row in transfer["results"] if row["row"] == "default" and "real_accuracy" in row]
    assert measured, "the shipped results score real digits"
    for row in measured:
        assert f"{row['real_accuracy']:.2%} (generated test split: {row['synthetic_test_accuracy']:.2%})" in text
        ranked = sorted(row["real_per_class"].items(), key=lambda item: item[1])
        named = f"{row['script'].title()}'s " + ", ".join(f'"{name}" ({acc:.2%})' for name, acc in ranked[:2])
        assert named in text, "the card names the classes read worst, weakest first"
        strongest, accuracy = ranked[-1]
        assert f'"{strongest}" ({accuracy:.2%})' not in text, "and not every class"
    entry = card.release(generator.__version__)
    assert f"data version **{generator.__version__}**, made by the generator released on {entry.date}" in text
    assert f"`{DEFAULT_CONFIG}` is the default config" in text


def test_citation_file_is_valid_and_agrees_with_the_project():
    citation = PROJECT_DIR / "CITATION.cff"
    cffconvert = Path(sys.executable).parent / "cffconvert"
    result = subprocess.run([cffconvert, "--validate", "-i", citation], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    fields = yaml.safe_load(citation.read_text(encoding="utf-8"))
    assert fields["version"] == generator.__version__
    assert fields["date-released"] == card.release(generator.__version__).date
    assert fields["authors"] == [{"name": settings.MAINTAINERS}]
    assert fields["repository-code"] == settings.SOURCE_URL
    assert fields["url"] == settings.dataset_url()
    assert fields["preferred-citation"]["url"] == settings.PAPER_URL


# --- the rendered card, byte for byte, from fixed inputs --------------------------------------------------------

# Fixed inputs of the golden card: seven configs' metadata (five built-in, one from a spec, one handwritten) and
# their baselines, a changelog, shipped baselines and real-transfer results, all kept apart from the project's own
# files, which change with every release. tests/data/card/README.md says where each came from.
CARD_DATA = PROJECT_DIR / "tests" / "data" / "card"
GOLDEN_CARD = CARD_DATA / "golden-card.md"


@contextlib.contextmanager
def card_fixture_sources(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The changelog and results the card quotes, replaced by the fixtures of the golden card."""
    cached = (card.releases, card.shipped_baselines, card.shipped_real_transfer)
    for function in cached:
        function.cache_clear()
    monkeypatch.setattr(card, "CHANGELOG", CARD_DATA / "CHANGELOG.md")
    monkeypatch.setattr(card, "SHIPPED_BASELINES", CARD_DATA / "baselines.json")
    monkeypatch.setattr(card, "SHIPPED_REAL_TRANSFER", CARD_DATA / "real_transfer.json")
    try:
        yield
    finally:
        for function in cached:
            function.cache_clear()


@pytest.fixture
def fixed_card_sources(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with card_fixture_sources(monkeypatch):
        yield


def golden_records(folder: Path) -> list[card.ConfigRecord]:
    """The golden card's configs; each generated one gets a folder whose first test shard has one row, label 0."""
    records = []
    for entry in json.loads((CARD_DATA / "records.json").read_text(encoding="utf-8")):
        metadata = entry["metadata"]
        config_folder = folder / metadata["config"]
        config_folder.mkdir(parents=True)
        shard = metadata["splits"]["test"]["shards"][0]["file"]
        pq.write_table(pa.table({"label": pa.array([0], pa.int64())}), config_folder / shard)
        records.append(card.ConfigRecord(metadata, entry["baseline"], config_folder))
    return records


def render_golden_card(folder: Path) -> str:
    return card.render_card(golden_records(folder), repo_id="someone/afro_mnist")


def test_card_renders_byte_for_byte_as_the_golden_file(tmp_path: Path, fixed_card_sources):
    # A change to the card's wording or layout shows here as a diff to review; accept it by writing the new card:
    # .venv/bin/python -c "from tests.test_card import update_golden_card; update_golden_card()"
    rendered = render_golden_card(tmp_path)
    assert rendered.splitlines() == GOLDEN_CARD.read_text(encoding="utf-8").splitlines()
    assert rendered.encode("utf-8") == GOLDEN_CARD.read_bytes()


def update_golden_card() -> None:
    """Rewrites the golden card from the code as it stands (run by hand, after reading the diff)."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        card_fixture_sources(monkeypatch),
        tempfile.TemporaryDirectory() as folder,
    ):
        GOLDEN_CARD.write_text(render_golden_card(Path(folder)), encoding="utf-8")


def test_free_text_from_a_spec_cannot_break_the_cards_markdown(tmp_path: Path, fixed_card_sources):
    records = golden_records(tmp_path)
    tamil = next(r for r in records if r.name == "tamil")
    tamil.metadata["fonts"][0]["family"] = "<b>Bold</b> | x\ny"
    tamil.metadata["numeral_system"]["script"] = "Ta<i>mil"
    text = card.render_card(records)
    assert "| &lt;b&gt;Bold&lt;/b&gt; \\| x y | `lohit-tamil.ttf` |" in text
    assert "### `tamil`: Ta&lt;i&gt;mil numerals" in text
    assert "<b>" not in text
    assert "<i>" not in text


def card_section(text: str, heading: str) -> str:
    """The body of the card's ``## heading``, up to the next ``## `` heading."""
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_version_keeps_the_changelogs_lists_and_links_its_paths(tmp_path: Path, fixed_card_sources):
    version = card_section(render_golden_card(tmp_path), "Version")
    assert not re.search(r"\S - \*\*", version), "no bullet is joined into a paragraph"
    assert "\n\n- No change: the same seed gives 0.9.0's shards.\n- A second bullet" in version
    assert "\n  - **Solid ink.**" in version, "nested bullets stay nested"
    assert f"([docs/results.md]({settings.SOURCE_URL}/blob/main/docs/results.md))" in version
    assert "(docs/results.md)" not in version, "a path of the source is a link, not dead text on the Hub"


def test_source_links_leave_links_and_other_paths_alone():
    assert card.source_links("see [x](docs/a.md) and a/docs/x.md") == "see [x](docs/a.md) and a/docs/x.md"
    assert card.source_links("in `results/ablation.json`.") == (
        f"in [`results/ablation.json`]({settings.SOURCE_URL}/blob/main/results/ablation.json)."
    )


def test_right_to_left_numerals_show_zero_first_in_the_configs_table(tmp_path: Path, fixed_card_sources):
    rows = {row.split(" | ")[0]: row for row in card_section(render_golden_card(tmp_path), "Configs").splitlines()}
    isolate, pop = "\N{LEFT-TO-RIGHT ISOLATE}", "\N{POP DIRECTIONAL ISOLATE}"
    for config in ("nko", "adlam"):
        characters = builtin_systems()[config].characters
        assert " ".join(f"{isolate}{c}{pop}" for c in characters) in rows[f"| `{config}`"]
    assert " ".join(builtin_systems()["vai"].characters) in rows["| `vai`"], "left-to-right numerals as they are"
    assert isolate not in rows["| `vai`"]


def test_every_python_name_the_card_quotes_exists(tmp_path: Path, fixed_card_sources):
    text = render_golden_card(tmp_path)
    steps = re.findall(r"^\d+\. `([\w.]+)`, p = ", text, flags=re.MULTILINE)
    assert "generator.synthesis.recipe.strokes.transforms.OpenCorner" in steps, "a class where it is defined"
    assert "generator.transforms.OpenCorner" not in steps, "not the name recipe.json saves it under"
    quoted = set(steps) | set(re.findall(r"`(generator\.[\w.]+)[`(]", text))
    for name in quoted:
        module, _, attribute = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attribute), f"the card names {name}, which does not exist"


def test_transform_path_of_albumentations_and_unknown_steps():
    assert card.transform_path("ElasticTransform") == "albumentations.ElasticTransform"
    assert card.transform_path("mypackage.MyTransform") == "mypackage.MyTransform"


def test_configs_the_paper_did_not_have_say_so_and_the_homepage_is_the_source(tmp_path: Path, fixed_card_sources):
    text = render_golden_card(tmp_path)
    rows = {row.split(" | ")[0]: row.split(" | ") for row in card_section(text, "Baselines").splitlines() if row}
    assert rows["| `adlam`"][2] == rows["| `medefaidrin`"][2] == "\N{EN DASH}, not in the paper"
    assert rows["| `geez`"][2] == "99.92%"
    assert f"- **Homepage:** [the generator's source]({settings.SOURCE_URL})" in text
    assert "- **Homepage:** [someone/afro_mnist]" not in text, "not the Hub page the card is on"


def test_the_card_is_the_same_whichever_config_folders_are_local(tmp_path: Path, fixed_card_sources):
    # A push from build/tamil renders the card with tamil's folder and the Hub's other configs; a push from
    # build/afro_mnist with the built-in configs' folders: both must give one card.
    records = golden_records(tmp_path)
    cards = {
        card.render_card(
            [card.ConfigRecord(r.metadata, r.baseline, r.folder if r.name in local else None) for r in records]
        )
        for local in (set(), {"tamil"}, {"vai", "geez"}, {r.name for r in records})
    }
    assert len(cards) == 1
    instance = card_section(cards.pop(), "Dataset structure").split("### Data fields")[0]
    assert "A row of `vai`'s test split" in instance
    assert "'label': 0}" in instance


def heading_anchor(heading: str) -> str:
    """The anchor the Hub (as GitHub) gives a Markdown heading: lower case, punctuation dropped, spaces hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_table_of_contents_links_every_section_and_only_sections(tmp_path: Path, fixed_card_sources):
    text = render_golden_card(tmp_path)
    body = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    headings = re.findall(r"^##+ (.+)$", body, flags=re.MULTILINE)
    anchors = {heading_anchor(heading) for heading in headings}
    toc = card_section(text, "Table of contents")
    linked = re.findall(r"\]\(#([\w-]+)\)", toc)
    assert set(linked) <= anchors, f"links to no heading: {sorted(set(linked) - anchors)}"
    sections = [heading_anchor(h) for h in re.findall(r"^## (.+)$", body, flags=re.MULTILINE)]
    in_toc = [anchor for anchor in linked if anchor in sections]
    assert in_toc == sections[sections.index("table-of-contents") + 1 :], "every later section, in the card's order"
    for anchor in re.findall(r"\]\(#([\w-]+)\)", text):
        assert anchor in anchors, f"the card links to #{anchor}, which no heading has"


def test_card_has_the_sections_of_the_hubs_standard_cards(tmp_path: Path, fixed_card_sources):
    text = render_golden_card(tmp_path)
    for heading in (
        "## Supported tasks and leaderboards",
        "## Languages",
        "### Curation rationale",
        "### Annotations",
        "### Personal and sensitive information",
        "## Dataset curators",
        "## Contributions",
        "## Citation",
    ):
        assert f"\n{heading}\n" in text
    assert "- `nko`: N'Ko (ISO 15924 Nkoo), for nqo, man, bam\n" in card_section(text, "Languages")
    creation = card_section(text, "Dataset creation")
    assert "Machine-generated: labels are the code points rendered." in creation
    assert "None in the generated configs: they are synthetic" in creation
    assert "`nko_handwritten` holds drawings by anonymous writers" in creation, "a note for handwritten configs"
    generated_only = card.render_card([r for r in golden_records(tmp_path / "other") if r.name != "nko_handwritten"])
    assert "anonymous writers" not in card_section(generated_only, "Dataset creation")
    assert settings.MAINTAINERS in card_section(text, "Dataset curators")
    citation = card_section(text, "Citation")
    assert "@article{wu2020afromnist," in citation, "the paper"
    assert "@misc{afromnist_data_0_10_0,\n  title        = {Afro-MNIST: vai, geez" in citation, "the data's version"
    assert "  year         = {2026},\n" in citation


# The SPDX identifier of each licence short name that the font manifests record.
SPDX = {
    "OFL-1.1": "OFL-1.1",
    "GPL-2+": "GPL-2.0-or-later",
    "GPL-3+ with font exception": "GPL-3.0-or-later WITH Font-exception-2.0",
    "Bitstream Vera": "Bitstream-Vera",
    "public domain": "LicenseRef-Public-Domain",
}


def test_package_metadata_declares_every_bundled_fonts_licence_and_the_projects_links():
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    expression = project["license"]
    terms = expression.split(" AND ")
    assert terms[0] == "MIT", "the code and the data it makes"
    assert canonicalize_license_expression(expression) == expression, "a valid SPDX expression, as PyPI checks"
    for licence in {licence.name for licence in card.bundled_font_licences().values()}:
        assert SPDX[licence] in terms, f"the wheel ships fonts under {licence}, which {expression!r} lacks"
    licence_files = {
        path.relative_to(PROJECT_DIR) for pattern in project["license-files"] for path in PROJECT_DIR.glob(pattern)
    }
    for manifest in (PROJECT_DIR / "generator" / "numeral_systems").glob("*/fonts/manifest.json"):
        for font in json.loads(manifest.read_text(encoding="utf-8")):
            licence_file = (manifest.parent / Path(font["license_path"]).name).relative_to(PROJECT_DIR)
            assert licence_file in licence_files, f"{licence_file} is not among license-files"
    assert project["authors"] == [{"name": settings.MAINTAINERS}]
    urls = project["urls"]
    assert urls["Source"] == settings.SOURCE_URL
    assert urls["Dataset"] == settings.dataset_url()
    assert urls["Paper"] == settings.PAPER_URL
    assert all(urls[name].startswith(settings.SOURCE_URL) for name in ("Documentation", "Changelog", "Issues"))
    assert not [c for c in project["classifiers"] if c.startswith("License ::")], "PEP 639: the expression only"


def test_changelog_says_its_format_and_links_every_version():
    text = (PROJECT_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    head = text.split("\n## ", 1)[0]
    assert "[Keep a Changelog](https://keepachangelog.com/" in head
    sections = set(re.findall(r"^### (\w+)$", text, flags=re.MULTILINE))
    own = sections - {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert own == {"Data", "Documentation"}, "the two sections of its own that the head names"
    assert all(f"**{name}**" in head for name in own)
    versions = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    links = dict(re.findall(r"^\[([^\]]+)\]: (\S+)$", text, flags=re.MULTILINE))
    assert list(links) == versions, "one link definition per version, in the same order"
    assert all(url.startswith(settings.SOURCE_URL + "/") for url in links.values())
    assert links[versions[1]].endswith(f"v{versions[2]}...v{versions[1]}")
    last = card.releases()[-1]
    assert "]: " not in last.data_markdown, "the link definitions are not part of the oldest entry"


def test_the_card_calls_only_the_generated_configs_synthetic(tmp_path: Path, fixed_card_sources):
    text = render_golden_card(tmp_path)
    assert "The images of the generated configs are synthetic" in text
    limitations = card_section(text, "Considerations and limitations")
    assert "**The generated configs' images are synthetic.**" in limitations
    assert "`nko_handwritten`" not in limitations, "no font count for real handwriting"
    generated_only = card.render_card([r for r in golden_records(tmp_path / "other") if r.name != "nko_handwritten"])
    assert "- **The images are synthetic.** No image was written by a hand" in generated_only


def test_a_handwritten_configs_licence_is_in_the_yaml_and_the_licences(tmp_path: Path, fixed_card_sources):
    text = render_golden_card(tmp_path)
    assert DatasetCard(text).data.license == ["mit", "cc-by-sa-4.0"]
    assert "`nko_handwritten`'s under [CC BY-SA 4.0](https://creativecommons.org/licenses/by-sa/4.0/)" in text

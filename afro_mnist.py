"""Afro-MNIST: MNIST-style images of the numerals of African scripts, one config per numeral system."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import datasets
import fsspec
import pyarrow.parquet as pq
from datasets.builder import Key
from datasets.table import table_cast

_HERE = Path(__file__).resolve().parent
# Beside this script, named after it: its citation, its licence and the folder it is published in. The dataset
# card reads the same file.
_ABOUT = json.loads(Path(__file__).with_suffix(".json").read_text(encoding="utf-8"))

_CITATION = _ABOUT["citation"]

_DESCRIPTION = """\
Afro-MNIST is a set of drop-in replacements for MNIST: greyscale images of the numerals of African scripts, the
size of MNIST's, typeset in several fonts, deformed elastically and normalised as MNIST was. Each numeral system is
one config with a train and a test split, balanced across its classes.
"""

_HOMEPAGE = "https://arxiv.org/abs/2009.13509"

_LICENSE = _ABOUT["license"]

# In a published dataset repository this script lives in this folder, one level below the root: at the
# root, `datasets` >= 4 would find `afro_mnist.py` and refuse to load the repository at all.
SCRIPT_FOLDER = _ABOUT["script_folder"]
METADATA_FILE = "metadata.json"


@dataclass
class AfroMnistConfig(datasets.BuilderConfig):
    """One numeral system.

    Attributes:
        script: the script's English name.
    """

    script: str = ""


def default_data_dir() -> Path:
    """The folder of shards this script reads unless given ``data_dir``.

    That is the repository it is published in, or, in the generator's source tree, the default build folder.
    """
    return _HERE.parent if _HERE.name == SCRIPT_FOLDER else _HERE / "build" / "afro_mnist"


def _config_from_metadata(metadata: dict) -> AfroMnistConfig:
    system = metadata["numeral_system"]
    return AfroMnistConfig(
        name=system["name"],
        version=datasets.Version(metadata["generator"]["version"]),
        description=f"{system['script']} numerals, {len(system['class_names'])} classes",
        script=system["script"],
    )


def _discover_configs() -> list[AfroMnistConfig]:
    """Every numeral system of the generator's registry, then every config generated into the data folder.

    The registry exists only where the ``generator`` package is installed; the generated configs (``metadata.json``
    in each config folder) are all a published repository has, and they include configs made from spec files.
    """
    configs: dict[str, AfroMnistConfig] = {}
    try:
        import generator
        from generator.registry import builtin_systems
    except ImportError:
        pass
    else:
        for system in builtin_systems().values():
            configs[system.name] = AfroMnistConfig(
                name=system.name,
                version=datasets.Version(generator.__version__),
                description=f"{system.script} numerals, {system.num_classes} classes",
                script=system.script,
            )
    # What was generated wins over the registry: it is what the shards hold.
    for path in sorted(default_data_dir().glob(f"*/{METADATA_FILE}")):
        config = _config_from_metadata(json.loads(path.read_text(encoding="utf-8")))
        configs[config.name] = config
    return list(configs.values())


class AfroMnist(datasets.ArrowBasedBuilder):
    """Afro-MNIST, read from the parquet shards of a local folder or a Hub repository.

    ``datasets`` >= 4 no longer runs dataset scripts through ``load_dataset``; the Hub repository loads without
    this script (``load_dataset("<owner>/afro_mnist", "vai")``). Import it to build a config yourself::

        import sys
        sys.path.insert(0, "afro_mnist/builder-script")  # the folder holding this file
        from afro_mnist import AfroMnist

        builder = AfroMnist(config_name="vai")  # the shards of the repository around this script
        builder.download_and_prepare()
        train = builder.as_dataset(split="train")

        # Shards elsewhere: a local folder, or a Hub repository through fsspec.
        builder = AfroMnist(config_name="vai", data_dir="hf://datasets/<owner>/afro_mnist")

    Each config folder ``<data_dir>/<config>/`` holds ``metadata.json``, which lists the shards of each split with
    their SHA-256; a config's features are those its shards carry in their parquet schema.
    """

    BUILDER_CONFIG_CLASS = AfroMnistConfig
    BUILDER_CONFIGS = _discover_configs()

    def __init__(
        self, *args, config_name: str | None = None, data_dir: str | None = None, hash: str | None = None, **kwargs
    ):
        # The config's metadata.json, read once: its shards' SHA-256 key the cache, so that a config regenerated
        # since it was last prepared is prepared anew rather than served from the cache.
        self._metadata = None
        if config_name is not None:
            with fsspec.open(f"{_config_url(data_dir, config_name)}/{METADATA_FILE}", "rt", encoding="utf-8") as file:
                self._metadata = json.load(file)
            hash = hash or _shards_digest(self._metadata)
        super().__init__(*args, config_name=config_name, data_dir=data_dir, hash=hash, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        # The features are the shards' own, read from their parquet schema once they are downloaded.
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            supervised_keys=datasets.info.SupervisedKeysData(input="image", output="label"),
            homepage=_HOMEPAGE,
            citation=_CITATION,
            license=_LICENSE,
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        folder = _config_url(self.config.data_dir, self.config.name)
        shards = {
            split: [f"{folder}/{shard['file']}" for shard in info["shards"]]
            for split, info in self._metadata["splits"].items()
        }
        local_shards = dl_manager.download(shards)
        first = next(path for paths in local_shards.values() for path in paths)
        features = datasets.Features.from_arrow_schema(pq.read_schema(first))
        class_names = self._metadata["numeral_system"]["class_names"]
        if features["label"].names != class_names:
            raise ValueError(
                f"{folder}/{METADATA_FILE} gives class_names={class_names}, but its shards hold "
                f"{features['label'].names}; regenerate the config"
            )
        self.info.features = features
        return [datasets.SplitGenerator(name=split, gen_kwargs={"shards": local_shards[split]}) for split in shards]

    def _generate_tables(self, shards: list[str]):
        schema = self.info.features.arrow_schema
        for shard_index, path in enumerate(shards):
            parquet = pq.ParquetFile(path)
            for row_group in range(parquet.num_row_groups):
                yield Key(shard_index, row_group), table_cast(parquet.read_row_group(row_group), schema)


def _config_url(data_dir: str | None, config: str) -> str:
    """The folder of ``config``'s shards and metadata: in ``data_dir``, or in this script's repository."""
    return f"{str(data_dir or default_data_dir()).rstrip('/')}/{config}"


def _shards_digest(metadata: dict) -> str:
    """One SHA-256 over every shard's, as ``metadata.json`` lists them: it changes whenever a shard does."""
    digest = hashlib.sha256()
    for split, info in metadata["splits"].items():
        for shard in info["shards"]:
            digest.update(f"{split}/{shard['file']}:{shard['sha256']}\n".encode())
    return digest.hexdigest()[:16]

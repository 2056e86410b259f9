"""Afro-MNIST: MNIST-style images of the numerals of African scripts, one config per numeral system."""

import json
from dataclasses import dataclass
from pathlib import Path

import datasets
import pyarrow.parquet as pq
from datasets.builder import Key
from datasets.table import table_cast

_CITATION = """\
@article{wu2020afromnist,
  title         = {Afro-MNIST: Synthetic generation of MNIST-style datasets for low-resource languages},
  author        = {Wu, Daniel J. and Yang, Andrew C. and Prabhu, Vinay U.},
  journal       = {arXiv preprint arXiv:2009.13509},
  year          = {2020},
  eprint        = {2009.13509},
  archivePrefix = {arXiv},
}
"""

_DESCRIPTION = """\
Afro-MNIST is a set of drop-in replacements for MNIST: greyscale images of the numerals of African scripts, the
size of MNIST's, typeset in several fonts, deformed elastically and normalised as MNIST was. Each numeral system is
one config with a train and a test split, balanced across its classes.
"""

_HOMEPAGE = "https://arxiv.org/abs/2009.13509"

_LICENSE = "MIT"

# In a published dataset repository this script lives in this folder, one level below the root: at the
# root, `datasets` >= 4 would find `afro_mnist.py` and refuse to load the repository at all.
SCRIPT_FOLDER = "builder-script"
METADATA_FILE = "metadata.json"

_HERE = Path(__file__).resolve().parent


@dataclass
class AfroMnistConfig(datasets.BuilderConfig):
    """One numeral system.

    Attributes:
        script: the script's English name.
        class_names: the name of each class, label 0 first.
    """

    script: str = ""
    class_names: tuple[str, ...] = ()


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
        class_names=tuple(system["class_names"]),
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
                class_names=system.class_names,
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

    Each config folder ``<data_dir>/<config>/`` holds ``metadata.json``, which lists the shards of each split.
    """

    BUILDER_CONFIG_CLASS = AfroMnistConfig
    BUILDER_CONFIGS = _discover_configs()

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            features=datasets.Features(
                {
                    "image": datasets.Image(),
                    "label": datasets.ClassLabel(names=list(self.config.class_names)),
                }
            ),
            supervised_keys=datasets.info.SupervisedKeysData(input="image", output="label"),
            homepage=_HOMEPAGE,
            citation=_CITATION,
            license=_LICENSE,
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        data_dir = str(self.config.data_dir or default_data_dir()).rstrip("/")
        folder = f"{data_dir}/{self.config.name}"
        with open(dl_manager.download(f"{folder}/{METADATA_FILE}"), encoding="utf-8") as file:
            metadata = json.load(file)
        class_names = tuple(metadata["numeral_system"]["class_names"])
        if class_names != self.config.class_names:
            raise ValueError(
                f"{folder}/{METADATA_FILE} gives class_names={list(class_names)}, but config {self.config.name!r} "
                f"has {list(self.config.class_names)}; load it from the folder it was generated in"
            )
        shards = {
            split: [f"{folder}/{shard['file']}" for shard in info["shards"]]
            for split, info in metadata["splits"].items()
        }
        local_shards = dl_manager.download(shards)
        return [datasets.SplitGenerator(name=split, gen_kwargs={"shards": local_shards[split]}) for split in shards]

    def _generate_tables(self, shards: list[str]):
        schema = self.info.features.arrow_schema
        for shard_index, path in enumerate(shards):
            parquet = pq.ParquetFile(path)
            for row_group in range(parquet.num_row_groups):
                yield Key(shard_index, row_group), table_cast(parquet.read_row_group(row_group), schema)

"""Afro-MNIST as a PyTorch dataset, in the manner of ``torchvision.datasets.MNIST``.

    from generator.repository.torch import AfroMNIST
    train = AfroMNIST("data/", config="vai", train=True, download=True, transform=to_tensor)

Needs PyTorch: ``pip install 'afro-mnist[baseline]'``. ``root`` is a folder laid out as the dataset
repository: ``root/<config>/metadata.json`` and the shards. A build folder (``build/afro_mnist``)
is one already; with ``download=True`` a missing config is fetched from the Hub into ``root``.
Every shard is checked against the SHA-256 in ``metadata.json`` before it is read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from generator import settings
from generator.errors import InputError, import_torch
from generator.layout import METADATA_FILE, config_folder, read_metadata
from generator.repository.download import fetch_config
from generator.repository.export import load_split

torch = import_torch()  # a clear error naming the [baseline] extra, instead of a bare ModuleNotFoundError


class AfroMNIST(torch.utils.data.Dataset):
    """One split of one config: ``dataset[i]`` is ``(image, target)``, as in torchvision's MNIST.

    ``image`` is a greyscale 28x28 ``PIL.Image`` (white ink on black) and ``target`` the class index,
    an ``int``, each passed through ``transform`` and ``target_transform`` if given.

    Attributes:
        data: ``uint8`` tensor ``(N, 28, 28)``, every image of the split.
        targets: ``int64`` tensor ``(N,)``, the class indices (PyTorch's loss functions take int64).
        classes: the class names, label 0 first (Ge'ez's are ``"1"`` ... ``"10"``).
        config: the config name.
        folder: where the config's files are.
    """

    def __init__(
        self,
        root: str | Path,
        config: str = "vai",
        train: bool = True,
        download: bool = False,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        *,
        repo_id: str = settings.REPO_ID,
        revision: str | None = None,
        endpoint: str | None = None,
    ):
        """Reads ``root/<config>``, downloading it first if it is missing and ``download`` is set.

        Raises:
            InputError: the config is neither in ``root`` nor downloadable (``download`` off, or the
                Hub lacks it), or a shard differs from its metadata.
        """
        root = Path(root).expanduser()
        if not (root / config / METADATA_FILE).is_file():
            if not download:
                raise InputError(
                    f"config {config!r} is not in {root}; pass download=True to fetch it from {repo_id}, "
                    f"or give the folder that `afro-mnist generate` wrote"
                )
            fetch_config(config, repo_id=repo_id, revision=revision, local_dir=root, endpoint=endpoint)
        self.folder = config_folder(config, root)
        metadata = read_metadata(self.folder)
        images, labels = load_split(self.folder, "train" if train else "test", metadata)
        self.config = config
        self.train = train
        self.classes = list(metadata["numeral_system"]["class_names"])
        self.data = torch.from_numpy(images)
        self.targets = torch.from_numpy(labels.astype("int64"))
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = Image.fromarray(self.data[index].numpy())  # uint8 (28, 28): mode L
        target: Any = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"AfroMNIST(config={self.config!r}, split={split!r}, {len(self)} images, root={self.folder.parent})"

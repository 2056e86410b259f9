"""Afro-MNIST as a PyTorch dataset, in the manner of ``torchvision.datasets.MNIST``.

    from generator.repository.torch import AfroMNIST
    train = AfroMNIST("build/afro_mnist", config="vai", train=True, transform=to_tensor)   # after make dataset
    train = AfroMNIST("data/", config="vai", train=True, download=True, transform=to_tensor)   # from the Hub

Needs PyTorch: ``pip install 'afro-mnist[baseline]'``. ``root`` is a folder laid out as the dataset
repository: ``root/<config>/metadata.json`` and the shards. A build folder (``build/afro_mnist``)
is one already; with ``download=True`` a missing config is fetched from the Hub into ``root``, and a
damaged one is fetched again. Every shard is checked against the SHA-256 in ``metadata.json`` before
it is read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from generator import settings
from generator.errors import InputError, import_torch
from generator.layout import METADATA_FILE, read_metadata
from generator.repository.download import check_config_request, download_config
from generator.repository.export import load_split

torch = import_torch()  # a clear error naming the [baseline] extra, instead of a bare ModuleNotFoundError


class AfroMNIST(torch.utils.data.Dataset):
    """One split of one config: ``dataset[i]`` is ``(image, target)``, as in torchvision's MNIST.

    ``image`` is a greyscale 28x28 ``PIL.Image`` (white ink on black) and ``target`` the class index,
    an ``int``, each passed through ``transform`` and ``target_transform`` if given.

    Attributes:
        root: the folder given, holding ``<config>/``.
        data: ``uint8`` tensor ``(N, 28, 28)``, every image of the split.
        targets: ``int64`` tensor ``(N,)``, the class indices (PyTorch's loss functions take int64).
        classes: the class names, label 0 first (Ge'ez's are ``"1"`` ... ``"10"``).
        class_to_idx: each class name's index, as torchvision's datasets give it.
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
        token: str | bool | None = None,
        force_download: bool = False,
        timeout: float = settings.DOWNLOAD_TIMEOUT_S,
    ):
        """Reads ``root/<config>``, downloading it first if it is missing (or damaged) and ``download`` is set.

        With ``force_download`` (and ``download``), the config is downloaded again even if ``root`` holds it;
        what ``root`` holds is replaced only by the same data.

        Raises:
            InputError: the config is neither in ``root`` nor downloadable (``download`` off, or the
                Hub lacks it), or a shard differs from its metadata (and, with ``download``, differs on the
                Hub too).
        """
        check_config_request(config)
        self.root = Path(root).expanduser()
        self.folder = self.root / config
        hub = {"repo_id": repo_id, "revision": revision, "endpoint": endpoint, "token": token, "timeout": timeout}
        if not (self.folder / METADATA_FILE).is_file() or (download and force_download):
            if not download:
                raise InputError(
                    f"config {config!r} is not in {self.root}; pass download=True to fetch it from {repo_id}, "
                    "or give as root the folder that `afro-mnist generate` wrote (build/afro_mnist)"
                )
            download_config(config, self.root, force_download=force_download, **hub)
        split = "train" if train else "test"
        try:
            metadata = read_metadata(self.folder)
            images, labels = load_split(self.folder, split, metadata)
        except InputError as damaged:
            if not download:
                raise InputError(f"{damaged}; or pass download=True to fetch {config!r} again") from None
            download_config(config, self.root, force_download=True, **hub)  # the one repair, then it must pass
            metadata = read_metadata(self.folder)
            images, labels = load_split(self.folder, split, metadata)
        self.config = config
        self.train = train
        self.classes = list(metadata["numeral_system"]["class_names"])
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
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
        return f"AfroMNIST(config={self.config!r}, split={split!r}, {len(self)} images, root={self.root})"

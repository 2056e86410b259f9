"""A published config, fetched from the Hub and checked against its ``metadata.json``.

``generator.repository.export.load_data`` and ``generator.repository.torch.AfroMNIST`` call ``fetch_config``
when they are given no local build. It downloads ``<config>/metadata.json`` and the shards it lists, all from the
one commit the metadata came from, through ``huggingface_hub`` (into its cache, or into a folder of
the caller's), and ``verify_shards`` then checks every shard's size and SHA-256 against the
metadata. A shard that differs is refused, never decoded.

``huggingface_hub`` is imported on use: reading a local build never needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

from huggingface_hub import hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from generator import settings
from generator.errors import InputError
from generator.layout import METADATA_FILE, read_metadata, sha256_file


def verify_shards(folder: Path, metadata: dict) -> None:
    """Checks that every shard ``metadata`` lists is in ``folder`` with the recorded size and SHA-256.

    Raises:
        InputError: a shard is missing, or its size or SHA-256 differs from the metadata's.
    """
    for split in metadata["splits"].values():
        for shard in split["shards"]:
            path = folder / shard["file"]
            if not path.is_file():
                raise InputError(f"shard {path} is missing; regenerate or download the config again")
            if path.stat().st_size != shard["size_bytes"] or sha256_file(path) != shard["sha256"]:
                raise InputError(
                    f"shard {path} does not match the size and SHA-256 in {METADATA_FILE}; it was changed or "
                    "damaged: delete it and download (or regenerate) the config again"
                )


def fetch_config(
    config: str,
    *,
    repo_id: str = settings.REPO_ID,
    revision: str | None = None,
    local_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
) -> Path:
    """Downloads a config's ``metadata.json`` and shards from the Hub; returns the config's folder.

    Args:
        config: the config name, such as ``"vai"``.
        repo_id: the dataset repository (default: ``generator.settings.REPO_ID``).
        revision: a branch, tag or commit (default: the main branch).
        local_dir: download into ``local_dir/<config>/`` instead of the Hugging Face cache.
        cache_dir: the Hugging Face cache to use (default: ``$HF_HOME``'s).
        endpoint: the Hub's address (default: ``$HF_ENDPOINT``, else the Hub).
        token: a token for a private repository (default: ``HF_TOKEN`` or the stored login, if any).

    Returns:
        The folder holding ``metadata.json`` and the shards, every shard verified.

    Raises:
        InputError: the repository, revision or config is not on the Hub, the Hub cannot be reached
            within ``settings.DOWNLOAD_TIMEOUT_S``, or a downloaded shard differs from its metadata.
    """
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    where = f"{repo_id}@{revision or 'main'}"

    def download(filename: str, at: str | None) -> Path:
        return Path(
            hf_hub_download(
                repo_id,
                filename,
                repo_type="dataset",
                revision=at,
                local_dir=local_dir,
                cache_dir=cache_dir,
                endpoint=endpoint,
                token=token,
                etag_timeout=settings.DOWNLOAD_TIMEOUT_S,
            )
        )

    try:
        metadata_path = download(f"{config}/{METADATA_FILE}", revision)
        folder = metadata_path.parent
        # In the cache, the shards come from the very commit the metadata came from (the snapshot folder's
        # name), even if the branch moves meanwhile; a download into local_dir keeps no such folder.
        commit = revision if local_dir is not None else folder.parent.name
        metadata = read_metadata(folder)
        for split in metadata["splits"].values():
            for shard in split["shards"]:
                download(f"{config}/{shard['file']}", commit)
    except LocalEntryNotFoundError:  # before EntryNotFoundError, its base class
        raise InputError(
            f"the Hub could not be reached for {where}, and {config!r} is not in the local cache; "
            "check the network, or pass local_dir= with a folder that `afro-mnist generate` wrote"
        ) from None
    except RepositoryNotFoundError:
        raise InputError(f"dataset repository {repo_id} was not found on the Hub; check repo_id") from None
    except RevisionNotFoundError:
        raise InputError(f"revision {revision!r} is not in {repo_id}; check revision") from None
    except EntryNotFoundError:
        raise InputError(f"config {config!r} is not published in {where}; check the config name") from None
    except HFValidationError as exc:
        raise InputError(f"repo_id {repo_id!r} is not a Hub repository id ({exc}); write it as OWNER/NAME") from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "no answer"
        raise InputError(f"the Hub refused to send {config!r} from {where} (HTTP {status}); try again later") from None
    verify_shards(folder, metadata)
    return folder

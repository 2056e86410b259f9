"""A published config, fetched from the Hub and checked against its ``metadata.json``.

``generator.repository.export.load_data`` calls ``fetch_config``, which downloads ``<config>/metadata.json`` and
the shards it lists into the Hugging Face cache, all from the one commit the metadata came from, through
``huggingface_hub``. ``generator.repository.torch.AfroMNIST`` calls ``download_config``, which does the same in a
hidden folder inside ``root`` and moves the finished config to ``root/<config>`` at once, so that a failed or
interrupted download leaves nothing in ``root`` that was not there before.

Every download is bounded: each file within ``timeout`` seconds, wall clock, and no larger than the size the
metadata records (a Hub sending more is cut off, and what it sent is removed). Every shard is checked against its
recorded size and SHA-256; one that differs is removed and fetched once more (``force_download``), and refused
with one line if it differs again. A shard is never decoded before it has passed. Every failure is an InputError
whose message is one line.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from huggingface_hub import hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from generator import settings
from generator.errors import InputError
from generator.layout import BUILTIN_DIR, CONFIG_NAME, METADATA_FILE, SPEC_FILE, read_metadata, sha256_file
from generator.repository.hub_client import HubCall, HubTimeout, HubTooLarge, allowance

try:  # the HTTP client huggingface_hub sends with: httpx2 from 2.x on, httpx before
    from httpx2 import HTTPError, TimeoutException
except ImportError:
    from httpx import HTTPError, TimeoutException

# The most bytes a config's metadata.json may have; a full-size one has a few KB.
METADATA_MAX_BYTES = 4 * 2**20


def check_config_request(config: object) -> str:
    """``config`` if it can name a config; checked before any file is read or any request is sent.

    Raises:
        InputError: it cannot, with the built-in configs' names in the message.
    """
    if isinstance(config, str) and CONFIG_NAME.fullmatch(config):
        return config
    builtin = sorted(path.parent.name for path in BUILTIN_DIR.glob(f"*/{SPEC_FILE}"))
    lowered = config.strip().lower() if isinstance(config, str) else None
    hint = f"did you mean {lowered!r}? " if lowered in builtin else ""
    raise InputError(
        f"config {config!r} is not a config name; {hint}the built-in configs are {', '.join(builtin)} "
        "(a config of your own spec has the lowercase name its spec gives)"
    )


def shard_problem(path: Path, shard: dict) -> str | None:
    """What is wrong with the file at ``path`` as the shard ``shard`` of a metadata.json, or None."""
    if not path.is_file():
        return "is missing"
    if path.stat().st_size != shard["size_bytes"]:
        return f"has {path.stat().st_size:,} bytes, not the {shard['size_bytes']:,} that {METADATA_FILE} records"
    if sha256_file(path) != shard["sha256"]:
        return f"does not match the size and SHA-256 in {METADATA_FILE}"
    return None


def verify_shards(folder: Path, metadata: dict) -> None:
    """Checks that every shard ``metadata`` lists is in ``folder`` with the recorded size and SHA-256.

    Raises:
        InputError: a shard is missing, or its size or SHA-256 differs from the metadata's.
    """
    for split in metadata["splits"].values():
        for shard in split["shards"]:
            path = folder / shard["file"]
            problem = shard_problem(path, shard)
            if problem == "is missing":
                raise InputError(f"shard {path} is missing; regenerate the config, or download it again")
            if problem is not None:
                raise InputError(
                    f"shard {path} does not match the size and SHA-256 in {METADATA_FILE}; it was changed or "
                    "damaged: regenerate the config, or download it again (force_download=True)"
                )


def fetch_config(
    config: str,
    *,
    repo_id: str = settings.REPO_ID,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
    force_download: bool = False,
    timeout: float = settings.DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Downloads a config's ``metadata.json`` and shards into the Hugging Face cache; returns the config's folder.

    Args:
        config: the config name, such as ``"vai"``.
        repo_id: the dataset repository (default: ``generator.settings.REPO_ID``).
        revision: a branch, tag or commit (default: the main branch).
        cache_dir: the Hugging Face cache to use (default: ``$HF_HOME``'s).
        endpoint: the Hub's address (default: ``$HF_ENDPOINT``, else the Hub).
        token: a token for a private repository (default: ``HF_TOKEN`` or the stored login, if any).
        force_download: download every file again, even if the cache holds it.
        timeout: seconds, wall clock, that each file's download may take, retries included.

    Returns:
        The folder (in the cache's snapshot of one commit) holding ``metadata.json`` and the shards, each verified.

    Raises:
        InputError: a bad config name (before any request), the repository, revision or config is not on the
            Hub, the Hub does not answer within ``timeout``, sends more than the metadata records, or sends a
            shard that differs from its metadata twice.
    """
    check_config_request(config)
    if not 0 < timeout <= 3600:
        raise InputError(f"timeout={timeout} must lie in (0, 3600] seconds")
    hub = _Hub(config, repo_id, revision, endpoint or os.environ.get("HF_ENDPOINT") or None, token, timeout)
    metadata_path = hub.download(
        f"{config}/{METADATA_FILE}", revision, METADATA_MAX_BYTES, cache_dir, force_download, recorded=False
    )
    folder = metadata_path.parent
    commit = folder.parent.name  # the snapshot's folder: the shards come from the very commit the metadata did
    try:
        metadata = read_metadata(folder)
    except InputError as exc:
        _discard(metadata_path)
        raise InputError(f"{config}/{METADATA_FILE} from {hub.where} is not a config's metadata ({exc})") from None
    for split in metadata["splits"].values():
        for shard in split["shards"]:
            name = shard["file"]  # check_metadata allows only shard names such as train-00000-of-00001.parquet
            path = hub.download(f"{config}/{name}", commit, shard["size_bytes"], cache_dir, force_download)
            if shard_problem(path, shard) is None:
                continue
            _discard(path)  # a damaged copy in the cache: huggingface_hub would link it again, so fetch anew
            path = hub.download(f"{config}/{name}", commit, shard["size_bytes"], cache_dir, force=True)
            problem = shard_problem(path, shard)
            if problem is not None:
                _discard(path)
                raise InputError(
                    f"shard {config}/{name} {problem}, even downloaded a second time from {hub.where}; it was "
                    "removed from the cache: try again later, or load another revision"
                )
    return folder


def download_config(
    config: str,
    root: str | Path,
    *,
    repo_id: str = settings.REPO_ID,
    revision: str | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
    force_download: bool = False,
    timeout: float = settings.DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Downloads a config into ``root/<config>``, as torchvision's datasets do; returns that folder.

    The files are fetched (and checked, as ``fetch_config`` does) in a hidden folder inside ``root``, and the
    finished config is moved into place at once. A ``root/<config>`` already there is replaced only by the same
    data: its ``metadata.json`` must be the Hub's byte for byte (a damaged shard is repaired so). On failure,
    ``root`` holds what it held before, and a ``root`` this call created is removed.

    Raises:
        InputError: as ``fetch_config``; or ``root/<config>`` holds another config's data than the Hub's.
    """
    check_config_request(config)
    root = Path(root).expanduser()
    target = root / config
    created = next((folder for folder in reversed([root, *root.parents]) if not folder.exists()), None)
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".download-{config}-", dir=root))
    except OSError as exc:
        raise InputError(f"cannot create a folder in {root} ({exc.strerror}); choose another root") from None
    try:
        folder = fetch_config(
            config,
            repo_id=repo_id,
            revision=revision,
            cache_dir=staging / "cache",
            endpoint=endpoint,
            token=token,
            force_download=force_download,
            timeout=timeout,
        )
        metadata = read_metadata(folder)
        assembled = staging / config
        assembled.mkdir()
        names = [METADATA_FILE] + [shard["file"] for split in metadata["splits"].values() for shard in split["shards"]]
        for name in names:
            shutil.move((folder / name).resolve(), assembled / name)  # the blob itself, not the cache's link to it
        if (target / METADATA_FILE).is_file() or target.is_symlink():
            if (target / METADATA_FILE).read_bytes() != (assembled / METADATA_FILE).read_bytes():
                raise InputError(
                    f"{target} holds other data than {config!r} in {repo_id}@{revision or 'main'} (its "
                    f"{METADATA_FILE} differs); move it away to download the Hub's, or use another root"
                )
            replaced = root / f".replaced-{config}-{uuid.uuid4().hex[:8]}"
            os.rename(target, replaced)
            os.rename(assembled, target)
            shutil.rmtree(replaced)
        elif target.exists():
            raise InputError(f"{target} exists but holds no finished config; move it away to download {config!r}")
        else:
            os.rename(assembled, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return target


def _discard(path: Path) -> None:
    """Removes a file the cache holds: the snapshot's link and the blob it points to."""
    blob = path.resolve()
    path.unlink(missing_ok=True)
    blob.unlink(missing_ok=True)


class _Hub:
    """The downloads of one config: each bounded by a HubCall, each failure one InputError."""

    def __init__(
        self, config: str, repo_id: str, revision: str | None, endpoint: str | None, token: str | bool | None, timeout
    ):
        self.config, self.repo_id, self.revision = config, repo_id, revision
        self.endpoint, self.token, self.timeout = endpoint, token, timeout
        self.where = f"{repo_id}@{revision or 'main'}"

    def download(
        self,
        filename: str,
        revision: str | None,
        max_bytes: int,
        cache_dir: str | Path | None,
        force: bool,
        recorded: bool = True,
    ) -> Path:
        # A shard of recorded size gets a second per MiB on top of the timeout, so a slow line can carry it.
        call = HubCall(self.timeout + (allowance(max_bytes) if recorded else 0), max_bytes)
        blobs = self._blobs(cache_dir)
        before = set(blobs.glob("*.incomplete")) if blobs.is_dir() else set()
        try:
            with self._errors(filename, call, slack=call.timeout - self.timeout):
                return Path(
                    call.run(
                        hf_hub_download,
                        self.repo_id,
                        filename,
                        repo_type="dataset",
                        revision=revision,
                        cache_dir=cache_dir,
                        endpoint=self.endpoint,
                        token=self.token,
                        force_download=force,
                        etag_timeout=self.timeout,
                    )
                )
        except InputError:
            # A part-download this call began (refused, cut off or timed out) would only be resumed later.
            for partial in set(blobs.glob("*.incomplete")) - before if blobs.is_dir() else ():
                partial.unlink(missing_ok=True)
            raise

    def _blobs(self, cache_dir: str | Path | None) -> Path:
        from huggingface_hub import constants
        from huggingface_hub.file_download import repo_folder_name

        cache = Path(cache_dir) if cache_dir is not None else Path(constants.HF_HUB_CACHE)
        return cache / repo_folder_name(repo_id=self.repo_id, repo_type="dataset") / "blobs"

    @contextmanager
    def _errors(self, filename: str, call: HubCall, slack: float) -> Iterator[None]:
        config, where = self.config, self.where
        extra = f" plus {slack:.0f} s for its size" if slack >= 0.5 else ""
        endpoint = self.endpoint or settings.HUB_ENDPOINT
        try:
            try:
                yield
            except (InputError, HubTooLarge, HubTimeout):
                raise
            except Exception as exc:
                if call.expired:
                    raise HubTimeout(str(exc)) from None  # whatever a request cut short by the deadline raised
                raise
        except HubTimeout:
            raise InputError(
                f"the Hub at {endpoint} did not send {filename} of {where} within {self.timeout:g} s{extra}"
                f"{call.retry_note()}; nothing was kept: try again later, or pass a longer timeout="
            ) from None
        except HubTooLarge as exc:
            raise InputError(
                f"the Hub at {endpoint} sent {filename} of {where} as {exc.size:,} bytes or more, where "
                f"{exc.limit:,} were expected; it was cut off and removed: the repository or endpoint is wrong"
            ) from None
        except LocalEntryNotFoundError:  # before EntryNotFoundError, its base class
            raise InputError(
                f"the Hub at {endpoint} could not be reached for {where}{call.retry_note()}, and {config!r} is not "
                "in the local cache; check the network, or read a local build: the folder that `afro-mnist generate` "
                "wrote, as load_data's build_dir or AfroMNIST's root"
            ) from None
        except RepositoryNotFoundError:
            raise InputError(f"dataset repository {self.repo_id} was not found on the Hub; check repo_id") from None
        except RevisionNotFoundError:
            raise InputError(f"revision {self.revision!r} is not in {self.repo_id}; check revision") from None
        except EntryNotFoundError:
            raise InputError(f"config {config!r} is not published in {where}; check the config name") from None
        except HFValidationError as exc:
            raise InputError(
                f"repo_id {self.repo_id!r} is not a Hub repository id ({exc}); write it as OWNER/NAME"
            ) from None
        except OfflineModeIsEnabled:
            raise InputError(
                f"HF_HUB_OFFLINE is set and {config!r} is not in the local cache; unset it to download"
            ) from None
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "no answer"
            raise InputError(
                f"the Hub refused to send {filename} of {where} (HTTP {status}){call.retry_note()}; try again later"
            ) from None
        except (HTTPError, OSError, ValueError) as exc:
            # A dropped connection (RemoteProtocolError), a body shorter than announced, a malformed answer.
            kind = "did not answer in time" if isinstance(exc, TimeoutException) else "broke off"
            raise InputError(
                f"the Hub at {endpoint} {kind} while sending {filename} of {where} ({type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:200]}){call.retry_note()}; nothing was kept: try again later"
            ) from None

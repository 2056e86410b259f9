"""Publishing generated configs to a Hugging Face Hub dataset repository, in one atomic commit.

    afro-mnist push --repo-id OWNER/NAME [--configs NAME ...] [--from DIR] [--revision BRANCH]
                    [--create [--public]] [--create-pr] [--private] [--dry-run] [--endpoint URL] [--timeout SECONDS]

    from generator.repository import publish
    publish.push(Path("build/afro_mnist"), ["vai"], publish.HubTarget(repo_id="me/afro_mnist"), dry_run=True)

The command line (``generator.cli``) parses those options and calls ``push``; from Python, call it directly.

Everything that can fail is tried before anything is sent: the local shards are checked against their
``metadata.json`` (sizes, row counts, SHA-256), the token is found and asked whether it may write, the repository
and revision are looked up, and the card is re-rendered for every config the repository will hold, the pushed
ones and those already on the Hub. Then one ``create_commit`` adds the pushed configs' files and the root files,
and deletes whatever else is in the pushed config folders (stale shards of an earlier, larger run): the Hub gets
all of it or none of it. Configs not pushed stay as they are.

Every file sent is a plain file name inside its config folder (no folder, no ``..``, no link leading out) or a
root file rendered here, and every config file is checked against the SHA-256 its metadata records.
``--dry-run`` reads nothing from the Hub and needs no token: it lists the files the push would send.
``--create`` creates the repository first if it does not exist, private unless ``--public`` is given; a
repository that exists is never changed. Every call to the Hub ends within ``--timeout`` seconds (60 by default),
wall clock, its retries included (``generator.repository.hub_client``).

Each failure raises PublishError, an InputError whose one-line message names the bad value (by its command-line
flag) and what to do; the command line prints it on stderr with exit status 2. Whatever a server answers, and any
exception's text, is printed with the token in use and anything token-shaped redacted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, RepoFile, get_token
from huggingface_hub.errors import (
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

import generator
from generator import settings
from generator.errors import InputError, register_secret
from generator.layout import (
    BASELINE_FILE,
    DEFAULT_BUILD_DIR,
    METADATA_FILE,
    check_config_name,
    check_metadata,
    config_folders,
    member,
    sha256_file,
)
from generator.repository.card import ConfigRecord, read_config, root_files
from generator.repository.hub_client import HubCall, HubTimeout, HubTooLarge, allowance

try:  # the HTTP client huggingface_hub sends with: httpx2 from 2.x on, httpx before
    from httpx2 import TimeoutException, TransportError
except ImportError:
    from httpx import TimeoutException, TransportError

DEFAULT_ENDPOINT = settings.HUB_ENDPOINT
# Seconds, wall clock, that each call to the Hub may take, its retries included (huggingface_hub has no such limit).
DEFAULT_TIMEOUT = settings.PUSH_TIMEOUT_S
# The most bytes a config's metadata.json or baseline.json read back from the Hub may have (they are a few KB).
REMOTE_JSON_MAX_BYTES = 4 * 2**20
_REMOTE_METADATA = re.compile(rf"([a-z0-9_]+)/{re.escape(METADATA_FILE)}")


class PublishError(InputError):
    """A push that cannot go ahead; like every InputError, its message is one line naming the value to fix."""


@dataclass(frozen=True)
class FileOperation:
    """One change to the repository: add a file (from disk or from memory), or delete one."""

    path_in_repo: str
    content: Path | bytes | None = None  # None: delete

    @property
    def size(self) -> int:
        if isinstance(self.content, Path):
            return self.content.stat().st_size
        return len(self.content or b"")

    def describe(self) -> str:
        if self.content is None:
            return f"delete  {self.path_in_repo}"
        return f"add     {self.path_in_repo} ({self.size:,} bytes)"

    def to_hub(self) -> CommitOperationAdd | CommitOperationDelete:
        if self.content is None:
            return CommitOperationDelete(path_in_repo=self.path_in_repo)
        source = str(self.content) if isinstance(self.content, Path) else self.content
        return CommitOperationAdd(path_in_repo=self.path_in_repo, path_or_fileobj=source)


@dataclass(frozen=True)
class HubTarget:
    """Where a push goes, and how it talks to the Hub.

    Attributes:
        repo_id: the dataset repository, ``OWNER/NAME`` (``--repo-id``).
        revision: the branch to commit to; None: main (``--revision``).
        create_pr: open a pull request instead of committing (``--create-pr``).
        private: refuse to publish into a public repository (``--private``).
        create: create the repository if it does not exist (``--create``), private unless ``public``.
        public: with ``create``, make a new repository public (``--public``).
        endpoint: the Hub's address; None: ``$HF_ENDPOINT``, else ``DEFAULT_ENDPOINT`` (``--endpoint``).
        timeout: the seconds, wall clock, each call to the Hub may take, in (0, 3600] (``--timeout``); a call
            that uploads gets a second more per MiB.
    """

    repo_id: str = settings.REPO_ID
    revision: str | None = None
    create_pr: bool = False
    private: bool = False
    create: bool = False
    public: bool = False
    endpoint: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def check(self) -> None:
        """Raises PublishError for a malformed repository id or timeout, before any file is read."""
        check_repo_id(self.repo_id)
        if not 0 < self.timeout <= 3600:
            raise PublishError(f"--timeout {self.timeout} must lie in (0, 3600] seconds")
        if self.public and not self.create:
            raise PublishError("--public applies to a repository --create makes; add --create, or drop --public")
        if self.public and self.private:
            raise PublishError("--public and --private contradict each other; keep one")


def push(
    source: Path = DEFAULT_BUILD_DIR,
    configs: list[str] | None = None,
    target: HubTarget | None = None,
    *,
    dry_run: bool = False,
) -> None:
    """Publishes ``configs`` (default: all) of the build folder ``source`` to ``target``, in one commit.

    Prints each file operation and the commit's address. With ``dry_run``, it reads no token, sends no request,
    and prints the files the push would send. The token comes from ``HF_TOKEN`` or the stored login.

    Example:
        ``push(Path("build/afro_mnist"), ["vai"], HubTarget(repo_id="me/afro_mnist"), dry_run=True)``

    Raises:
        PublishError: anything that stops the push; nothing has been committed then.
    """
    target = target or HubTarget()
    target.check()
    records = check_local_configs(source, configs)
    if dry_run:
        operations = plan_operations(records, [], {}, target.repo_id)
        for operation in operations:
            print(operation.describe())
        if target.create:
            print(f"--create: {target.repo_id} is created ({'public' if target.public else 'private'}) if missing")
        print(
            f"dry run: {len(operations)} files to send to {target.repo_id}; no token was read and nothing was sent. "
            "The push itself leaves out files the Hub holds already, deletes other files in the pushed config "
            "folders, and renders the card with the configs the Hub holds too."
        )
        return
    endpoint, hub = _connect(target)

    hub.check_write_access()
    if target.create:
        hub.create_if_missing()
    head = hub.head_commit()
    remote_files = hub.list_files(head)
    pushed = {record.name for record in records}
    kept = [hub.remote_config(name, head, remote_files) for name in sorted(_remote_configs(remote_files) - pushed)]
    operations = plan_operations(records, kept, remote_files, target.repo_id)

    where = f"{endpoint}/datasets/{target.repo_id}@{target.revision or 'main'}"
    for operation in operations:
        print(operation.describe())
    if not operations:
        print(f"nothing to publish: {where} already holds these files")
        return
    url = hub.commit(operations, head, records)
    print(f"{'opened' if target.create_pr else 'committed'} {len(operations)} file operations to {where}: {url}")


def check_hub(target: HubTarget) -> None:
    """Checks, before any long work, that a push could go ahead on the Hub's side.

    That is a valid ``--repo-id``, a token with write access, and the repository and revision (and ``--private``).
    ``scripts/push_to_hub.py --regenerate`` calls it before it spends minutes regenerating.

    Raises:
        PublishError: one of these fails; nothing has been sent but read-only requests.
    """
    target.check()
    _, hub = _connect(target)
    hub.check_write_access()
    if target.create:
        hub.create_if_missing()
    hub.head_commit()


def _connect(target: HubTarget) -> tuple[str, _Hub]:
    token = find_token()
    register_secret(token)  # whatever a server echoes, the token is never printed
    endpoint = (target.endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    return endpoint, _Hub(HfApi(endpoint=endpoint, token=token), target)


# --- local checks ----------------------------------------------------------------------------------------------


def check_repo_id(repo_id: str) -> None:
    """Raises PublishError unless ``repo_id`` is ``OWNER/NAME`` as the Hub spells repository ids."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        valid = False
    else:
        valid = repo_id.count("/") == 1
    if not valid:
        raise PublishError(f"--repo-id {repo_id!r} is not a Hub repository id; write it as OWNER/NAME")


def check_local_configs(source: Path, names: list[str] | None) -> list[ConfigRecord]:
    """The configs to push, each checked against its ``metadata.json``.

    Raises:
        PublishError: the folder or a config is missing, or a shard is missing, unlisted or differs from its
            metadata (size, SHA-256 or row count).
    """
    if not source.is_dir():
        raise PublishError(f"--from {source} is not a folder; generate the data first (afro-mnist generate)")
    for name in names or []:
        check_config_name(name, "--configs")
    available = [folder.name for folder in config_folders(source)]
    if names is None:
        if not available:
            raise PublishError(f"--from {source} holds no generated config (no */{METADATA_FILE}); generate first")
        names = available
    for name in names:
        if name not in available:
            if (source / name).is_dir():
                raise PublishError(f"{source / name} has no {METADATA_FILE}, so it is incomplete; {_regenerate(name)}")
            known = ", ".join(available) or "none"
            raise PublishError(f"config {name!r} is not in --from {source} (it has: {known}); generate it first")
    records = []
    for name in dict.fromkeys(names):
        record = read_config(source / name)  # an unreadable metadata.json raises InputError, naming it
        check_shards(record)
        records.append(record)
    return records


def check_shards(record: ConfigRecord) -> None:
    """Raises PublishError unless the config folder holds exactly the files its metadata lists, intact."""
    folder, metadata = record.folder, record.metadata
    assert folder is not None
    if metadata["config"] != folder.name:
        raise PublishError(
            f"{folder / METADATA_FILE} describes config {metadata['config']!r}; {_regenerate(folder.name)}"
        )
    listed = set()
    for split, info in metadata["splits"].items():
        rows_in_split = 0
        for shard in info["shards"]:
            path = member(folder, shard["file"])
            listed.add(shard["file"])
            if not path.is_file():
                raise PublishError(f"shard {path} is missing; {_regenerate(record.name)}")
            if path.stat().st_size != shard["size_bytes"]:
                raise PublishError(
                    f"shard {path} has {path.stat().st_size} bytes, but {METADATA_FILE} records "
                    f"{shard['size_bytes']}; {_regenerate(record.name)}"
                )
            if sha256_file(path) != shard["sha256"]:
                raise PublishError(
                    f"shard {path} does not match the SHA-256 in {METADATA_FILE}; {_regenerate(record.name)}"
                )
            try:
                rows = pq.ParquetFile(path).metadata.num_rows
            except (OSError, pa.ArrowException) as exc:
                raise PublishError(f"shard {path} is not a parquet file ({exc}); {_regenerate(record.name)}") from None
            if rows != shard["num_examples"]:
                raise PublishError(
                    f"shard {path} has {rows} rows, but {METADATA_FILE} records {shard['num_examples']}; "
                    f"{_regenerate(record.name)}"
                )
            rows_in_split += rows
        if rows_in_split != info["num_examples"]:
            raise PublishError(
                f"the {split} shards of {folder} hold {rows_in_split} examples, but {METADATA_FILE} records "
                f"{info['num_examples']}; {_regenerate(record.name)}"
            )
    unlisted = sorted(path.name for path in folder.glob("*.parquet") if path.name not in listed)
    if unlisted:
        raise PublishError(f"{folder / unlisted[0]} is not listed in {METADATA_FILE}; remove it or regenerate")
    recipe = member(folder, metadata["recipe_file"])
    if not recipe.is_file():
        raise PublishError(f"recipe {recipe} is missing; {_regenerate(record.name)}")
    if sha256_file(recipe) != metadata["recipe_sha256"]:
        raise PublishError(f"recipe {recipe} does not match the SHA-256 in {METADATA_FILE}; {_regenerate(record.name)}")
    member(folder, METADATA_FILE)
    if record.baseline is not None:
        member(folder, BASELINE_FILE)


def _regenerate(config: str) -> str:
    return f"regenerate it (afro-mnist generate --configs {config} --overwrite)"


def find_token() -> str:
    """The token from ``HF_TOKEN`` or the stored login; it is never printed.

    Raises:
        PublishError: there is neither.
    """
    token = get_token()
    if not token:
        raise PublishError("no Hugging Face token: set HF_TOKEN to a token with write access, or run hf auth login")
    return token


# --- the commit ------------------------------------------------------------------------------------------------


def plan_operations(
    records: list[ConfigRecord], kept: list[ConfigRecord], remote_files: dict[str, RepoFile], repo_id: str
) -> list[FileOperation]:
    """The commit: the pushed configs' files, the root files for all configs, and deletions of stale files.

    A pushed config's folder on the Hub ends up holding exactly its shards, metadata, recipe and baseline. Files
    the Hub already holds byte for byte are left out, as ``create_commit`` would drop them anyway.
    """
    additions: dict[str, Path | bytes] = {}
    for record in records:
        assert record.folder is not None
        files = [METADATA_FILE, record.metadata["recipe_file"]]
        files += [shard["file"] for split in record.metadata["splits"].values() for shard in split["shards"]]
        if record.baseline is not None:
            files.append(BASELINE_FILE)
        # Each is a plain name inside the config folder (checked again here, whoever calls this).
        additions |= {f"{record.name}/{name}": member(record.folder, name) for name in files}
    additions |= root_files([*records, *kept], repo_id)
    stale = {path for path in remote_files for record in records if path.startswith(f"{record.name}/")}
    # A script at the root named like the repository makes `datasets` refuse the whole repository.
    root_script = f"{repo_id.split('/')[-1]}.py"
    if root_script in remote_files:
        stale.add(root_script)
    changed = [
        FileOperation(path, content)
        for path, content in sorted(additions.items())
        if not _is_on_hub(content, remote_files.get(path))
    ]
    return changed + [FileOperation(path) for path in sorted(stale - set(additions))]


def _is_on_hub(content: Path | bytes, remote: RepoFile | None) -> bool:
    """Whether the Hub holds exactly these bytes: LFS files by SHA-256, the others by git blob id."""
    if remote is None:
        return False
    data = content.read_bytes() if isinstance(content, Path) else content
    if remote.lfs is not None:
        return remote.lfs.sha256 == hashlib.sha256(data).hexdigest()
    return remote.blob_id == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _remote_configs(remote_files: dict[str, RepoFile]) -> set[str]:
    return {match[1] for path in remote_files if (match := _REMOTE_METADATA.fullmatch(path))}


class _Hub:
    """The Hub calls of one push, each turning a failure into a one-line PublishError."""

    def __init__(self, api: HfApi, target: HubTarget):
        self.api = api
        self.repo_id = target.repo_id
        self.revision = target.revision
        self.create_pr = target.create_pr
        self.private = target.private
        self.create, self.public = target.create, target.public
        self.timeout = target.timeout

    def check_write_access(self) -> None:
        with self._errors("checking the token") as call:
            who = call.run(self.api.whoami)
        auth = who.get("auth") if isinstance(who, dict) else None
        token = auth.get("accessToken", {}) if isinstance(auth, dict) else None
        if not isinstance(token, dict):
            raise self._malformed("checking the token", "no auth.accessToken in its answer")
        # Fine-grained tokens list their rights per repository; the commit itself tells if one may not write.
        if token.get("role") == "read":
            raise PublishError(
                f"the token is read-only, so it cannot write to {self.repo_id}; create a write token at "
                f"{self.api.endpoint}/settings/tokens and set HF_TOKEN to it"
            )

    def create_if_missing(self) -> None:
        """Creates the repository (private unless --public) if it does not exist; an existing one is left as it is."""
        with self._errors("looking up the repository") as call:
            exists = call.run(self.api.repo_exists, self.repo_id, repo_type="dataset")
        if exists:
            return
        visibility = "public" if self.public else "private"
        with self._errors("creating the repository") as call:
            url = call.run(
                self.api.create_repo, self.repo_id, repo_type="dataset", private=not self.public, exist_ok=True
            )
        print(f"created the {visibility} dataset repository {url}")

    def head_commit(self) -> str:
        """The commit the push builds on; the commit fails if the branch moves on meanwhile."""
        with self._errors("looking up the repository") as call:
            info = call.run(self.api.dataset_info, self.repo_id, revision=self.revision)
        if not isinstance(info.sha, str) or not re.fullmatch(r"[0-9a-f]{40}", info.sha):
            raise self._malformed("looking up the repository", "no commit id (sha) in its answer")
        if self.private and not info.private:
            raise PublishError(f"--private was given, but {self.repo_id} is public; make it private or drop --private")
        return info.sha

    def list_files(self, commit: str) -> dict[str, RepoFile]:
        def listing() -> dict[str, RepoFile]:  # the pages are fetched as the listing is read, so read it here
            entries = self.api.list_repo_tree(self.repo_id, repo_type="dataset", revision=commit, recursive=True)
            return {entry.path: entry for entry in entries if isinstance(entry, RepoFile)}

        with self._errors("listing the repository") as call:
            return call.run(listing)

    def remote_config(self, name: str, commit: str, remote_files: dict[str, RepoFile]) -> ConfigRecord:
        """A config already on the Hub, read from its ``metadata.json`` (and ``baseline.json``, if any)."""
        documents = {}
        with tempfile.TemporaryDirectory() as cache:
            for file in (METADATA_FILE, BASELINE_FILE):
                if f"{name}/{file}" not in remote_files:
                    continue
                with self._errors(f"reading config {name!r} from the Hub", REMOTE_JSON_MAX_BYTES) as call:
                    path = call.run(
                        self.api.hf_hub_download,
                        self.repo_id,
                        f"{name}/{file}",
                        repo_type="dataset",
                        revision=commit,
                        cache_dir=cache,
                    )
                try:
                    documents[file] = json.loads(Path(path).read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
                    raise self._malformed(f"reading {name}/{file}", f"not JSON: {exc}") from None
        source = f"{self.repo_id}/{name}/{METADATA_FILE} on the Hub"
        check_metadata(documents.get(METADATA_FILE), source)
        baseline = documents.get(BASELINE_FILE)
        if baseline is not None and not isinstance(baseline, dict):
            raise self._malformed(f"reading {name}/{BASELINE_FILE}", "not a JSON object")
        return ConfigRecord(metadata=documents[METADATA_FILE], baseline=baseline)

    def _malformed(self, action: str, what: str) -> PublishError:
        return PublishError(
            f"the Hub at {self.api.endpoint} gave an answer that is not the Hub's while {action} ({what}); "
            "check --endpoint / HF_ENDPOINT, or try again later"
        )

    def commit(self, operations: list[FileOperation], parent: str, records: list[ConfigRecord]) -> str:
        names = ", ".join(record.name for record in records)
        seeds = ", ".join(sorted({str(record.metadata["seed"]) for record in records}))
        hub_operations = [operation.to_hub() for operation in operations]
        with self._errors("committing", upload=sum(operation.size for operation in operations)) as call:
            info = call.run(
                self.api.create_commit,
                self.repo_id,
                hub_operations,
                commit_message=f"Publish {names} (afro-mnist {generator.__version__})",
                commit_description=f"Generated with seed {seeds}; every shard checked against {METADATA_FILE}.",
                repo_type="dataset",
                revision=self.revision,
                create_pr=self.create_pr,
                parent_commit=parent,
            )
        return info.pr_url or info.commit_url

    @contextmanager
    def _errors(self, action: str, max_bytes: int | None = None, upload: int = 0) -> Iterator[HubCall]:
        """A HubCall within ``--timeout`` (plus a second per MiB to ``upload``); its failures become one-line errors.

        The error printer redacts the token from them.
        """
        endpoint, repo = self.api.endpoint, self.repo_id
        call = HubCall(self.timeout + allowance(upload), max_bytes)
        extra = f" plus {allowance(upload):.0f} s for its {upload / 2**20:.1f} MiB" if allowance(upload) >= 0.5 else ""
        try:
            try:
                yield call
            except PublishError:
                raise
            except Exception as exc:
                if call.expired and not isinstance(exc, HubTooLarge):
                    raise HubTimeout(str(exc)) from None  # whatever a request cut short by the deadline raised
                raise
        except HubTimeout:
            outcome = (
                f"the commit may still land, so look at {endpoint}/datasets/{repo} before pushing again"
                if any("/commit/" in url for method, url in call.sent if method == "POST")
                else "nothing was committed; try again later, or raise --timeout"
            )
            raise PublishError(
                f"the Hub at {endpoint} did not finish {action} within --timeout {self.timeout:g} s{extra}"
                f"{call.retry_note()}; {outcome}"
            ) from None
        except HubTooLarge as exc:
            raise self._malformed(action, f"an answer of {exc.size:,} bytes or more, over {exc.limit:,}") from None
        except RevisionNotFoundError:
            raise PublishError(
                f"--revision {self.revision} does not exist in {repo}; create the branch first "
                f"(hf repos branch create {repo} {self.revision} --repo-type dataset) or leave --revision out"
            ) from None
        except RepositoryNotFoundError:
            private = " --private" if self.private else ""
            raise PublishError(
                f"dataset repository {repo} does not exist at {endpoint}, or the token cannot see it; create it "
                f"first (hf repos create {repo} --repo-type dataset{private}, or push with --create) or fix --repo-id"
            ) from None
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status == 401:
                raise PublishError(
                    f"the Hub at {endpoint} rejected the token while {action}; set HF_TOKEN to a valid token"
                ) from None
            if status == 403:
                raise PublishError(
                    f"the token may not write to {repo}; give it write access to the repository or use another "
                    f"token ({endpoint}/settings/tokens)"
                ) from None
            if status == 412:
                raise PublishError(f"{repo} changed while {action}; run the push again") from None
            detail = (exc.server_message or "").strip().splitlines()[:1]
            raise PublishError(
                f"the Hub at {endpoint} answered HTTP {status} while {action}"
                f"{': ' + detail[0][:200] if detail else ''}{call.retry_note()}; try again later"
            ) from None
        except OfflineModeIsEnabled:
            raise PublishError("HF_HUB_OFFLINE is set, so nothing can be sent; unset it to push") from None
        except (TransportError, LocalEntryNotFoundError) as exc:
            cause = exc.__cause__ or exc
            if isinstance(cause, TimeoutException) or isinstance(exc, TimeoutException):
                raise PublishError(
                    f"the Hub at {endpoint} did not answer within {self.timeout:g} s while {action}"
                    f"{call.retry_note()}; nothing was committed; try again later, or raise --timeout"
                ) from None
            raise PublishError(
                f"cannot reach the Hub at {endpoint} while {action} ({type(cause).__name__}){call.retry_note()}; "
                "check the network, or --endpoint / HF_ENDPOINT"
            ) from None
        except OSError as exc:  # huggingface_hub's own check that a download arrived whole, among others
            raise PublishError(
                f"the Hub at {endpoint} broke off while {action} ({type(exc).__name__}: {exc}){call.retry_note()}; "
                "try again later"
            ) from None
        except ValueError as exc:
            # create_commit has the Hub validate the card's YAML first, and raises this if it is refused.
            if "README.md" in str(exc) and not isinstance(exc, json.JSONDecodeError):
                detail = " ".join(line.strip("- ") for line in str(exc).splitlines())
                raise PublishError(
                    f"the Hub refused the card ({detail}); fix repository/templates/dataset_card.md or card.py"
                ) from None
            raise self._malformed(action, f"{type(exc).__name__}: {exc}") from None
        except (KeyError, TypeError, AttributeError) as exc:
            # The client builds its objects from the answer's JSON: a list, or a missing key, ends here.
            raise self._malformed(action, f"{type(exc).__name__}: {exc}") from None

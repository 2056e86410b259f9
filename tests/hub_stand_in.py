"""A loopback stand-in for the few Hugging Face Hub endpoints a push calls, for tests.

It serves, on 127.0.0.1 and a free port, what ``huggingface_hub``'s own HTTP client asks for during a push:

- ``GET  /api/whoami-v2``: who a token belongs to, and its role;
- ``GET  /api/datasets/{repo}[/revision/{rev}]``: the repository's head commit and visibility;
- ``GET  /api/datasets/{repo}/tree/{rev}[/{path}]``: its files;
- ``HEAD|GET /datasets/{repo}/resolve/{rev}/{path}``: one file, with the headers ``hf_hub_download`` needs;
- ``POST /api/validate-yaml``: the card check ``create_commit`` makes first;
- ``POST /api/datasets/{repo}/preupload/{rev}``: how each file is to be uploaded;
- ``POST /api/datasets/{repo}/commit/{rev}``: the commit, applied all at once or not at all.

The client decides between Xet and plain HTTP per file: a file the preupload endpoint calls "lfs" goes through
Xet whenever ``hf_xet`` is installed (``huggingface_hub.utils.is_xet_available()``), and no server answer changes
that. So the stand-in calls every file "regular": its bytes then travel base64-encoded inside the commit request,
and neither Xet nor the LFS endpoints are ever called. Tokens are made up; nothing leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

WRITE_TOKEN = "hf_standin_write"
READ_TOKEN = "hf_standin_read"
# A fine-grained token without write rights: only the preupload and commit endpoints refuse it.
FINE_GRAINED_READ_TOKEN = "hf_standin_finegrained_read"
USER = "ada"


@dataclass
class Repository:
    """A dataset repository: branches (and pull-request refs) pointing at snapshots of files."""

    private: bool = False
    refs: dict[str, str] = field(default_factory=dict)  # ref -> commit
    snapshots: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit -> {path: content}
    pull_requests: int = 0

    def resolve(self, revision: str) -> str | None:
        """The commit a branch, PR ref or commit id names, or None."""
        if revision in self.refs:
            return self.refs[revision]
        return revision if revision in self.snapshots else None


@dataclass(frozen=True)
class Commit:
    repo_id: str
    ref: str
    oid: str
    summary: str
    added: tuple[str, ...]
    deleted: tuple[str, ...]


class HubStandIn:
    """The stand-in server and its state; use as a context manager, or call ``close()``."""

    def __init__(self):
        self.repositories: dict[str, Repository] = {}
        self.commits: list[Commit] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.card_errors: list[str] = []  # what /api/validate-yaml finds wrong with any card, on top of bad YAML
        self.tokens = {
            WRITE_TOKEN: {"role": "write", "can_write": True},
            READ_TOKEN: {"role": "read", "can_write": False},
            FINE_GRAINED_READ_TOKEN: {"role": "fineGrained", "can_write": False},
        }
        self._lock = threading.Lock()
        self._oids = (hashlib.sha1(f"commit {n}".encode()).hexdigest() for n in itertools.count())
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.hub = self  # type: ignore[attr-defined]
        # A short poll keeps close() quick: shutdown() waits for the serving loop to look up.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> HubStandIn:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- what tests set up and inspect ---

    def create_repo(self, repo_id: str, private: bool = False, files: dict[str, bytes] | None = None) -> None:
        """A repository whose main branch holds ``files`` (empty by default) in an initial commit."""
        oid = next(self._oids)
        self.repositories[repo_id] = Repository(private=private, refs={"main": oid}, snapshots={oid: dict(files or {})})

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        repo = self.repositories[repo_id]
        return dict(repo.snapshots[repo.resolve(revision) or ""])

    def head(self, repo_id: str, revision: str = "main") -> str:
        """The commit a revision points at."""
        return self.repositories[repo_id].resolve(revision) or ""

    def export(self, repo_id: str, folder: Path, revision: str = "main") -> Path:
        """Writes the files of a revision under ``folder``, as a clone would, and returns ``folder``."""
        for path, content in self.files(repo_id, revision).items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(content)
        return folder

    # --- the endpoints ---

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> _Response:
        parts = urlsplit(url)
        segments = [unquote(segment) for segment in parts.path.strip("/").split("/")]
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        self.requests.append((method, parts.path))
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token and token not in self.tokens:
            return _error(401, "Invalid credentials in Authorization header")
        grant = self.tokens.get(token)

        if segments == ["api", "whoami-v2"] and method == "GET":
            if grant is None:
                return _error(401, "Invalid credentials in Authorization header")
            access = {"displayName": "stand-in", "role": grant["role"]}
            return _json({"type": "user", "name": USER, "auth": {"type": "access_token", "accessToken": access}})
        if segments == ["api", "validate-yaml"] and method == "POST":
            return self._validate_yaml(json.loads(body), self.card_errors)
        if len(segments) >= 4 and segments[:2] == ["api", "datasets"]:
            return self._api(method, "/".join(segments[2:4]), segments[4:], query, grant, body)
        if len(segments) >= 6 and segments[0] == "datasets" and segments[3] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve("/".join(segments[1:3]), segments[4], "/".join(segments[5:]), grant, method)
        return _error(404, f"the stand-in has no endpoint {method} {parts.path}")

    def _repository(self, repo_id: str, grant: dict | None) -> Repository | None:
        repo = self.repositories.get(repo_id)
        return None if repo is None or (repo.private and grant is None) else repo

    def _api(
        self, method: str, repo_id: str, rest: list[str], query: dict, grant: dict | None, body: bytes
    ) -> _Response:
        repo = self._repository(repo_id, grant)
        if repo is None:
            return _error(404, "Repository not found", code="RepoNotFound")
        action, revision = (rest[0], rest[1]) if len(rest) >= 2 else ("revision", "main")
        commit = repo.resolve(revision)
        if commit is None:
            return _error(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        files = repo.snapshots[commit]
        if method == "GET" and action == "revision":
            siblings = [{"rfilename": path} for path in sorted(files)]
            return _json({"id": repo_id, "sha": commit, "private": repo.private, "siblings": siblings})
        if method == "GET" and action == "tree":
            return _json(_tree(files, "/".join(rest[2:]), str(query.get("recursive")).lower() == "true"))
        if method == "POST" and action in ("preupload", "commit"):
            if not (grant and grant["can_write"]):
                return _error(403, "You don't have the rights to write to this repository")
            if action == "preupload":
                return self._preupload(files, json.loads(body))
            with self._lock:
                return self._commit(repo_id, repo, revision, body, create_pr=query.get("create_pr") == "1")
        return _error(404, f"the stand-in has no endpoint {method} api/datasets/{repo_id}/{'/'.join(rest)}")

    def _resolve(self, repo_id: str, revision: str, path: str, grant: dict | None, method: str) -> _Response:
        repo = self._repository(repo_id, grant)
        if repo is None:
            return _error(404, "Repository not found", code="RepoNotFound")
        commit = repo.resolve(revision)
        if commit is None:
            return _error(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        if path not in repo.snapshots[commit]:
            return _error(404, "Entry not found", code="EntryNotFound", headers={"X-Repo-Commit": commit})
        content = repo.snapshots[commit][path]
        headers = {"X-Repo-Commit": commit, "ETag": f'"{_git_hash(content)}"'}
        return _Response(200, content if method == "GET" else b"", headers, length=len(content))

    @staticmethod
    def _validate_yaml(payload: dict, card_errors: list[str]) -> _Response:
        text = payload.get("content", "")
        front = text.split("---\n")[1] if text.startswith("---\n") else ""
        try:
            errors = [] if isinstance(yaml.safe_load(front), dict) else ["no YAML metadata"]
        except yaml.YAMLError:
            errors = ["the YAML metadata does not parse"]
        errors += card_errors
        return _json({"errors": [{"message": e} for e in errors], "warnings": []}, 400 if errors else 200)

    @staticmethod
    def _preupload(files: dict[str, bytes], payload: dict) -> _Response:
        answers = [
            {
                "path": item["path"],
                "uploadMode": "regular",
                "shouldIgnore": False,
                "oid": _git_hash(files[item["path"]]) if item["path"] in files else None,
            }
            for item in payload["files"]
        ]
        return _json({"files": answers})

    def _commit(self, repo_id: str, repo: Repository, revision: str, body: bytes, create_pr: bool) -> _Response:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = next(line["value"] for line in lines if line["key"] == "header")
        head = repo.refs.get(revision)
        if head is None:
            return _error(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        parent = header.get("parentCommit") or head
        if not create_pr and parent != head:
            return _error(412, "A commit has happened since. Please refresh and try again.")
        files = dict(repo.snapshots[parent])
        added, deleted = [], []
        for line in lines:
            value = line["value"]
            if line["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
                added.append(value["path"])
            elif line["key"] == "deletedFile":
                if files.pop(value["path"], None) is None:
                    return _error(404, "A file with this name doesn't exist", code="EntryNotFound")
                deleted.append(value["path"])
            elif line["key"] == "deletedFolder":
                doomed = [path for path in files if path.startswith(value["path"].rstrip("/") + "/")]
                for path in doomed:
                    del files[path]
                deleted += doomed
            elif line["key"] != "header":
                return _error(400, f"the stand-in takes regular uploads only, not {line['key']}")
        oid = next(self._oids)
        repo.snapshots[oid] = files
        ref, response = revision, {"commitUrl": f"{self.url}/datasets/{repo_id}/commit/{oid}", "commitOid": oid}
        if create_pr:
            repo.pull_requests += 1
            ref = f"refs/pr/{repo.pull_requests}"
            response["pullRequestUrl"] = f"{self.url}/datasets/{repo_id}/discussions/{repo.pull_requests}"
        repo.refs[ref] = oid
        self.commits.append(Commit(repo_id, ref, oid, header["summary"], tuple(added), tuple(deleted)))
        return _json(response)


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    headers: dict[str, str]
    length: int | None = None  # Content-Length when it differs from len(body), as for HEAD


def _json(payload: object, status: int = 200) -> _Response:
    return _Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def _error(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> _Response:
    extra = {"X-Error-Message": message, **({"X-Error-Code": code} if code else {}), **(headers or {})}
    response = _json({"error": message}, status)
    return _Response(status, response.body, {**response.headers, **extra})


def _tree(files: dict[str, bytes], folder: str, recursive: bool) -> list[dict]:
    prefix = f"{folder}/" if folder else ""
    entries: dict[str, dict] = {}
    for path, content in sorted(files.items()):
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        # Each folder on the way is listed once, as the Hub does.
        for depth in range(1, len(parts) if recursive else min(len(parts), 2)):
            directory = prefix + "/".join(parts[:depth])
            entries.setdefault(directory, {"type": "directory", "oid": "0" * 40, "path": directory})
        if recursive or len(parts) == 1:
            entries[path] = {"type": "file", "oid": _git_hash(content), "size": len(content), "path": path}
    return list(entries.values())


def _git_hash(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        response = self.server.hub.handle(self.command, self.path, headers, body)  # type: ignore[attr-defined]
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body) if response.length is None else response.length))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_HEAD = do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests look at ``HubStandIn.requests`` instead."""

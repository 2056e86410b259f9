"""A loopback stand-in for the Hugging Face Hub endpoints that a push, a download and streaming call, for tests.

It serves, on 127.0.0.1 and a free port, what ``huggingface_hub``'s own HTTP client asks for (each endpoint's
*stage*, the name ``HubStandIn.faults`` knows it by, in brackets):

- ``GET  /api/whoami-v2``: who a token belongs to, and its role [whoami];
- ``POST /api/repos/create``: a new dataset repository, private or public [create-repo];
- ``GET  /api/datasets/{repo}[/revision/{rev}]``: the repository's head commit and visibility [lookup];
- ``GET  /api/datasets/{repo}/tree/{rev}[/{path}]``: its files [tree];
- ``POST /api/datasets/{repo}/paths-info/{rev}``: some of its files, by path [paths-info];
- ``HEAD /datasets/{repo}/resolve/{rev}/{path}``: one file's headers, which ``hf_hub_download`` needs [resolve-head];
- ``GET  /datasets/{repo}/resolve/{rev}/{path}``: one file, whole or an HTTP ``Range`` of it [resolve];
- ``POST /api/validate-yaml``: the card check ``create_commit`` makes first [validate-yaml];
- ``POST /api/datasets/{repo}/preupload/{rev}``: how each file is to be uploaded [preupload];
- ``POST /api/datasets/{repo}/commit/{rev}``: the commit, applied all at once or not at all [commit].

A test makes it misbehave at one stage with ``hub.faults[stage] = Fault(...)``: never answer, answer a byte at a
time, send a file far larger than it is, or drop the connection halfway through.

From a shell, ``python -m tests.hub_stand_in --port 8765 --repo ada/afro_mnist --from build/afro_mnist`` serves a
repository holding a build until Ctrl-C, and prints the endpoint and the tokens to use with it::

    HF_TOKEN=hf_standin_write afro-mnist push --repo-id ada/afro_mnist --endpoint http://127.0.0.1:8765

The client decides between Xet and plain HTTP per file: a file the preupload endpoint calls "lfs" goes through
Xet whenever ``hf_xet`` is installed (``huggingface_hub.utils.is_xet_available()``), and no server answer changes
that. So the stand-in calls every file "regular": its bytes then travel base64-encoded inside the commit request,
and neither Xet nor the LFS endpoints are ever called. Tokens are made up; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import re
import signal
import sys
import threading
from collections.abc import Iterator
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
class Fault:
    """How the stand-in misbehaves at one stage (see the module docstring for the stages' names).

    Attributes:
        kind: ``"silent"``: reads the request and never answers (until the stand-in closes);
            ``"trickle"``: sends its answer ``chunk`` bytes (one by default) every ``interval`` seconds;
            ``"oversize"``: serves a file as ``size`` bytes (its own bytes, then zeros); when ``announced``, its
            headers (HEAD and GET) say so, otherwise HEAD gives the true size and the GET body has no length;
            ``"drop"``: sends the headers and half the body, then closes the connection;
            ``"status"``: answers HTTP ``status`` instead (503: the Hub is down, and the client retries).
        path: the file it applies to, for the resolve stages; None: every request of the stage.
    """

    kind: str
    interval: float = 5.0
    chunk: int = 1
    size: int = 0
    announced: bool = True
    status: int = 503
    path: str | None = None


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

    def __init__(self, port: int = 0):
        self.repositories: dict[str, Repository] = {}
        self.commits: list[Commit] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.faults: dict[str, Fault] = {}  # stage -> how it misbehaves
        self.sent: dict[str, int] = {}  # file path -> body bytes sent for it, over all requests
        self.ranges: list[tuple[str, str]] = []  # (file path, Range header) of every partial answer (206)
        self.closing = threading.Event()  # ends the answers a fault holds back
        self.card_errors: list[str] = []  # what /api/validate-yaml finds wrong with any card, on top of bad YAML
        self.tokens = {
            WRITE_TOKEN: {"role": "write", "can_write": True},
            READ_TOKEN: {"role": "read", "can_write": False},
            FINE_GRAINED_READ_TOKEN: {"role": "fineGrained", "can_write": False},
        }
        self._lock = threading.Lock()
        self._oids = (hashlib.sha1(f"commit {n}".encode()).hexdigest() for n in itertools.count())
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
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
        self.closing.set()
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

    def files_at_path(self, url_path: str) -> bytes:
        """The content a resolve URL names, for a fault that serves it differently."""
        segments = [unquote(part) for part in urlsplit(url_path).path.strip("/").split("/")]
        repo = self.repositories["/".join(segments[1:3])]
        return repo.snapshots[repo.resolve(segments[4]) or ""]["/".join(segments[5:])]

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
        if segments == ["api", "repos", "create"] and method == "POST":
            return self._create(json.loads(body), grant)
        if len(segments) >= 4 and segments[:2] == ["api", "datasets"]:
            return self._api(method, "/".join(segments[2:4]), segments[4:], query, grant, body)
        if len(segments) >= 6 and segments[0] == "datasets" and segments[3] == "resolve" and method in ("GET", "HEAD"):
            repo_id, revision, path = "/".join(segments[1:3]), segments[4], "/".join(segments[5:])
            return self._resolve(repo_id, revision, path, grant, method, headers.get("range"))
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
        if method == "POST" and action == "paths-info":
            wanted = parse_qs(body.decode()).get("paths", []) if body[:1] != b"{" else json.loads(body)["paths"]
            return _json(_paths_info(files, wanted))
        if method == "POST" and action in ("preupload", "commit"):
            if not (grant and grant["can_write"]):
                return _error(403, "You don't have the rights to write to this repository")
            if action == "preupload":
                return self._preupload(files, json.loads(body))
            with self._lock:
                return self._commit(repo_id, repo, revision, body, create_pr=query.get("create_pr") == "1")
        return _error(404, f"the stand-in has no endpoint {method} api/datasets/{repo_id}/{'/'.join(rest)}")

    def _create(self, payload: dict, grant: dict | None) -> _Response:
        if not (grant and grant["can_write"]):
            return _error(401 if grant is None else 403, "You don't have the rights to create a repository")
        if payload.get("type") != "dataset":
            return _error(400, "the stand-in creates dataset repositories only")
        repo_id = f"{payload.get('organization') or USER}/{payload['name']}"
        if repo_id in self.repositories:
            return _error(409, "You already created this dataset repo")
        self.create_repo(repo_id, private=payload.get("visibility", "public") == "private")
        return _json({"url": f"{self.url}/datasets/{repo_id}", "name": repo_id})

    def _resolve(
        self, repo_id: str, revision: str, path: str, grant: dict | None, method: str, byte_range: str | None
    ) -> _Response:
        repo = self._repository(repo_id, grant)
        if repo is None:
            return _error(404, "Repository not found", code="RepoNotFound")
        commit = repo.resolve(revision)
        if commit is None:
            return _error(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        if path not in repo.snapshots[commit]:
            return _error(404, "Entry not found", code="EntryNotFound", headers={"X-Repo-Commit": commit})
        content = repo.snapshots[commit][path]
        headers = {"X-Repo-Commit": commit, "ETag": f'"{_git_hash(content)}"', "Accept-Ranges": "bytes"}
        fault = self.faults.get("resolve")  # an announced size shows in the HEAD answer too
        oversize = fault is not None and fault.kind == "oversize" and fault.path in (None, path)
        if fault is not None and oversize and (fault.announced or method == "GET"):
            headers["ETag"] = f'"{_git_hash(content)}-{fault.size}"'  # a different file, as the Hub says it
            return _Response(200, b"", headers, length=fault.size if fault.announced else None, oversize=fault)
        if byte_range is None or method == "HEAD":
            return _Response(200, content if method == "GET" else b"", headers, length=len(content))
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", byte_range.strip())
        size = len(content)
        if match is None or match[1] == match[2] == "":
            return _error(416, f"the stand-in cannot read Range {byte_range!r}")
        if match[1] == "":  # the last N bytes
            start, end = max(size - int(match[2]), 0), size - 1
        else:
            start, end = int(match[1]), min(int(match[2]) if match[2] else size - 1, size - 1)
        if start >= size or start > end:
            return _error(416, "Range Not Satisfiable", headers={"Content-Range": f"bytes */{size}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        self.ranges.append((path, byte_range))
        return _Response(206, content[start : end + 1], headers)

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
    oversize: Fault | None = None  # serve a body of oversize.size bytes, made up as it is sent


def stage(method: str, path: str) -> str:
    """The stage a request belongs to, as ``HubStandIn.faults`` names it."""
    segments = urlsplit(path).path.strip("/").split("/")
    if segments[:2] == ["api", "datasets"] and len(segments) >= 4:
        action = segments[4] if len(segments) >= 6 else "revision"
        return {"revision": "lookup"}.get(action, action)
    if len(segments) >= 4 and segments[0] == "datasets" and segments[3] == "resolve":
        return "resolve" if method == "GET" else "resolve-head"
    return {"whoami-v2": "whoami", "validate-yaml": "validate-yaml", "create": "create-repo"}.get(segments[-1], "")


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


def _paths_info(files: dict[str, bytes], paths: list[str]) -> list[dict]:
    found = []
    for path in paths:
        if path in files:
            found.append({"type": "file", "oid": _git_hash(files[path]), "size": len(files[path]), "path": path})
        elif any(name.startswith(f"{path.rstrip('/')}/") for name in files):
            found.append({"type": "directory", "oid": "0" * 40, "path": path})
    return found


def _git_hash(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        hub: HubStandIn = self.server.hub  # type: ignore[attr-defined]
        fault = hub.faults.get(stage(self.command, self.path))
        file = "/".join(unquote(self.path.split("?")[0]).split("/")[6:]) if "/resolve/" in self.path else None
        if fault is not None and fault.path not in (None, file):
            fault = None
        if fault is not None and fault.kind == "status":
            hub.requests.append((self.command, urlsplit(self.path).path))
            response = _error(fault.status, "the stand-in is down, as a test asked")
        else:  # a silent stage has done its work (a commit lands) but never says so
            response = hub.handle(self.command, self.path, headers, body)
        if fault is not None and fault.kind == "silent":
            hub.closing.wait()
            self.close_connection = True
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        if response.oversize is None or response.length is not None:
            self.send_header("Content-Length", str(len(response.body) if response.length is None else response.length))
        else:
            self.send_header("Connection", "close")  # the body ends when the connection does
            self.close_connection = True
        self.end_headers()
        try:
            for chunk in self._body(response, fault, hub):
                self.wfile.write(chunk)
                self.wfile.flush()
                if file is not None:
                    hub.sent[file] = hub.sent.get(file, 0) + len(chunk)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading, as it should
            self.close_connection = True
        if fault is not None and fault.kind == "drop":
            self.close_connection = True

    def _body(self, response: _Response, fault: Fault | None, hub: HubStandIn) -> Iterator[bytes]:
        if self.command == "HEAD":
            return
        if response.oversize is not None:
            body = hub.files_at_path(self.path)
            yield body
            remaining = response.oversize.size - len(body)
            while remaining > 0 and not hub.closing.is_set():
                yield bytes(min(remaining, 2**16))
                remaining -= 2**16
        elif fault is not None and fault.kind == "trickle":
            for index in range(0, len(response.body), fault.chunk):
                if index and hub.closing.wait(fault.interval):
                    return
                yield response.body[index : index + fault.chunk]
        elif fault is not None and fault.kind == "drop":
            yield response.body[: len(response.body) // 2]
        else:
            yield response.body

    do_GET = do_HEAD = do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests look at ``HubStandIn.requests`` instead."""


def main(argv: list[str] | None = None) -> int:
    """Serves a stand-in Hub until Ctrl-C: ``python -m tests.hub_stand_in --port 8765 [--repo ID --from DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m tests.hub_stand_in", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--repo", help="create this dataset repository, OWNER/NAME")
    parser.add_argument("--from", dest="source", type=Path, help="a build folder whose configs --repo holds")
    parser.add_argument("--private", action="store_true", help="make --repo private")
    args = parser.parse_args(argv)
    if args.source is not None and args.repo is None:
        parser.error("--from needs --repo")
    with HubStandIn(args.port) as hub:
        if args.repo:
            files = {}
            if args.source is not None:
                files = {
                    path.relative_to(args.source).as_posix(): path.read_bytes()
                    for path in sorted(args.source.rglob("*"))
                    if path.is_file() and not any(part.startswith(".") for part in path.relative_to(args.source).parts)
                }
            hub.create_repo(args.repo, private=args.private, files=files)
        # Ctrl-C (or SIGTERM) ends the wait below wherever it arrives, so the server always closes cleanly.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: hub.closing.set())
        print(f"stand-in Hub at {hub.url}: HF_ENDPOINT={hub.url}", flush=True)
        print(f"tokens: {WRITE_TOKEN} (write), {READ_TOKEN} (read); Ctrl-C stops it", flush=True)
        while not hub.closing.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Faults and hostile input: concurrent runs, kills, foreign files, a misbehaving Hub, and input that once ended in a
traceback. Each ends with one line on stderr and exit status 2 (130 after Ctrl-C), or with a consistent folder.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from huggingface_hub import constants
from PIL import Image

from generator.cli import main
from generator.errors import REDACTED, redact
from generator.generate import worker_count
from generator.layout import METADATA_FILE, RECIPE_FILE, sha256_file
from generator.repository import card
from generator.repository.output import LOCK_FILE, config_state, read_manifest
from generator.repository.publish import check_local_configs
from generator.synthesis.handwriting import MAX_IMAGE_PIXELS
from generator.synthesis.plan import check_plan_fits
from tests.conftest import PROJECT_DIR, assert_one_line_error, run_cli, run_killed_at_rename, write_spec
from tests.hub_stand_in import WRITE_TOKEN, HubStandIn, _json, _Response

TINY_RUN = ("--train-size", "20", "--test-size", "10", "--workers", "1")
REPO_ID = "ada/afro_mnist"

# Runs the command line in a fresh interpreter, after arranging for it to SIGKILL itself at one point of a run.
# PyTorch is marked absent, as in a generation worker: generating never needs it, and it costs seconds to import.
KILLABLE_RUN = """
import os, signal, sys
from pathlib import Path
# Ctrl-C handled as in a terminal's foreground job, even under a runner started in the background, whose
# shell set SIGINT to ignored for everything it starts (Python then installs no handler of its own).
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.modules["torch"] = None
sys.path.insert(0, sys.argv[1])
import generator.generate as generate, generator.repository.card as card, generator.repository.output as output

def die():
    os.kill(os.getpid(), signal.SIGKILL)

point = sys.argv[2]
if point == "hold":  # stop, holding the folder, until SIGCONT
    repair = generate.repair
    generate.repair = lambda *args: (os.kill(os.getpid(), signal.SIGSTOP), repair(*args))[1]
elif point == "shards":  # once the first shard is written
    close = generate.ShardWriter.close
    generate.ShardWriter.close = lambda self: (close(self), die())
elif point == "publish":  # between the two renames of --overwrite
    rename = Path.rename
    def rename_then_die(self, target):
        moved = rename(self, target)
        if Path(target).name.startswith(".replaced-"):
            die()
        return moved
    Path.rename = rename_then_die
elif point == "published":  # a new config in place, the root files not yet rewritten
    card.write_repository_files = lambda *args, **kwargs: die()
elif point == "root files":  # the card written, the other root files not
    write = output.write_atomic
    def write_then_die(path, data):
        write(path, data)
        if path.name == "README.md":
            die()
    output.write_atomic = write_then_die
from generator.cli import main
sys.exit(main(sys.argv[3:]))
"""


def start_run(point: str, *argv: str, **popen: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", KILLABLE_RUN, str(PROJECT_DIR), point, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def generate_args(out: Path, *configs: str, seed: int = 0) -> list[str]:
    return ["generate", "--configs", *configs, "--out", str(out), "--seed", str(seed), *TINY_RUN]


def assert_consistent(out: Path, configs: list[str]) -> None:
    """The folder holds exactly ``configs``, each matching its metadata, and root files that describe them."""
    assert not list(out.glob(".partial-*"))
    assert not list(out.glob(".replaced-*"))
    assert not (out / LOCK_FILE).exists()
    assert sorted(record.name for record in check_local_configs(out, None)) == sorted(configs)
    expected = card.root_files(card.read_configs(out))
    assert {path: (out / path).read_bytes() for path in expected} == expected
    manifest = read_manifest(out)
    assert manifest["complete"]
    assert manifest["configs"] == config_state(out)


# --- one writer per folder ---------------------------------------------------------------------------------------


def test_a_second_run_into_a_folder_in_use_is_refused_at_once_and_the_first_completes(capsys, tmp_path: Path):
    out = tmp_path / "out"
    first = start_run("hold", *generate_args(out, "vai"))
    try:
        _, status = os.waitpid(first.pid, os.WUNTRACED)  # until it stops, the folder taken
        assert os.WIFSTOPPED(status), first.communicate()
        try:
            started = time.monotonic()
            code, err = run_cli(capsys, *generate_args(out, "vai", seed=1))
            assert time.monotonic() - started < 5
        finally:
            os.kill(first.pid, signal.SIGCONT)
        assert_one_line_error(code, err, str(out), f"pid {first.pid}", "in use")
    finally:
        _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert_consistent(out, ["vai"])
    assert json.loads((out / "vai" / METADATA_FILE).read_text())["seed"] == 0, "the first run's config"


# --- files at the root that the tool did not write --------------------------------------------------------------


def test_root_files_the_tool_did_not_write_are_never_replaced_or_deleted_without_overwrite(capsys, tmp_path: Path):
    out = tmp_path / "out"
    mine = {"README.md": b"my notes", "builder-script/afro_mnist.py": b"my builder", "sample-grids/mine.png": b"mine"}
    for path, data in mine.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)

    code, err = run_cli(capsys, *generate_args(out, "vai"))
    assert_one_line_error(code, err, str(out / "README.md"), "--overwrite")
    assert {path: (out / path).read_bytes() for path in mine} == mine
    assert not (out / "vai").exists(), "refused before anything was generated"

    (out / "README.md").unlink()
    (out / "builder-script" / "afro_mnist.py").unlink()
    assert run_cli(capsys, *generate_args(out, "vai"))[0] == 0
    assert run_cli(capsys, *generate_args(out, "nko"))[0] == 0, "its own files are the tool's to rewrite"
    assert (out / "sample-grids" / "mine.png").read_bytes() == b"mine", "a file it did not write is never deleted"
    assert_consistent(out, ["nko", "vai"])

    (out / "README.md").write_text("edited by hand")
    code, err = run_cli(capsys, *generate_args(out, "osmanya"))
    assert_one_line_error(code, err, str(out / "README.md"), "--overwrite")
    assert (out / "README.md").read_text() == "edited by hand"
    assert run_cli(capsys, *generate_args(out, "osmanya"), "--overwrite")[0] == 0
    assert_consistent(out, ["nko", "osmanya", "vai"])


@pytest.mark.parametrize("kind", ["link to a folder", "file", "dangling link"])
def test_a_config_path_that_is_no_folder_is_refused_and_left_alone(capsys, tmp_path: Path, kind: str):
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    target = out / "vai"
    if kind == "file":
        target.write_text("a file")
    else:
        target.symlink_to(elsewhere if kind == "link to a folder" else tmp_path / "nowhere")
    for extra in ([], ["--overwrite"]):
        code, err = run_cli(capsys, *generate_args(out, "vai"), *extra)
        assert_one_line_error(code, err, str(target), "link or a file")
    assert target.is_symlink() or target.read_text() == "a file"
    assert (elsewhere / "keep.txt").read_text() == "keep"
    assert sorted(path.name for path in out.iterdir()) == ["vai"]


def test_an_output_folder_that_is_a_config_folder_is_refused(capsys, tmp_path: Path):
    out = tmp_path / "out"
    assert run_cli(capsys, *generate_args(out, "vai"))[0] == 0
    before = sorted(path.name for path in (out / "vai").iterdir())
    code, err = run_cli(capsys, *generate_args(out / "vai", "nko"))
    assert_one_line_error(code, err, str(out / "vai"), "is a config folder")
    assert sorted(path.name for path in (out / "vai").iterdir()) == before


# --- kills, then a rerun that repairs ----------------------------------------------------------------------------


def killed(point: str, *argv: str) -> None:
    process = start_run(point, *argv)
    _, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, err


def test_a_run_killed_while_writing_shards_leaves_a_partial_folder_that_the_rerun_clears(capsys, tmp_path: Path):
    out = tmp_path / "out"
    killed("shards", *generate_args(out, "vai"))
    assert list(out.glob(".partial-vai/*.parquet"))
    assert not (out / "vai").exists()
    code, err = run_cli(capsys, *generate_args(out, "vai"))
    assert code == 0, err
    assert "removed .partial-vai" in err
    assert_consistent(out, ["vai"])


def test_a_run_killed_between_the_renames_of_overwrite_gets_the_old_config_back(capsys, tmp_path: Path):
    out = tmp_path / "out"
    assert run_cli(capsys, *generate_args(out, "vai", seed=1))[0] == 0
    before = {path.name: sha256_file(path) for path in (out / "vai").iterdir()}
    killed("publish", *generate_args(out, "vai", seed=2), "--overwrite")
    assert (out / ".replaced-vai").is_dir()
    assert not (out / "vai").exists()

    code, err = run_cli(capsys, *generate_args(out, "vai", seed=2))  # no --overwrite: the repair alone
    assert code == 2
    assert "put .replaced-vai back as vai" in err
    assert "already exists" in err
    assert {path.name: sha256_file(path) for path in (out / "vai").iterdir()} == before, "the previous state"
    assert_consistent(out, ["vai"])


def test_a_run_killed_after_publishing_gets_its_card_rewritten_by_the_rerun(capsys, tmp_path: Path):
    out = tmp_path / "out"
    assert run_cli(capsys, *generate_args(out, "nko"))[0] == 0
    killed("published", *generate_args(out, "vai"))
    assert "vai" not in (out / "README.md").read_text(), "the card still describes nko alone"
    code, err = run_cli(capsys, *generate_args(out, "vai"))
    assert code == 2
    assert "rewrote the root files" in err
    assert "already exists" in err
    assert "config_name: vai" in (out / "README.md").read_text()
    assert_consistent(out, ["nko", "vai"])


def test_a_run_killed_while_writing_root_files_has_them_finished_by_the_rerun(capsys, tmp_path: Path):
    out = tmp_path / "out"
    assert run_cli(capsys, *generate_args(out, "nko"))[0] == 0
    killed("root files", *generate_args(out, "vai"))
    assert not (out / card.sample_grid_path("vai")).exists()
    code, err = run_cli(capsys, *generate_args(out, "osmanya"))
    assert code == 0, err
    assert "rewrote the root files" in err
    assert_consistent(out, ["nko", "osmanya", "vai"])


def test_a_full_disk_while_writing_root_files_is_one_line_and_the_rerun_repairs(capsys, monkeypatch, tmp_path):
    out = tmp_path / "out"
    real_replace = os.replace

    def disk_full(source, target):
        if Path(target).name == "README.md":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", disk_full)
    code, err = run_cli(capsys, *generate_args(out, "vai"))
    # The shards were written before the disk filled: their progress lines come first, then the one error line.
    err = without_progress(err)
    assert_one_line_error(code, err, "README.md", "No space left on device", "rewrites its root files")
    monkeypatch.setattr(os, "replace", real_replace)
    code, err = run_cli(capsys, *generate_args(out, "nko"))
    assert code == 0, err
    assert_consistent(out, ["nko", "vai"])


def start_writing_run(out: Path, **popen: object) -> subprocess.Popen:
    """A run of vai on 2 workers into ``out``, returned once it writes and its workers run."""
    argv = ["generate", "--configs", "vai", "--out", str(out), "--train-size", "20000", "--test-size", "10"]
    process = start_run("none", *argv, "--workers", "2", **popen)
    try:
        deadline = time.monotonic() + 60
        while not (out / ".partial-vai").is_dir():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.02)
        # The workers start beside the first folder: a signal that reaches one before its interpreter has
        # started cannot be handled by any code of ours, so it comes once they run, as a person's Ctrl-C would.
        time.sleep(2)
        assert process.poll() is None, "the run is still writing"
    except BaseException:
        process.kill()  # its workers then read end-of-file and exit
        raise
    return process


def test_ctrl_c_cleans_up_and_exits_130_with_one_line(tmp_path: Path):
    out = tmp_path / "out"
    process = start_writing_run(out, start_new_session=True)
    try:
        os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does: the whole process group
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err  # what the run printed, if Ctrl-C did not stop it
    assert without_progress(err).strip() == "afro-mnist: interrupted; nothing half-written was left behind"
    assert not out.exists(), "the folder the run created, and nothing else, is gone"


# The line a run not on a terminal prints at every tenth of a split; a run stopped midway may have printed some.
PROGRESS = re.compile(r"\S+ (train|test): [\d,]+ of [\d,]+ images in ")


def without_progress(err: str) -> str:
    """A run's stderr without its progress lines: what it said about how it ended."""
    return "\n".join(line for line in err.splitlines() if not PROGRESS.match(line))


def spawned_workers(pid: int) -> list[int]:
    """The generation workers of process ``pid``: its children started by multiprocessing's spawn."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def test_a_worker_killed_mid_run_ends_it_with_one_line_and_nothing_half_written(tmp_path: Path):
    out = tmp_path / "out"
    process = start_writing_run(out)
    try:
        workers = spawned_workers(process.pid)
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)  # as the out-of-memory killer does
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    # The run may have printed a progress line or two before the kill; then its one error line.
    assert_one_line_error(
        process.returncode, without_progress(err), "a generation worker stopped (killed by signal 9", "--workers"
    )
    assert not out.exists(), "the folder the run created, and nothing else, is gone"
    assert not any(Path(f"/proc/{worker}").exists() for worker in workers), "no worker is left running"


# --- a Hub that misbehaves ---------------------------------------------------------------------------------------


@pytest.fixture
def hub_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A token of the Hub's shape, from HF_TOKEN; no test sees a real login."""
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-stored-token"))
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    return WRITE_TOKEN


@pytest.fixture
def build(tiny_build: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "build"
    for config in ("vai", "nko"):
        (folder / config).mkdir(parents=True)
        for path in (tiny_build / config).iterdir():
            (folder / config / path.name).write_bytes(path.read_bytes())
    return folder


def push(capsys, endpoint: str, source: Path, *options: str) -> tuple[int, str, str]:
    code = main(["push", "--repo-id", REPO_ID, "--from", str(source), "--endpoint", endpoint, *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class OddHub(HubStandIn):
    """The stand-in, with some answers replaced: ``answers[(method, path)]`` is sent instead of its own."""

    def __init__(self, answers: dict[tuple[str, str], _Response]):
        super().__init__()
        self.answers = answers

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> _Response:
        path = url.split("?")[0]
        if (method, path) in self.answers:
            self.requests.append((method, path))
            return self.answers[(method, path)]
        answer = self.answers.get((method, "*"))
        if answer is not None:
            self.requests.append((method, path))
            return _echo(answer, headers)
        return super().handle(method, url, headers, body)


def _echo(answer: _Response, headers: dict[str, str]) -> _Response:
    body = answer.body.replace(b"{authorization}", headers.get("authorization", "").encode())
    return _Response(answer.status, body, answer.headers)


@pytest.mark.parametrize("status", [400, 500])
def test_a_hub_that_echoes_the_token_never_gets_it_printed(capsys, monkeypatch, build: Path, status: int):
    for token in ("hf_AbCdEfGh1234567890abcdefghijKLMN", "a-secret-of-no-known-shape"):
        monkeypatch.setattr(constants, "HF_TOKEN_PATH", "/nonexistent/no-stored-token")
        monkeypatch.setenv("HF_TOKEN", token)
        echo = {"error": "bad token {authorization}; also hf_ZyXwVuTs98765432AbCdEf was seen"}
        with OddHub({("GET", "*"): _json(echo, status)}) as hub:
            code, out, err = push(capsys, hub.url, build)
        assert_one_line_error(code, err, f"HTTP {status}", REDACTED)
        assert token not in out + err
        assert "hf_ZyXwVuTs98765432AbCdEf" not in err


def test_redaction_covers_the_token_in_use_and_anything_token_shaped():
    from generator.errors import register_secret

    register_secret("plain-secret-123")
    assert redact("a plain-secret-123 b") == f"a {REDACTED} b"
    assert redact("Authorization: Bearer whatever.it.is") == f"Authorization: Bearer {REDACTED}"
    assert redact("hf_abcdefgh12345678ABCDEFGH in /data/hf_datasets") == f"{REDACTED} in /data/hf_datasets"


def test_a_hub_that_never_answers_times_out_with_one_line(capsys, hub_token, build: Path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        held: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    held.append(listener.accept()[0])  # and never answer
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            started = time.monotonic()
            code, _, err = push(capsys, f"http://127.0.0.1:{listener.getsockname()[1]}", build, "--timeout", "1")
            elapsed = time.monotonic() - started
        finally:
            stop.set()
            thread.join()
            for connection in held:
                connection.close()
    # The stage it stalled at is named ("did not finish checking the token within --timeout 1 s").
    assert_one_line_error(code, err, "within --timeout 1 s", "nothing was committed")
    assert elapsed < 20


GARBAGE = _Response(200, b"{not json", {"Content-Type": "application/json"})
HTML = _Response(200, b"<html><body>Welcome</body></html>", {"Content-Type": "text/html"})
WHOAMI = "/api/whoami-v2"
INFO = f"/api/datasets/{REPO_ID}"


@pytest.mark.parametrize(
    "answers",
    [
        {("GET", WHOAMI): GARBAGE},
        {("GET", WHOAMI): HTML},
        {("GET", WHOAMI): _json(["a", "list"])},
        {("GET", WHOAMI): _json({"name": "ada"})},
        {("GET", INFO): GARBAGE},
        {("GET", INFO): _json(["a", "list"])},
        {("GET", INFO): _json({"private": False})},
        {("GET", INFO): _json({"id": REPO_ID, "private": False})},
    ],
    ids=["whoami garbage", "whoami html", "whoami list", "whoami no auth", "info garbage", "info list", "no id",
         "no sha"],
)  # fmt: skip
def test_malformed_hub_answers_are_one_line(capsys, hub_token, build: Path, answers):
    with OddHub(answers) as hub:
        hub.create_repo(REPO_ID)
        code, _, err = push(capsys, hub.url, build)
        assert hub.commits == []
    assert_one_line_error(code, err, hub.url)


@pytest.mark.parametrize("remote", [b"garbage", b'{"config": "geez"}', b"[1, 2]"])
def test_a_damaged_remote_metadata_file_is_one_line(capsys, hub_token, build: Path, remote: bytes):
    with HubStandIn() as hub:
        hub.create_repo(REPO_ID, files={"geez/metadata.json": remote})
        code, _, err = push(capsys, hub.url, build)
        assert hub.commits == []
    assert_one_line_error(code, err, "geez/metadata.json")


# --- what a push may send ----------------------------------------------------------------------------------------


def rewrite_metadata(folder: Path, change) -> None:
    path = folder / METADATA_FILE
    metadata = json.loads(path.read_text())
    change(metadata)
    path.write_text(json.dumps(metadata))


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (lambda m, secret: m.update(recipe_file=str(secret)), ["recipe_file", "not a file name inside"]),
        (lambda m, secret: m.update(recipe_file="../../secret.txt"), ["recipe_file", "not a file name inside"]),
        (lambda m, secret: m.pop("recipe_sha256"), ["recipe_sha256"]),
        (lambda m, secret: m["splits"]["test"]["shards"][0].update(file="../x.parquet"), ["not a test shard name"]),
        (lambda m, secret: None, ["recipe.json", "link"]),
    ],
    ids=["absolute recipe", "recipe above", "no recipe sha256", "shard above", "recipe linked outside"],
)
def test_a_push_sends_only_files_inside_their_config_folder(capsys, hub_token, build: Path, tmp_path, change, needles):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not publish")
    rewrite_metadata(build / "vai", lambda metadata: change(metadata, secret))
    if needles[0] == "recipe.json":  # a link with the right content, leading out of the folder
        (tmp_path / "recipe.json").write_bytes((build / "vai" / RECIPE_FILE).read_bytes())
        (build / "vai" / RECIPE_FILE).unlink()
        (build / "vai" / RECIPE_FILE).symlink_to(tmp_path / "recipe.json")
    with HubStandIn() as hub:
        hub.create_repo(REPO_ID)
        for dry_run in (["--dry-run"], []):
            code, out, err = push(capsys, hub.url, build, *dry_run)
            assert_one_line_error(code, err, *needles)
            assert "secret" not in out
        assert hub.requests == []
        assert hub.commits == []


# --- input that used to end in a traceback -----------------------------------------------------------------------


def font_copy(tmp_path: Path, vai, change) -> Path:
    """A spec for a copy of vai whose first font is changed by ``change(TTFont)``."""
    spec = write_spec(tmp_path / "spec", vai, "damaged")
    font_path = tmp_path / "spec" / vai.fonts[0].name
    if change is corrupt_glyf:
        with TTFont(font_path) as font:
            change(font)
        return spec
    font = TTFont(font_path)
    change(font)
    font.save(font_path)
    return spec


def without_name_table(font: TTFont) -> None:
    del font["name"]


def zero_em(font: TTFont) -> None:
    font["head"].unitsPerEm = 0


def corrupt_glyf(font: TTFont) -> None:
    """Every byte of the outlines becomes 0xFF, in the file as saved; the other tables stay intact."""
    path = Path(font.reader.file.name)
    entry = font.reader.tables["glyf"]
    data = bytearray(path.read_bytes())
    data[entry.offset : entry.offset + entry.length] = b"\xff" * entry.length
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (without_name_table, ["no family name"]),
        (zero_em, ["unitsPerEm 0"]),
        (corrupt_glyf, ["cannot be read"]),
    ],
    ids=["no name table", "zero em", "corrupt glyf"],
)
def test_a_damaged_font_is_refused_before_anything_is_written(capsys, tmp_path: Path, vai, change, needles):
    spec = font_copy(tmp_path, vai, change)
    out = tmp_path / "out"
    code, err = run_cli(capsys, "generate", "--spec", str(spec), "--out", str(out), *TINY_RUN)
    assert_one_line_error(code, err, vai.fonts[0].name, *needles)
    assert not out.exists(), "a folder the run created is removed again"


def test_spec_and_font_paths_that_loop_are_one_line(capsys, tmp_path: Path, vai):
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    code, err = run_cli(capsys, "generate", "--spec", str(loop), "--out", str(tmp_path / "out"))
    assert_one_line_error(code, err, "loop.toml")
    spec = write_spec(tmp_path / "spec", vai, "looping")
    font = tmp_path / "spec" / vai.fonts[0].name
    font.unlink()
    font.symlink_to(font)
    code, err = run_cli(capsys, "generate", "--spec", str(spec), "--out", str(tmp_path / "out"))
    assert_one_line_error(code, err, vai.fonts[0].name)


@pytest.mark.parametrize(
    ("overrides", "needles"),
    [
        ({"name": "n" * 250}, ["not a config name", "1 to 64"]),
        ({"name": "vai"}, ["'vai'", "built-in"]),
        ({"class_names": ["a@NEWLINE@b", *map(str, range(1, 10))]}, ["class name", "line break"]),
        ({"class_names": ["<b>0</b>", *map(str, range(1, 10))]}, ["class name", "<"]),
    ],
    ids=["name too long", "built-in name", "newline in class name", "html in class name"],
)
def test_spec_values_that_would_break_a_path_or_the_card_are_refused(capsys, tmp_path: Path, vai, overrides, needles):
    spec = write_spec(tmp_path / "spec", vai, "mine", **overrides)
    spec.write_text(spec.read_text().replace("@NEWLINE@", "\\n"))  # TOML's escape for a line break
    out = tmp_path / "out"
    code, err = run_cli(capsys, "generate", "--spec", str(spec), "--out", str(out), *TINY_RUN)
    assert_one_line_error(code, err, *needles)
    assert not out.exists()


def write_recipe(path: Path, transform: dict) -> Path:
    text = transform.json() if isinstance(transform, Nested) else json.dumps(transform)
    path.write_text(f'{{"__version__": "2.0.8", "transform": {text}}}')
    return path


def compose(*transforms: dict) -> dict:
    return {"__class_fullname__": "Compose", "p": 1.0, "transforms": list(transforms)}


class Nested(dict):
    """A Compose inside a Compose, ``depth`` deep, which ``json.dumps`` could not write: it is spelled out."""

    def __init__(self, depth: int):
        super().__init__()
        self.depth = depth

    def json(self) -> str:
        opening = '{"__class_fullname__": "Compose", "p": 1.0, "transforms": ['
        return opening * self.depth + "]}" * self.depth


@pytest.mark.parametrize(
    ("transform", "needles"),
    [
        (compose({"__class_fullname__": "GaussianBlur", "blur_limit": "wide", "p": 1.0}), ["not an albumentations"]),
        ({"__class_fullname__": "ElasticTransform", "p": 1.0}, ["single ElasticTransform", "Compose"]),
        (compose({"__class_fullname__": "ToRGB", "p": 1.0}), ["shape and type"]),
        (compose({"__class_fullname__": "Normalize", "p": 1.0}), ["shape and type"]),
        (compose({"__class_fullname__": "Resize", "height": 10, "width": 10, "p": 1.0}), ["shape and type"]),
        (
            compose({"__class_fullname__": "CoarseDropout", "num_holes_range": [1, 1],
                     "hole_height_range": [0.99, 0.99], "hole_width_range": [0.99, 0.99], "fill": 0, "p": 1.0}),
            ["erased the digit"],
        ),
        (Nested(100), ["more than 32 deep"]),
        (Nested(2000), ["not an albumentations", "RecursionError"]),
    ],
    ids=["bad argument", "bare transform", "ToRGB", "Normalize", "Resize", "erases all", "100 deep", "2000 deep"],
)  # fmt: skip
def test_a_recipe_that_cannot_make_digits_is_refused_before_the_run(capsys, tmp_path: Path, transform, needles):
    recipe = write_recipe(tmp_path / "recipe.json", transform)
    out = tmp_path / "out"
    code, err = run_cli(capsys, *generate_args(out, "vai"), "--recipe", str(recipe))
    assert_one_line_error(code, err, *needles)
    assert not out.exists()


def test_an_output_folder_that_cannot_be_made_is_one_line(capsys, monkeypatch, tmp_path: Path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    code, err = run_cli(capsys, *generate_args(a_file / "out", "vai"))
    assert_one_line_error(code, err, str(a_file), "not a folder")

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "mkdir", read_only)
    code, err = run_cli(capsys, *generate_args(tmp_path / "ro" / "out", "vai"))
    assert_one_line_error(code, err, "Read-only file system", "cannot be created")


def metadata_damage(name: str):
    def missing_key(metadata: dict) -> None:
        del metadata["numeral_system"]

    def negative(metadata: dict) -> None:
        metadata["splits"]["train"]["num_examples"] = -5

    def huge(metadata: dict) -> None:
        metadata["splits"]["train"]["num_examples"] = 10**12
        metadata["splits"]["train"]["shards"][0]["num_examples"] = 10**12

    return {"missing key": missing_key, "negative": negative, "huge": huge}[name]


@pytest.mark.parametrize(
    ("command", "damage"),
    # push refused a bad count before, through its shard checks; a missing key ended in a traceback there too.
    [(command, damage) for command in ("export", "stats", "figures") for damage in ("missing key", "negative", "huge")]
    + [("push", "missing key")],
)
def test_damaged_metadata_is_one_line_in_every_command(capsys, hub_token, build: Path, tmp_path, command, damage):
    rewrite_metadata(build / "vai", metadata_damage(damage))
    argv = {
        "export": ["export", "vai", "--format", "npz", "--out", str(tmp_path / "x"), "--from", str(build)],
        "stats": ["stats", "vai", "--from", str(build)],
        "figures": ["figures", "vai", "--out", str(tmp_path / "figures"), "--from", str(build)],
        "push": ["push", "--repo-id", REPO_ID, "--from", str(build), "--dry-run"],
    }[command]
    code, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, "metadata.json", "regenerate")


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels and holds one row: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def digits_folder(folder: Path, class_names: list[str], odd: bytes) -> Path:
    """One small digit per class, and one ``odd`` image in class 0."""
    for name in class_names:
        (folder / name).mkdir(parents=True)
        image = np.zeros((28, 28), np.uint8)
        image[8:20, 12:16] = 255
        Image.fromarray(image).save(folder / name / "a.png")
    (folder / class_names[0] / "odd.png").write_bytes(odd)
    return folder


@pytest.fixture(scope="module")
def big_png() -> bytes:
    """A real, decodable PNG of 5000 x 5000 pixels: a few kB on disk, 25 megapixels in memory."""
    buffer = io.BytesIO()
    Image.new("L", (5000, 5000), 255).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("size", ["bomb", "big"])
@pytest.mark.parametrize("command", ["generate", "stats", "evaluate-real"])
def test_images_beyond_the_pixel_bound_are_refused_before_decoding(capsys, tmp_path, tiny_build, big_png, size,
                                                                  command):  # fmt: skip
    vai_names = [str(digit) for digit in range(10)]
    odd = png_header(20000, 20000) if size == "bomb" else big_png
    folder = digits_folder(tmp_path / "digits", vai_names, odd)
    argv = {
        "generate": [*generate_args(tmp_path / "out", "vai"), "--exemplars", str(folder)],
        "stats": ["stats", "vai", "--from", str(tiny_build), "--real", str(folder)],
        "evaluate-real": ["evaluate-real", "vai", "--from", str(tiny_build), "--real", str(folder),
                          "--out", str(tmp_path / "results"), "--epochs", "1"],
    }[command]  # fmt: skip
    code, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, "odd.png", f"{MAX_IMAGE_PIXELS:,} pixels")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "results").exists()


def test_an_npz_whose_header_claims_a_huge_shape_is_refused_before_loading(capsys, tmp_path: Path, tiny_build: Path):
    path = tmp_path / "real.npz"
    x = io.BytesIO()
    np.lib.format.write_array_header_1_0(x, {"descr": "|u1", "fortran_order": False, "shape": (10**8, 28, 28)})
    x.write(bytes(2 * 28 * 28))  # two images' worth, whatever the header says
    y = io.BytesIO()
    np.save(y, np.zeros(2, np.int64))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", x.getvalue())
        archive.writestr("y.npy", y.getvalue())
    code, err = run_cli(capsys, "stats", "vai", "--from", str(tiny_build), "--real", str(path))
    assert_one_line_error(code, err, "real.npz", "claims shape (100000000, 28, 28)")


def test_preview_into_a_folder_is_one_line(capsys, tmp_path: Path):
    code, err = run_cli(capsys, "preview", "vai", "--out", str(tmp_path), "--overwrite")
    assert_one_line_error(code, err, str(tmp_path), "is a folder")


def test_preview_makes_its_folder_but_not_under_a_file(capsys, tmp_path: Path):
    sheet = tmp_path / "build" / "previews" / "vai.png"
    code, err = run_cli(capsys, "preview", "vai", "--out", str(sheet), "--samples-per-class", "1")
    assert code == 0, err
    assert sheet.read_bytes().startswith(b"\x89PNG")
    (tmp_path / "notes").write_text("mine")
    code, err = run_cli(capsys, "preview", "vai", "--out", str(tmp_path / "notes" / "vai.png"))
    assert_one_line_error(code, err, "notes is a file")
    assert (tmp_path / "notes").read_text() == "mine"


# --- bounds -------------------------------------------------------------------------------------------------------


def test_a_size_whose_plan_cannot_fit_in_memory_is_refused_at_once(capsys, tmp_path: Path):
    started = time.monotonic()
    code, err = run_cli(capsys, "generate", "--configs", "vai", "--out", str(tmp_path / "out"), "--train-size",
                        "10000000000", "--test-size", "10")  # fmt: skip
    assert_one_line_error(code, err, "--train-size 10000000000")
    assert time.monotonic() - started < 5
    with pytest.raises(ValueError, match=r"1,000,000 images need about 0.1 GiB for their plan"):
        check_plan_fits(1_000_000, available=2**26)
    check_plan_fits(1_000_000, available=2**30)
    assert not (tmp_path / "out").exists()


def test_workers_are_capped_at_the_chunks_and_twice_the_cores(capsys, monkeypatch, tmp_path: Path):
    assert worker_count(1000, chunks=2, cores=16) == 2
    assert worker_count(1000, chunks=500, cores=4) == 8
    assert worker_count(3, chunks=500, cores=4) == 3
    from generator import generate as generation

    started: list[int] = []
    render_all = generation._render_all

    def record(chunks, exemplars, recipe, workers):
        started.append(workers)
        return render_all(chunks, exemplars, recipe, 1)

    monkeypatch.setattr(generation, "_render_all", record)
    argv = ["generate", "--configs", "vai", "--out", str(tmp_path / "out"), "--train-size", "20", "--test-size", "10"]
    assert run_cli(capsys, *argv, "--workers", "1000")[0] == 0
    assert started == [2], "two chunks, two workers"


# --- lesser ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../vai", "vai/..", "VAI", "x" * 65])
def test_a_config_argument_must_be_a_config_name_everywhere(capsys, tmp_path: Path, tiny_build: Path, name: str):
    for argv in (
        ["export", name, "--format", "npz", "--out", str(tmp_path / "x"), "--from", str(tiny_build)],
        ["stats", name, "--from", str(tiny_build)],
        ["generate", "--configs", name, "--out", str(tmp_path / "out")],
        ["push", "--repo-id", REPO_ID, "--from", str(tiny_build), "--configs", name, "--dry-run"],
    ):
        code, err = run_cli(capsys, *argv)
        assert_one_line_error(code, err, repr(name), "not a config name")
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_exemplar_weight_without_exemplars_is_refused(capsys, tmp_path: Path):
    code, err = run_cli(capsys, *generate_args(tmp_path / "out", "vai"), "--exemplar-weight", "0.8")
    assert_one_line_error(code, err, "--exemplar-weight 0.8", "--exemplars")
    assert not (tmp_path / "out").exists()


def test_the_card_escapes_what_it_quotes():
    assert card._cell("<script>x</script> |\nb") == "&lt;script&gt;x&lt;/script&gt; \\| b"


# --- class names are labels, not paths ------------------------------------------------------------------------------

PATH_LIKE_NAMES = ["../../ESCAPE_UP", "/tmp/afro-absolute", ".", "..", "a/b", "a\\b", "", "a\0b"]


@pytest.mark.parametrize("name", PATH_LIKE_NAMES, ids=["up", "absolute", "dot", "dot-dot", "slash", "backslash",
                                                       "empty", "nul"])  # fmt: skip
def test_a_class_name_that_is_a_path_is_refused_by_generate_and_collect(capsys, monkeypatch, tmp_path, vai, name):
    from generator.collect import command as collect_command

    monkeypatch.setattr(collect_command, "serve_forever", lambda *args, **kwargs: pytest.fail("it served the page"))
    spec = write_spec(tmp_path / "spec", vai, "mine", class_names=["@NAME@", *map(str, range(1, 10))])
    escaped = name.replace("\\", "\\\\").replace("\0", "\\u0000")
    spec.write_text(spec.read_text().replace("@NAME@", escaped))
    out = tmp_path / "deep" / "out"
    db = str(tmp_path / "collect.sqlite")
    for argv in (
        ["generate", "--spec", str(spec), "--out", str(out), *TINY_RUN],
        ["collect", "serve", "--spec", str(spec), "--configs", "mine", "--db", db, "--port", "8799"],
        ["collect", "export", "--spec", str(spec), "--configs", "mine", "--db", db, "--format", "exemplars",
         "--out", str(out)],
    ):  # fmt: skip
        code, err = run_cli(capsys, *argv)
        assert_one_line_error(code, err, "class name")
    assert not (tmp_path / "deep").exists()
    assert not (tmp_path.parent / "ESCAPE_UP").exists()
    assert not Path("/tmp/afro-absolute").exists()


@pytest.mark.parametrize("name", ["..", "../up", "/abs"])
def test_a_class_name_that_is_a_path_in_metadata_is_refused(capsys, build: Path, tmp_path: Path, name: str):
    rewrite_metadata(build / "vai", lambda metadata: metadata["numeral_system"]["class_names"].__setitem__(0, name))
    code, err = run_cli(capsys, "export", "vai", "--format", "npz", "--out", str(tmp_path / "x"), "--from", str(build))
    assert_one_line_error(code, err, "metadata.json", "class name")
    assert not (tmp_path / "x").exists()


def test_class_folder_builds_only_a_child(tmp_path: Path):
    from generator.errors import InputError
    from generator.layout import class_folder

    assert class_folder(tmp_path, "٣") == tmp_path / "٣"
    for name in PATH_LIKE_NAMES:
        with pytest.raises(InputError, match="class name"):
            class_folder(tmp_path, name)


def test_collect_export_onto_a_link_is_refused_even_with_overwrite(capsys, tmp_path: Path, vai):
    from generator.collect.storage import Storage
    from tests.test_collect import fill

    db = tmp_path / "collect.sqlite"
    storage = Storage(str(db))
    try:
        fill(storage, vai)
    finally:
        storage.close()
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    (out / "vai").symlink_to(elsewhere)
    argv = ["collect", "export", "--configs", "vai", "--db", str(db), "--format", "exemplars", "--out", str(out)]
    code, err = run_cli(capsys, *argv, "--overwrite")
    assert_one_line_error(code, err, str(out / "vai"), "link")
    assert sorted(path.name for path in elsewhere.iterdir()) == ["keep.txt"]
    assert sorted(path.name for path in out.iterdir()) == ["vai"]
    (out / "vai").unlink()
    code, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert sorted(path.name for path in (out / "vai").iterdir()) == sorted(vai.class_names)


# --- one lock for every writer --------------------------------------------------------------------------------------

HOLDER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from generator.repository.output import hold
with hold(Path(sys.argv[2])):
    print("held", flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def held_elsewhere(folder: Path) -> Iterator[int]:
    """``folder`` held by another process, as a running generate holds it; yields that process's pid."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(PROJECT_DIR), str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held"
        yield process.pid
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        process.stdout.close()


@pytest.mark.parametrize("command", ["baseline", "export", "figures", "collect export", "stats", "evaluate-real"])
def test_every_writer_refuses_a_folder_another_run_holds(capsys, tmp_path: Path, build: Path, vai, command: str):
    out = tmp_path / "written"
    out.mkdir()
    db = tmp_path / "collect.sqlite"
    if command == "collect export":
        from generator.collect.storage import Storage
        from tests.test_collect import fill

        storage = Storage(str(db))
        try:
            fill(storage, vai)
        finally:
            storage.close()
    argv = {
        "baseline": ["baseline", "vai", "--from", str(build), "--epochs", "1"],
        "export": ["export", "vai", "--format", "npz", "--out", str(out), "--from", str(build)],
        "figures": ["figures", "vai", "--out", str(out), "--from", str(build)],
        "collect export": ["collect", "export", "--configs", "vai", "--db", str(db), "--format", "strokes",
                           "--out", str(out)],
        "stats": ["stats", "vai", "--from", str(build), "--out", str(out)],
        "evaluate-real": ["evaluate-real", "vai", "--from", str(build), "--real", str(build / "vai"), "--out",
                          str(out), "--epochs", "1"],
    }[command]  # fmt: skip
    folder = build if command == "baseline" else out
    before = {path.relative_to(folder): sha256_file(path) for path in folder.rglob("*") if path.is_file()}
    with held_elsewhere(folder) as pid:
        code, err = run_cli(capsys, *argv)
        assert_one_line_error(code, err, str(folder), f"pid {pid}", "in use")
    after = {path.relative_to(folder): sha256_file(path) for path in folder.rglob("*") if path.is_file()}
    assert after == before, "nothing was written while another run held the folder"
    code, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert not (folder / LOCK_FILE).exists()


def test_the_repair_never_deletes_the_only_complete_copy_of_a_config(capsys, tmp_path: Path):
    out = tmp_path / "out"
    assert run_cli(capsys, *generate_args(out, "vai", seed=1))[0] == 0
    before = {path.name: sha256_file(path) for path in (out / "vai").iterdir()}
    killed("publish", *generate_args(out, "vai", seed=2), "--overwrite")
    assert (out / ".replaced-vai" / METADATA_FILE).is_file()
    # What a baseline that took no lock once did meanwhile: it wrote its result into a new, bare vai/.
    (out / "vai").mkdir()
    (out / "vai" / "baseline.json").write_text("{}")
    code, err = run_cli(capsys, *generate_args(out, "nko"))
    assert_one_line_error(code, err, str(out / ".replaced-vai"), "only complete copy")
    assert {path.name: sha256_file(path) for path in (out / ".replaced-vai").iterdir()} == before
    assert (out / "vai" / "baseline.json").read_text() == "{}"
    shutil.rmtree(out / "vai")  # as the message says
    (out / ".replaced-vai").rename(out / "vai")
    code, err = run_cli(capsys, *generate_args(out, "nko"))
    assert code == 0, err
    assert_consistent(out, ["nko", "vai"])


# --- what the tool never made is never its to delete ---------------------------------------------------------------


def test_folders_named_like_the_tools_leftovers_are_the_users_and_left_alone(capsys, tmp_path: Path):
    out = tmp_path / "out"
    mine = {".partial-vai/notes.txt": "mine", ".replaced-nko/notes.txt": "mine too", ".partial-x/a.txt": "also"}
    for path, text in mine.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(text)
    code, err = run_cli(capsys, *generate_args(out, "osmanya"))
    assert code == 0, err
    assert "interrupted" not in err
    for config in ("vai", "nko"):
        code, err = run_cli(capsys, *generate_args(out, config), "--overwrite")
        assert_one_line_error(code, err, "in the way", config)
    assert {path: (out / path).read_text() for path in mine} == mine
    assert not (out / "vai").exists()
    assert not (out / "nko").exists()
    assert sorted(record.name for record in check_local_configs(out, None)) == ["osmanya"]


def test_a_config_that_is_a_link_to_another_folder_is_not_followed(capsys, tmp_path: Path, build: Path):
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(build / "vai", elsewhere / "vai")
    out = tmp_path / "out"
    assert run_cli(capsys, *generate_args(out, "nko"))[0] == 0
    (out / "other").symlink_to(elsewhere / "vai")
    code, err = run_cli(capsys, *generate_args(out, "osmanya"))
    assert code == 0, err
    card_text = (out / "README.md").read_text()
    assert "config_name: vai" not in card_text
    assert sorted(record.name for record in check_local_configs(out, None)) == ["nko", "osmanya"]
    (out / "vai").symlink_to(elsewhere / "vai")
    code, err = run_cli(capsys, "export", "vai", "--format", "npz", "--out", str(tmp_path / "x"), "--from", str(out))
    assert_one_line_error(code, err, str(out / "vai"), "is a link")


def test_a_killed_export_leaves_a_temporary_file_that_the_next_export_clears(capsys, tmp_path: Path, build: Path):
    out = tmp_path / "x"
    out.mkdir()
    (out / ".vai.npz.12345.partial").write_text("the user's, though named like the tool's")
    argv = ["export", "vai", "--format", "npz", "--out", str(out), "--from", str(build)]
    process = run_killed_at_rename(".vai.npz.", *argv, torch=False)  # the export written, not yet in place
    assert process.returncode == -signal.SIGKILL, process.stderr
    leftovers = sorted(path.name for path in out.glob(".vai.npz.*.partial"))
    assert len(leftovers) == 2, leftovers
    code, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert sorted(path.name for path in out.iterdir()) == [".vai.npz.12345.partial", "vai.npz"]
    assert (out / ".vai.npz.12345.partial").read_text().startswith("the user's")


# --- seeds, paths and sizes out of range ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["1000000001", str(2**32), str(2**63), str(2**64), str(10**23), "-1"])
def test_a_seed_out_of_range_is_refused_before_any_work(capsys, tmp_path: Path, build: Path, seed: str):
    before = {path.relative_to(build): sha256_file(path) for path in build.rglob("*") if path.is_file()}
    for argv in (
        ["generate", "--configs", "vai", "--out", str(tmp_path / "out"), "--seed", seed, *TINY_RUN],
        ["generate", "--configs", "vai", "--out", str(build), "--seed", seed, "--overwrite", *TINY_RUN],
        ["baseline", "vai", "--from", str(build), "--seed", seed],
        ["evaluate-real", "vai", "--from", str(build), "--real", str(tmp_path), "--seed", seed,
         "--out", str(tmp_path / "out")],
        ["preview", "vai", "--out", str(tmp_path / "out" / "p.png"), "--seed", seed],
        ["figures", "vai", "--out", str(tmp_path / "out"), "--from", str(build), "--seed", seed],
    ):  # fmt: skip
        code, err = run_cli(capsys, *argv)
        assert_one_line_error(code, err, f"--seed {seed}", "1,000,000,000")
    assert not (tmp_path / "out").exists()
    after = {path.relative_to(build): sha256_file(path) for path in build.rglob("*") if path.is_file()}
    assert after == before


def test_the_largest_seed_is_generated_and_read_back(capsys, tmp_path: Path):
    out = tmp_path / "out"
    code, err = run_cli(capsys, *generate_args(out, "vai", seed=10**9))
    assert code == 0, err
    code, err = run_cli(capsys, "export", "vai", "--format", "npz", "--out", str(tmp_path / "x"), "--from", str(out))
    assert code == 0, err


@pytest.mark.parametrize("kind", ["long name", "long path"])
def test_an_out_path_too_long_is_one_line_and_leaves_no_parents(capsys, tmp_path: Path, kind: str):
    out = tmp_path / "made" / ("n" * 300) if kind == "long name" else tmp_path.joinpath("made", *["d" * 200] * 25)
    for argv in (
        generate_args(out, "vai"),
        ["preview", "vai", "--out", str(out / "p.png")],
        ["figures", "vai", "--out", str(out)],
        ["export", "vai", "--format", "npz", "--out", str(out)],
    ):
        code, err = run_cli(capsys, *argv)
        assert_one_line_error(code, err, "--out", "shorter path")
    assert not (tmp_path / "made").exists()


def test_a_deeply_nested_spec_is_one_line(capsys, tmp_path: Path):
    spec = tmp_path / "deep.toml"
    spec.write_text("name = " + "[" * 5000 + "]" * 5000 + "\n")
    code, err = run_cli(capsys, "generate", "--spec", str(spec), "--out", str(tmp_path / "out"))
    assert_one_line_error(code, err, str(spec), "too deep")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [["--samples-per-class", "100000000"], ["--samples-per-class", "0"]])
def test_a_preview_out_of_bounds_is_refused_at_once(capsys, tmp_path: Path, argv: list[str]):
    started = time.monotonic()
    code, err = run_cli(capsys, "preview", "vai", "--out", str(tmp_path / "made" / "p.png"), *argv)
    assert_one_line_error(code, err, f"--samples-per-class {argv[1]}")
    assert time.monotonic() - started < 5
    assert not (tmp_path / "made").exists()


def test_metadata_whose_class_count_differs_from_the_configs_is_one_line(capsys, hub_token, build: Path, tmp_path):
    def drop_a_class(metadata: dict) -> None:
        for key in ("class_names", "characters", "code_points"):
            del metadata["numeral_system"][key][-1]

    rewrite_metadata(build / "vai", drop_a_class)
    code, err = run_cli(capsys, "push", "--repo-id", REPO_ID, "--from", str(build), "--dry-run")
    assert_one_line_error(code, err, "metadata.json", "9 classes", "10")
    before = sorted(path.name for path in build.iterdir())
    code, err = run_cli(capsys, *generate_args(build, "osmanya"))
    assert_one_line_error(code, err, "metadata.json", "9 classes")
    assert sorted(path.name for path in build.iterdir()) == before, "refused before anything was generated"

"""Pushes through huggingface_hub's real HTTP client to a loopback stand-in of the Hub.

Every error ends the same way: one line on stderr, exit status 2, and no commit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import datasets
import pytest
import yaml
from huggingface_hub import constants

from generator import settings
from generator.cli import main
from generator.generate import GenerateSettings, generate
from generator.layout import METADATA_FILE
from generator.registry import DEFAULT_CONFIG, builtin_systems, default_configs, load_spec
from generator.repository import card, publish
from generator.repository.export import load_data
from scripts import push_to_hub
from tests.conftest import PROJECT_DIR, TINY, assert_one_line_error, write_spec
from tests.hub_stand_in import FINE_GRAINED_READ_TOKEN, READ_TOKEN, WRITE_TOKEN, HubStandIn

REPO_ID = "ada/afro_mnist"
SYSTEMS = sorted(builtin_systems())
SPLIT_SIZES = {"train": TINY["train_size"], "test": TINY["test_size"]}


@pytest.fixture(autouse=True)
def token_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees a real login: the write token comes from HF_TOKEN, and the stored-token file is empty."""
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-stored-token"))
    monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)


@pytest.fixture
def hub():
    with HubStandIn() as stand_in:
        stand_in.create_repo(REPO_ID)
        yield stand_in


@pytest.fixture
def build(tiny_build: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny build, for tests that change it."""
    folder = tmp_path / "build" / "afro_mnist"
    shutil.copytree(tiny_build, folder)
    return folder


def push(
    capsys: pytest.CaptureFixture[str], hub: HubStandIn | str, source: Path, *options: str
) -> tuple[int, str, str]:
    endpoint = hub if isinstance(hub, str) else hub.url
    code = main(["push", "--repo-id", REPO_ID, "--from", str(source), "--endpoint", endpoint, *options])
    captured = capsys.readouterr()
    assert WRITE_TOKEN not in captured.out + captured.err, "the token is never printed"
    return code, captured.out, captured.err


def card_yaml(files: dict[str, bytes]) -> dict:
    return yaml.safe_load(files[card.README].decode().split("---\n")[1])


def test_push_publishes_every_config_in_one_commit_that_loads(capsys, hub, build: Path, tmp_path: Path):
    code, out, err = push(capsys, hub, build)
    assert code == 0, err
    assert len(hub.commits) == 1
    files = hub.files(REPO_ID)
    for config in SYSTEMS:
        local = sorted(path.name for path in (build / config).iterdir())
        assert sorted(path.split("/", 1)[1] for path in files if path.startswith(f"{config}/")) == local
        assert files[card.sample_grid_path(config)].startswith(b"\x89PNG")
    assert "afro_mnist.py" not in files
    assert files["builder-script/afro_mnist.py"] == card.BUILDER_SCRIPT.read_bytes()
    assert files["builder-script/afro_mnist.json"] == card.BUILDER_DATA.read_bytes()
    configs = [entry["config_name"] for entry in card_yaml(files)["configs"]]
    assert configs == [DEFAULT_CONFIG, *(name for name in default_configs() if name != DEFAULT_CONFIG)]  # default first
    assert not [path for _, path in hub.requests if "/lfs" in path or "xet" in path], "plain HTTP, no LFS or Xet"
    assert f"committed {len(files)} file operations" in out

    published = hub.export(REPO_ID, tmp_path / "published" / "afro_mnist")
    for config in SYSTEMS:
        loaded = datasets.load_dataset(str(published), config, cache_dir=str(tmp_path / "cache"))
        assert {split: loaded[split].num_rows for split in loaded} == SPLIT_SIZES
        assert loaded["train"].features["label"].names == list(builtin_systems()[config].class_names)


# Runs where HF_ENDPOINT names the stand-in from the start, as huggingface_hub and datasets read it on import.
LOAD_FROM_THE_HUB = """
import json, sys
import datasets
sys.path.insert(0, sys.argv[1])
from afro_mnist import AfroMnist

by_name = datasets.load_dataset(sys.argv[2], "vai")
builder = AfroMnist(config_name="vai", data_dir=f"hf://datasets/{sys.argv[2]}")
builder.download_and_prepare()
by_builder = builder.as_dataset()
print(json.dumps({
    "by_name": {split: by_name[split].num_rows for split in by_name},
    "by_builder": {split: by_builder[split].num_rows for split in by_builder},
    "names": by_name["train"].features["label"].names,
}))
"""


def test_published_repository_loads_by_name_from_the_hub(capsys, hub, build: Path, tmp_path: Path):
    assert push(capsys, hub, build, "--configs", "vai")[0] == 0
    environment = {
        **os.environ,
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", LOAD_FROM_THE_HUB, str(PROJECT_DIR), REPO_ID],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["by_name"] == loaded["by_builder"] == SPLIT_SIZES
    assert loaded["names"] == list(builtin_systems()["vai"].class_names)
    assert ("HEAD", f"/datasets/{REPO_ID}/resolve/{hub.head(REPO_ID)}/afro_mnist.py") in hub.requests, (
        "datasets looked for a root script, and found none"
    )


# The viewer's path: streaming reads parquet footers and row groups by HTTP Range, never the whole file.
STREAM_FROM_THE_HUB = """
import json, sys
import datasets
streamed = {
    split: list(datasets.load_dataset(sys.argv[1], "vai", split=split, streaming=True)) for split in ("train", "test")
}
print(json.dumps({
    "rows": {split: len(rows) for split, rows in streamed.items()},
    "labels": [row["label"] for row in streamed["test"]],
    "first": list(streamed["train"][0]["image"].getdata())[:784],
}))
"""


def test_a_published_config_streams_from_the_hub_by_ranges(capsys, hub, build: Path, tmp_path: Path):
    assert push(capsys, hub, build, "--configs", "vai")[0] == 0
    environment = {
        **os.environ,
        "HF_ENDPOINT": hub.url,  # read when huggingface_hub and datasets are imported: so, a process of its own
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", STREAM_FROM_THE_HUB, REPO_ID],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    streamed = json.loads(result.stdout.strip().splitlines()[-1])
    assert streamed["rows"] == SPLIT_SIZES
    (x_train, _), (_, y_test) = load_data("vai", build)
    assert streamed["labels"] == y_test.tolist()
    assert streamed["first"] == x_train[0].ravel().tolist()
    assert {path for path, _ in hub.ranges} >= {f"vai/{path.name}" for path in (build / "vai").glob("*.parquet")}


def fetch(url: str, byte_range: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Range": byte_range} if byte_range else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


def test_the_stand_in_serves_ranges_as_the_hub_does(hub):
    hub.create_repo(REPO_ID, files={"vai/data.bin": bytes(range(100))})
    url = f"{hub.url}/datasets/{REPO_ID}/resolve/main/vai/data.bin"
    status, headers, body = fetch(url, "bytes=10-19")
    assert (status, headers["Content-Range"], body) == (206, "bytes 10-19/100", bytes(range(10, 20)))
    assert fetch(url, "bytes=90-")[2] == bytes(range(90, 100))
    assert fetch(url, "bytes=-5")[2] == bytes(range(95, 100))
    assert fetch(url, "bytes=100-")[0] == fetch(url, "bytes=5-2")[0] == 416
    assert fetch(url)[:3:2] == (200, bytes(range(100)))


def test_the_stand_in_runs_from_the_command_line(tiny_build: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.hub_stand_in", "--port", str(port), "--repo", REPO_ID, "--from", str(tiny_build)],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert f"http://127.0.0.1:{port}" in server.stdout.readline()
        _, _, metadata = fetch(f"http://127.0.0.1:{port}/datasets/{REPO_ID}/resolve/main/vai/{METADATA_FILE}")
        assert metadata == (tiny_build / "vai" / METADATA_FILE).read_bytes()
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=10)
        server.stdout.close()  # type: ignore[union-attr]
    assert code == 0, "Ctrl-C stops it cleanly"


def test_dry_run_lists_the_files_offline_without_a_token(capsys, monkeypatch, hub, build: Path):
    monkeypatch.delenv("HF_TOKEN")
    code, out, err = push(capsys, hub, build, "--configs", "vai", "--dry-run")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[-1].startswith("dry run: 9 files to send to ada/afro_mnist; no token was read and nothing was sent")
    assert {line.split()[1] for line in lines[:-1]} == {
        card.README,
        "builder-script/afro_mnist.py",
        "builder-script/afro_mnist.json",
        card.sample_grid_path("vai"),
        *(f"vai/{path.name}" for path in (build / "vai").iterdir()),
    }
    assert all(line.startswith("add ") for line in lines[:-1])
    assert hub.requests == [], "a dry run asks the Hub nothing"


def test_push_is_a_python_call_with_typed_parameters(capsys, monkeypatch, hub, build: Path):
    monkeypatch.delenv("HF_TOKEN")
    publish.push(build, ["vai"], publish.HubTarget(repo_id=REPO_ID, endpoint=hub.url), dry_run=True)
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith(f"dry run: 9 files to send to {REPO_ID}")
    with pytest.raises(publish.PublishError, match="--timeout 0"):
        publish.push(build, ["vai"], publish.HubTarget(repo_id=REPO_ID, timeout=0), dry_run=True)


def test_a_push_the_hub_holds_already_commits_nothing(capsys, hub, build: Path):
    assert push(capsys, hub, build, "--configs", "vai")[0] == 0
    code, out, _ = push(capsys, hub, build, "--configs", "vai")
    assert code == 0
    assert out.strip() == f"nothing to publish: {hub.url}/datasets/{REPO_ID}@main already holds these files"
    assert len(hub.commits) == 1


def test_pushing_a_new_config_keeps_the_configs_already_on_the_hub(capsys, hub, build: Path, tmp_path: Path):
    assert push(capsys, hub, build, "--configs", "vai", "geez")[0] == 0
    first = hub.files(REPO_ID)

    # A new script config, made from a spec file and generated into a folder of its own.
    spec = write_spec(tmp_path / "spec", builtin_systems()["vai"], "vai_serif", languages=["vai"])
    elsewhere = tmp_path / "elsewhere" / "afro_mnist"
    generate([load_spec(spec)], elsewhere, GenerateSettings(seed=1, workers=1, progress=False, **TINY))
    code, _, err = push(capsys, hub, elsewhere)
    assert code == 0, err
    files = hub.files(REPO_ID)
    unchanged = {path: content for path, content in first.items() if path != card.README}
    assert {path: files[path] for path in unchanged} == unchanged, "the configs already on the Hub are untouched"
    assert "vai_serif/metadata.json" in files
    header = card_yaml(files)
    assert [entry["config_name"] for entry in header["configs"]] == ["vai", "geez", "vai_serif"]
    assert [entry["config_name"] for entry in header["dataset_info"]] == ["vai", "geez", "vai_serif"]
    assert [entry.get("default", False) for entry in header["configs"]] == [True, False, False]
    assert f"]({card.sample_grid_path('geez')})" in files[card.README].decode(), "kept configs keep their section"
    assert "sample-grids/vai_serif.png" in hub.commits[-1].added
    assert not [path for path in hub.commits[-1].added if path.startswith(("vai/", "geez/"))]


def test_push_deletes_stale_files_of_the_pushed_configs_only(capsys, hub, build: Path):
    stale = {
        "vai/train-00002-of-00003.parquet": b"an older, larger run",
        "geez/train-00009-of-00010.parquet": b"left alone: geez is not pushed",
        "afro_mnist.py": b"a root script that would stop load_dataset",
    }
    hub.create_repo(REPO_ID, files=stale)
    code, out, err = push(capsys, hub, build, "--configs", "vai")
    assert code == 0, err
    assert "delete  vai/train-00002-of-00003.parquet" in out
    files = hub.files(REPO_ID)
    assert "vai/train-00002-of-00003.parquet" not in files
    assert "afro_mnist.py" not in files
    assert files["geez/train-00009-of-00010.parquet"] == stale["geez/train-00009-of-00010.parquet"]
    assert hub.commits[-1].deleted == ("afro_mnist.py", "vai/train-00002-of-00003.parquet")


def test_create_pr_leaves_the_branch_alone(capsys, hub, build: Path):
    code, out, err = push(capsys, hub, build, "--configs", "osmanya", "--create-pr")
    assert code == 0, err
    assert hub.files(REPO_ID) == {}
    assert "osmanya/metadata.json" in hub.files(REPO_ID, "refs/pr/1")
    assert out.strip().endswith(f"{hub.url}/datasets/{REPO_ID}/discussions/1")


def test_private_requires_a_private_repository(capsys, hub, build: Path):
    code, _, err = push(capsys, hub, build, "--private")
    assert_one_line_error(code, err, "--private", REPO_ID, "public")
    hub.create_repo(REPO_ID, private=True)
    assert push(capsys, hub, build, "--private", "--configs", "nko")[0] == 0


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("token", "needles"),
    [
        (None, ["no Hugging Face token", "HF_TOKEN"]),
        (READ_TOKEN, ["read-only", REPO_ID, "settings/tokens"]),
        (FINE_GRAINED_READ_TOKEN, ["may not write", REPO_ID]),
        ("hf_unknown", ["rejected the token", "HF_TOKEN"]),
    ],
)
def test_a_token_that_cannot_write_stops_the_push(capsys, monkeypatch, hub, build: Path, token, needles):
    if token is None:
        monkeypatch.delenv("HF_TOKEN")
    else:
        monkeypatch.setenv("HF_TOKEN", token)
    code, _, err = push(capsys, hub, build)
    assert_one_line_error(code, err, *needles)
    assert token is None or token not in err
    assert hub.commits == []


def test_a_missing_repository_stops_the_push(capsys, hub, build: Path):
    code, _, err = push(capsys, hub, build, "--repo-id", "ada/no_such_repo")
    assert_one_line_error(code, err, "ada/no_such_repo", "does not exist", "hf repos create")
    assert hub.commits == []


def test_a_missing_revision_stops_the_push(capsys, hub, build: Path):
    code, _, err = push(capsys, hub, build, "--revision", "v2")
    assert_one_line_error(code, err, "--revision v2", "hf repos branch create")
    assert hub.commits == []


def test_an_unreachable_hub_stops_the_push(capsys, build: Path):
    endpoint = closed_port()
    code, _, err = push(capsys, endpoint, build)
    assert_one_line_error(code, err, endpoint, "cannot reach")


def corrupt(folder: Path) -> None:
    shard = folder / "vai" / "train-00001-of-00002.parquet"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))


def truncate(folder: Path) -> None:
    shard = folder / "vai" / "test-00000-of-00001.parquet"
    shard.write_bytes(shard.read_bytes()[:-10])


def miscount(folder: Path) -> None:
    path = folder / "vai" / METADATA_FILE
    metadata = json.loads(path.read_text())
    metadata["splits"]["train"]["num_examples"] += 1
    path.write_text(json.dumps(metadata))


@pytest.mark.parametrize(
    ("damage", "needles"),
    [
        (lambda f: (f / "vai" / "train-00000-of-00002.parquet").unlink(), ["train-00000-of-00002.parquet", "missing"]),
        (corrupt, ["train-00001-of-00002.parquet", "SHA-256", "regenerate"]),
        (truncate, ["test-00000-of-00001.parquet", "bytes"]),
        (miscount, ["splits.train.num_examples", "61", "regenerate"]),
        (
            lambda f: shutil.copy(f / "vai" / "test-00000-of-00001.parquet", f / "vai" / "test-00001-of-00002.parquet"),
            ["test-00001-of-00002.parquet", "not listed"],
        ),
        (lambda f: (f / "vai" / METADATA_FILE).unlink(), ["vai", "no metadata.json", "regenerate"]),
    ],
    ids=["missing shard", "corrupt shard", "truncated shard", "wrong count", "unlisted shard", "no metadata"],
)
def test_local_shards_that_do_not_match_their_metadata_stop_the_push(capsys, hub, build: Path, damage, needles):
    damage(build)
    code, _, err = push(capsys, hub, build, "--configs", "geez", "vai")
    assert_one_line_error(code, err, *needles)
    assert hub.commits == []
    assert hub.requests == [], "the local check comes before any request"


def test_a_card_the_hub_refuses_stops_the_push(capsys, hub, build: Path):
    hub.card_errors = ['"task_ids" must be one of the known task ids']
    code, _, err = push(capsys, hub, build)
    assert_one_line_error(code, err, "refused the card", "task_ids", "card.py")
    assert hub.commits == []


def test_a_malformed_or_missing_repo_id_stops_the_push(capsys, hub, build: Path):
    code, _, err = push(capsys, hub, build, "--repo-id", "ada/afro mnist")
    assert_one_line_error(code, err, "'ada/afro mnist'", "OWNER/NAME")
    assert hub.requests == []
    # Without --repo-id the push goes to the one repository id of generator/settings.py.
    code = main(["push", "--from", str(build), "--endpoint", hub.url])
    assert_one_line_error(code, capsys.readouterr().err, settings.REPO_ID, "does not exist")


def test_unknown_config_or_folder_stops_the_push(capsys, hub, build: Path, tmp_path: Path):
    code, _, err = push(capsys, hub, build, "--configs", "klingon")
    assert_one_line_error(code, err, "'klingon'", "generate")
    code, _, err = push(capsys, hub, tmp_path / "nowhere")
    assert_one_line_error(code, err, "nowhere", "not a folder")
    assert hub.requests == []


def test_script_regenerates_then_publishes_those_configs(capsys, monkeypatch, hub, build: Path):
    generated = []

    def generate_command(argv: list[str]) -> int:
        # The real command is tested elsewhere; at full size it would take minutes.
        generated.append(argv)
        return 0

    monkeypatch.setattr(push_to_hub.cli, "main", generate_command)
    code = push_to_hub.main(["--repo-id", REPO_ID, "--from", str(build), "--endpoint", hub.url, "--regenerate"])
    assert code == 0, capsys.readouterr().err
    configs = default_configs()
    assert generated == [["generate", "--configs", *configs, "--out", str(build), "--seed", "0", "--overwrite"]]
    assert len(hub.commits) == 1
    assert {path.split("/")[0] for path in hub.files(REPO_ID) if path.endswith(METADATA_FILE)} == set(SYSTEMS)


@pytest.mark.parametrize(
    ("token", "repo_id", "needle"),
    [(None, REPO_ID, "no Hugging Face token"), (READ_TOKEN, REPO_ID, "read-only"), (WRITE_TOKEN, "ada/none", "exist")],
)
def test_script_checks_the_token_and_the_hub_before_regenerating(
    capsys, monkeypatch, hub, build: Path, token, repo_id, needle
):
    if token is None:
        monkeypatch.delenv("HF_TOKEN")
    else:
        monkeypatch.setenv("HF_TOKEN", token)
    generated = []
    monkeypatch.setattr(push_to_hub.cli, "main", lambda argv: generated.append(argv) or 0)
    code = push_to_hub.main(["--repo-id", repo_id, "--from", str(build), "--endpoint", hub.url, "--regenerate"])
    assert_one_line_error(code, capsys.readouterr().err, needle)
    assert generated == [], "nothing is regenerated for a push that cannot succeed"
    assert hub.commits == []


def test_script_refuses_to_regenerate_in_a_dry_run(capsys, build: Path):
    code = push_to_hub.main(["--repo-id", REPO_ID, "--from", str(build), "--regenerate", "--dry-run"])
    assert_one_line_error(code, capsys.readouterr().err, "--regenerate", "--dry-run")


@pytest.mark.parametrize(("options", "private"), [([], True), (["--public"], False), (["--private"], True)])
def test_create_makes_a_missing_repository_private_unless_public(capsys, hub, build: Path, options, private):
    code, out, err = push(capsys, hub, build, "--repo-id", "ada/new_afro", "--configs", "vai", "--create", *options)
    assert code == 0, err
    assert hub.repositories["ada/new_afro"].private is private
    assert f"created the {'private' if private else 'public'} dataset repository" in out
    assert ("POST", "/api/repos/create") in hub.requests
    assert "vai/metadata.json" in hub.files("ada/new_afro")


def test_create_leaves_an_existing_repository_as_it_is(capsys, hub, build: Path):
    code, out, err = push(capsys, hub, build, "--configs", "vai", "--create")
    assert code == 0, err
    assert hub.repositories[REPO_ID].private is False, "an existing public repository stays public"
    assert ("POST", "/api/repos/create") not in hub.requests
    assert "created" not in out


@pytest.mark.parametrize(
    ("options", "needles"),
    [(["--public"], ["--public", "--create"]), (["--create", "--public", "--private"], ["--public and --private"])],
)
def test_public_needs_create_and_contradicts_private(capsys, hub, build: Path, options, needles):
    code, _, err = push(capsys, hub, build, *options)
    assert_one_line_error(code, err, *needles)
    assert hub.requests == []


def test_create_needs_a_token_that_may_write(capsys, monkeypatch, hub, build: Path):
    monkeypatch.setenv("HF_TOKEN", READ_TOKEN)
    code, _, err = push(capsys, hub, build, "--repo-id", "ada/new_afro", "--create")
    assert_one_line_error(code, err, "read-only")
    assert "ada/new_afro" not in hub.repositories


def test_a_missing_repository_names_create(capsys, hub, build: Path):
    code, _, err = push(capsys, hub, build, "--repo-id", "ada/no_such_repo")
    assert_one_line_error(code, err, "--create")

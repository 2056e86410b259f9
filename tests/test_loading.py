"""Loading like keras and torchvision: load_data and AfroMNIST, from a local build or downloaded from the Hub.

The Hub is the loopback stand-in, spoken to by huggingface_hub's real client.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import constants
from huggingface_hub.utils import _http as hf_http

from generator.errors import InputError
from generator.repository import hub_client
from generator.repository.export import load_data
from tests.hub_stand_in import Fault, HubStandIn

REPO_ID = "ada/afro_mnist"


@pytest.fixture(autouse=True)
def no_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sends a real token, and each runs from a folder with no build in it."""
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-stored-token"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)


def repository_files(build: Path, configs: tuple[str, ...] = ("vai",)) -> dict[str, bytes]:
    return {
        f"{config}/{path.name}": path.read_bytes() for config in configs for path in sorted((build / config).iterdir())
    }


@pytest.fixture
def hub(tiny_build: Path):
    with HubStandIn() as stand_in:
        stand_in.create_repo(REPO_ID, files=repository_files(tiny_build))
        yield stand_in


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub retries a refused connection five times over about 23 s; the test need not wait."""
    monkeypatch.setattr(hf_http.time, "sleep", lambda seconds: None)


def tampered(tiny_build: Path) -> dict[str, bytes]:
    """The repository with one shard changed by a byte, its metadata.json as it was."""
    files = repository_files(tiny_build)
    shard = "vai/test-00000-of-00001.parquet"
    files[shard] = files[shard][:-1] + bytes([files[shard][-1] ^ 1])
    return files


def test_load_data_downloads_from_the_hub_and_matches_the_build(hub, tiny_build: Path, tmp_path: Path):
    cache = tmp_path / "hf-cache"
    (x_train, y_train), (x_test, y_test) = load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=cache)
    (local_x, local_y), (local_xt, local_yt) = load_data("vai", tiny_build)
    assert np.array_equal(x_train, local_x)
    assert np.array_equal(y_train, local_y)
    assert np.array_equal(x_test, local_xt)
    assert np.array_equal(y_test, local_yt)
    assert (x_train.dtype, y_train.dtype, x_train.shape[1:]) == (np.uint8, np.uint8, (28, 28))
    shards = [path for path in cache.rglob("*.parquet")]
    assert len(shards) == 3, "the config's shards, and nothing else, went into the Hugging Face cache"
    assert not any(path.startswith("/datasets") and "/geez/" in path for _, path in hub.requests)


def test_a_downloaded_config_loads_again_without_the_hub(tiny_build: Path, tmp_path: Path, no_backoff):
    cache = tmp_path / "hf-cache"
    with HubStandIn() as stand_in:
        stand_in.create_repo(REPO_ID, files=repository_files(tiny_build))
        url = stand_in.url
        first = load_data("vai", repo_id=REPO_ID, endpoint=url, cache_dir=cache)
    again = load_data("vai", repo_id=REPO_ID, endpoint=url, cache_dir=cache)  # the stand-in is closed now
    assert np.array_equal(first[0][0], again[0][0])


def test_load_data_takes_a_revision(hub, tiny_build: Path, tmp_path: Path):
    commit = hub.head(REPO_ID)
    (x_train, _), _ = load_data("vai", repo_id=REPO_ID, revision=commit, endpoint=hub.url, cache_dir=tmp_path / "c")
    assert np.array_equal(x_train, load_data("vai", tiny_build)[0][0])
    with pytest.raises(InputError, match="revision 'v9' is not in ada/afro_mnist"):
        load_data("vai", repo_id=REPO_ID, revision="v9", endpoint=hub.url, cache_dir=tmp_path / "c")


def test_load_data_refuses_a_tampered_shard(tiny_build: Path, tmp_path: Path):
    with HubStandIn() as stand_in:
        stand_in.create_repo(REPO_ID, files=tampered(tiny_build))
        with pytest.raises(InputError, match=r"test-00000-of-00001\.parquet does not match the size and SHA-256"):
            load_data("vai", repo_id=REPO_ID, endpoint=stand_in.url, cache_dir=tmp_path / "c")


@pytest.mark.parametrize(
    ("config", "repo_id", "needle"),
    [("geez", REPO_ID, "config 'geez' is not published in ada/afro_mnist"), ("vai", "ada/none", "was not found")],
)
def test_load_data_names_what_the_hub_lacks(hub, tmp_path: Path, config: str, repo_id: str, needle: str):
    with pytest.raises(InputError, match=needle):
        load_data(config, repo_id=repo_id, endpoint=hub.url, cache_dir=tmp_path / "c")


def test_load_data_says_when_the_hub_cannot_be_reached(tmp_path: Path, no_backoff):
    with HubStandIn() as stand_in:
        url = stand_in.url  # a port nothing listens on once closed
    with pytest.raises(InputError, match="could not be reached"):
        load_data("vai", repo_id=REPO_ID, endpoint=url, cache_dir=tmp_path / "c")


def test_load_data_from_a_local_build_needs_no_hub(tiny_build: Path, tmp_path: Path):
    with pytest.raises(InputError, match="does not exist"):
        load_data("vai", tmp_path / "no-build")
    (x_train, y_train), _ = load_data("vai", build_dir=tiny_build)
    assert len(x_train) == len(y_train) > 0
    with pytest.warns(DeprecationWarning, match="build_dir"):
        (old_name, _), _ = load_data("vai", local_dir=tiny_build)
    assert np.array_equal(old_name, x_train)


# --- the PyTorch dataset -----------------------------------------------------------------------------------------

torch_module = pytest.importorskip(
    "generator.repository.torch", reason="the [baseline] extra (PyTorch) is not installed"
)


def test_afromnist_downloads_into_root_like_torchvision(hub, tiny_build: Path, tmp_path: Path):
    root = tmp_path / "data"
    train = torch_module.AfroMNIST(root, config="vai", train=True, download=True, repo_id=REPO_ID, endpoint=hub.url)
    test = torch_module.AfroMNIST(root, config="vai", train=False, repo_id=REPO_ID)  # already in root
    (x_train, y_train), (x_test, y_test) = load_data("vai", tiny_build)
    assert (len(train), len(test)) == (len(x_train), len(x_test))
    assert np.array_equal(train.data.numpy(), x_train)
    assert np.array_equal(test.targets.numpy(), y_test.astype(np.int64))
    assert train.classes == [str(n) for n in range(10)]
    image, target = train[3]
    assert (image.mode, image.size, target) == ("L", (28, 28), int(y_train[3]))
    assert np.array_equal(np.asarray(image), x_train[3])


def test_afromnist_applies_transforms_and_batches(tiny_build: Path):
    dataset = torch_module.AfroMNIST(
        tiny_build,
        config="geez",
        train=False,
        transform=lambda image: torch_module.torch.from_numpy(np.asarray(image, np.float32) / 255).unsqueeze(0),
        target_transform=lambda target: target + 100,
    )
    images, targets = next(iter(torch_module.torch.utils.data.DataLoader(dataset, batch_size=8)))
    assert images.shape == (8, 1, 28, 28)
    assert images.dtype == torch_module.torch.float32
    assert targets.tolist() == (dataset.targets[:8] + 100).tolist()
    assert dataset.classes[0] == "1"
    assert dataset.classes[-1] == "10"


def test_afromnist_refuses_a_missing_config_and_a_tampered_shard(tiny_build: Path, tmp_path: Path):
    with pytest.raises(InputError, match="pass download=True"):
        torch_module.AfroMNIST(tmp_path / "empty", config="vai")
    with HubStandIn() as stand_in:
        stand_in.create_repo(REPO_ID, files=tampered(tiny_build))
        with pytest.raises(InputError, match="does not match the size and SHA-256"):
            torch_module.AfroMNIST(
                tmp_path / "data", config="vai", download=True, repo_id=REPO_ID, endpoint=stand_in.url
            )


# --- bounded downloads, repair, local-first ----------------------------------------------------------------------

SHARD = "vai/train-00000-of-00002.parquet"
TIMEOUT = 2.0
MARGIN = 3.0


def leftovers(cache: Path) -> list[Path]:
    """Part-downloads left in a cache."""
    return sorted(cache.rglob("*.incomplete"))


@pytest.mark.parametrize("config", ["VAI", "Vai", "../vai", "vai/x", "", 7, None])
def test_a_bad_config_name_is_refused_before_any_request(hub, tmp_path: Path, config):
    with pytest.raises(InputError, match="not a config name") as refused:
        load_data(config, repo_id=REPO_ID, endpoint=hub.url, cache_dir=tmp_path / "c")
    message = str(refused.value)
    assert "\n" not in message
    assert "vai, " in message or ", vai" in message, "the message names the configs there are"
    if config in ("VAI", "Vai"):
        assert "did you mean 'vai'?" in message
    assert hub.requests == []


@pytest.mark.parametrize(
    ("stage", "fault"),
    [
        ("resolve-head", Fault("silent")),  # a HEAD answer has no body to trickle
        ("resolve", Fault("silent")),
        ("resolve", Fault("trickle", interval=5.0)),
        ("resolve", Fault("trickle", interval=0.3)),
    ],
    ids=["silent HEAD", "silent GET", "a byte every 5 s", "a byte every 0.3 s"],
)
def test_a_stalled_download_ends_within_the_timeout(hub, tmp_path: Path, stage: str, fault: Fault):
    hub.faults[stage] = fault
    cache = tmp_path / "c"
    start = time.monotonic()
    with pytest.raises(InputError, match=f"within {TIMEOUT:g} s") as refused:
        load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=cache, timeout=TIMEOUT)
    assert time.monotonic() - start < TIMEOUT + MARGIN
    assert "\n" not in str(refused.value)
    assert leftovers(cache) == []


@pytest.mark.parametrize("announced", [True, False], ids=["announced", "unannounced length"])
def test_a_shard_far_larger_than_recorded_is_cut_off_and_removed(hub, tmp_path: Path, announced: bool):
    size = 300 * 2**20
    hub.faults["resolve"] = Fault("oversize", size=size, announced=announced, path=SHARD)
    cache = tmp_path / "c"
    start = time.monotonic()
    with pytest.raises(InputError, match=r"train-00000-of-00002\.parquet .* bytes or more, where [\d,]+ were expected"):
        load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=cache)
    assert time.monotonic() - start < 10
    # Refused from its headers, or cut off after the recorded size plus what the sockets' buffers held.
    assert hub.sent.get(SHARD, 0) < (1 if announced else 32 * 2**20)
    assert leftovers(cache) == []
    assert not [path for path in cache.rglob("*") if path.is_file() and path.stat().st_size > 2**20]


def test_a_dropped_connection_is_one_input_error(hub, tmp_path: Path, no_backoff):
    hub.faults["resolve"] = Fault("drop", path=SHARD)
    cache = tmp_path / "c"
    with pytest.raises(InputError, match="broke off") as refused:
        load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=cache)
    assert "\n" not in str(refused.value)
    assert leftovers(cache) == []


def shard_gets(hub: HubStandIn, path: str) -> int:
    return sum(1 for method, url in hub.requests if method == "GET" and url.endswith(f"/{path}"))


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))


def test_a_damaged_cached_shard_is_repaired_by_one_fetch(hub, tiny_build: Path, tmp_path: Path):
    cache = tmp_path / "c"
    first = load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=cache)
    assert shard_gets(hub, SHARD) == 1
    (cached,) = [path for path in cache.rglob(SHARD.split("/")[1])]
    flip_a_byte(cached.resolve())  # the blob the snapshot links to: deleting the link alone would not help
    again = load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=cache)
    assert np.array_equal(first[0][0], again[0][0])
    assert shard_gets(hub, SHARD) == 2, "the damaged shard, and only it, was fetched again"
    assert shard_gets(hub, "vai/test-00000-of-00001.parquet") == 1
    assert cached.resolve().read_bytes() == (tiny_build / SHARD).read_bytes()


def test_force_download_fetches_every_file_again(hub, tmp_path: Path):
    cache = tmp_path / "c"
    load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=cache)
    load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=cache)
    assert shard_gets(hub, SHARD) == 1
    load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=cache, force_download=True)
    assert shard_gets(hub, SHARD) == 2
    assert shard_gets(hub, "vai/metadata.json") == 2


def test_load_data_reads_the_local_build_first_and_says_so(hub, tiny_build: Path, capsys, monkeypatch):
    project = Path.cwd()  # the fixture's empty folder
    shutil.copytree(tiny_build / "vai", project / "build" / "afro_mnist" / "vai")
    (x_train, _), _ = load_data("vai")
    assert np.array_equal(x_train, load_data("vai", tiny_build)[0][0])
    err = capsys.readouterr().err
    assert "from the local build build/afro_mnist/vai" in err
    assert len(err.strip().splitlines()) == 1
    assert hub.requests == []
    load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=project / "c")  # a repository: the Hub
    assert shard_gets(hub, SHARD) == 1
    assert "local build" not in capsys.readouterr().err


def test_afromnist_names_classes_as_torchvision_does(tiny_build: Path):
    dataset = torch_module.AfroMNIST(tiny_build, config="geez", train=False)
    assert dataset.root == tiny_build
    assert dataset.classes == [str(n) for n in range(1, 11)]
    assert dataset.class_to_idx == {name: index for index, name in enumerate(dataset.classes)}


@pytest.mark.parametrize("root_exists", [False, True])
def test_a_failed_afromnist_download_leaves_nothing_behind(tmp_path: Path, root_exists: bool, no_backoff):
    with HubStandIn() as stand_in:
        stand_in.create_repo(REPO_ID)  # no vai in it
        parent = tmp_path / "work"
        root = parent / "data"
        if root_exists:
            root.mkdir(parents=True)
        with pytest.raises(InputError, match="config 'vai' is not published"):
            torch_module.AfroMNIST(root, config="vai", download=True, repo_id=REPO_ID, endpoint=stand_in.url)
    assert (sorted(root.iterdir()) == []) if root_exists else not parent.exists()


def test_afromnist_repairs_a_damaged_shard_only_with_download(hub, tiny_build: Path, tmp_path: Path):
    root = tmp_path / "data"
    options = {"config": "vai", "repo_id": REPO_ID, "endpoint": hub.url}
    torch_module.AfroMNIST(root, download=True, **options)
    assert sorted(path.name for path in root.iterdir()) == ["vai"], "no staging folder is left in root"
    flip_a_byte(root / SHARD)
    with pytest.raises(InputError, match="pass download=True to fetch 'vai' again"):
        torch_module.AfroMNIST(root, **options)
    repaired = torch_module.AfroMNIST(root, download=True, **options)
    assert (root / SHARD).read_bytes() == (tiny_build / SHARD).read_bytes()
    assert np.array_equal(repaired.data.numpy(), load_data("vai", tiny_build)[0][0])
    assert sorted(path.name for path in root.iterdir()) == ["vai"]


def test_afromnist_never_replaces_other_data_in_root(hub, tiny_build: Path, tmp_path: Path):
    root = tmp_path / "data"
    shutil.copytree(tiny_build / "vai", root / "vai")
    metadata = root / "vai" / "metadata.json"
    metadata.write_text(metadata.read_text().replace('"seed": 7', '"seed": 8'))  # another generation
    before = {path.name: path.read_bytes() for path in (root / "vai").iterdir()}
    with pytest.raises(InputError, match="holds other data"):
        torch_module.AfroMNIST(
            root, config="vai", download=True, force_download=True, repo_id=REPO_ID, endpoint=hub.url
        )
    assert {path.name: path.read_bytes() for path in (root / "vai").iterdir()} == before
    assert sorted(path.name for path in root.iterdir()) == ["vai"]


def test_afromnist_force_download_fetches_again(hub, tmp_path: Path):
    root = tmp_path / "data"
    options = {"config": "vai", "repo_id": REPO_ID, "endpoint": hub.url, "download": True}
    torch_module.AfroMNIST(root, **options)
    torch_module.AfroMNIST(root, **options)
    assert shard_gets(hub, SHARD) == 1
    torch_module.AfroMNIST(root, force_download=True, **options)
    assert shard_gets(hub, SHARD) == 2


def test_a_large_shard_gets_a_second_per_mib_on_top_of_the_timeout(hub, tmp_path: Path, monkeypatch):
    # Scaled down: at 4 KB/s "the slowest line", the tiny shard gets several seconds more than timeout=1.
    monkeypatch.setattr(hub_client, "SLOWEST_BYTES_PER_S", 4_000)
    hub.faults["resolve"] = Fault("trickle", interval=0.08, chunk=1_000, path=SHARD)  # steady, 2 s in all
    start = time.monotonic()
    (x_train, _), _ = load_data("vai", repo_id=REPO_ID, endpoint=hub.url, cache_dir=tmp_path / "c", timeout=1)
    assert time.monotonic() - start > 1, "the shard took longer than the timeout itself"
    assert len(x_train) > 0


def test_a_stalled_afromnist_download_leaves_nothing_behind(tmp_path: Path, tiny_build: Path):
    root = tmp_path / "work" / "data"
    with HubStandIn() as stand_in:
        stand_in.create_repo(REPO_ID, files=repository_files(tiny_build))
        stand_in.faults["resolve"] = Fault("silent", path=SHARD)
        start = time.monotonic()
        with pytest.raises(InputError, match="within 1 s"):
            torch_module.AfroMNIST(root, config="vai", download=True, repo_id=REPO_ID, endpoint=stand_in.url, timeout=1)
        assert time.monotonic() - start < 1 + MARGIN
        assert not (tmp_path / "work").exists(), "the folders the download made are gone, the worker's too"
    time.sleep(1)  # whatever the abandoned worker might still do, it had time to do it
    assert not (tmp_path / "work").exists()

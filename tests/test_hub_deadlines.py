"""A Hub that stalls, trickles, or answers 503 at any stage ends a push within --timeout plus a little, in one line.

The stand-in misbehaves at one stage at a time; huggingface_hub's real client and its retries run unchanged.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from huggingface_hub import constants

from generator.cli import main
from tests.conftest import assert_one_line_error
from tests.hub_stand_in import WRITE_TOKEN, Fault, HubStandIn

REPO_ID = "ada/afro_mnist"
TIMEOUT = 2.0
# What a stalled stage may take past --timeout: the hooks' checks, thread start, the error's printing.
MARGIN = 3.0


@pytest.fixture(autouse=True)
def token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-stored-token"))
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)


@pytest.fixture
def build(tiny_build: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "build" / "afro_mnist"
    shutil.copytree(tiny_build, folder)
    return folder


@pytest.fixture
def hub(tiny_build: Path):
    """A repository that holds geez already, so that a push of vai reads geez's metadata.json back."""
    files = {f"geez/{path.name}": path.read_bytes() for path in sorted((tiny_build / "geez").iterdir())}
    with HubStandIn() as stand_in:
        stand_in.create_repo(REPO_ID, files=files)
        yield stand_in


def timed_push(capsys, hub: HubStandIn, build: Path) -> tuple[int, str, float]:
    start = time.monotonic()
    options = ["--configs", "vai", "--endpoint", hub.url, "--timeout", str(TIMEOUT)]
    code = main(["push", "--repo-id", REPO_ID, "--from", str(build), *options])
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    assert WRITE_TOKEN not in captured.out + captured.err
    return code, captured.err, elapsed


STAGES = {
    "whoami": "checking the token",
    "lookup": "looking up the repository",
    "tree": "listing the repository",
    "resolve": "reading config 'geez' from the Hub",
    "resolve-head": "reading config 'geez' from the Hub",
    "preupload": "committing",
    "commit": "committing",
}


FAULTS = {
    "silent": Fault("silent"),
    "a byte every 5 s": Fault("trickle", 5.0),
    "a byte every 0.3 s": Fault("trickle", 0.3),
}
# Every stage with every fault, but a HEAD answer, which has no body to trickle.
STALLS = [(stage, name) for stage in STAGES for name in FAULTS if stage != "resolve-head" or name == "silent"]


@pytest.mark.parametrize(("stage", "fault_name"), STALLS)
def test_a_stalled_stage_ends_the_push_within_the_timeout(capsys, hub, build: Path, stage: str, fault_name: str):
    fault = FAULTS[fault_name]
    hub.faults[stage] = fault
    code, err, elapsed = timed_push(capsys, hub, build)
    assert_one_line_error(code, err, hub.url, STAGES[stage], f"within --timeout {TIMEOUT:g} s")
    assert elapsed < TIMEOUT + MARGIN, f"{stage} stalled the push for {elapsed:.1f} s"
    if stage == "commit":
        assert "may still land" in err, "a commit that was sent may have been applied"
    else:
        assert "nothing was committed" in err
        assert hub.commits == []


@pytest.mark.parametrize("stage", ["lookup", "preupload", "commit", "resolve"])
def test_retries_of_a_hub_that_answers_503_fold_into_the_one_line(capsys, hub, build: Path, stage: str):
    hub.faults[stage] = Fault("status", status=503)
    code, err, elapsed = timed_push(capsys, hub, build)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, f"huggingface_hub's retry warnings were printed:\n{err}"
    assert elapsed < TIMEOUT + MARGIN
    assert "503" in err
    assert hub.commits == []


def test_a_push_within_the_timeout_is_unchanged_by_the_deadline(capsys, hub, build: Path):
    hub.faults["tree"] = Fault("trickle", interval=0.001)  # slow, but well inside the deadline
    code, err, _ = timed_push(capsys, hub, build)
    assert code == 0, err
    assert len(hub.commits) == 1

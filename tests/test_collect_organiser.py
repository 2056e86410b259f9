"""The organiser's side: joining from a phone (LAN address, QR codes) and the pages behind the review token.

No test binds an address other than 127.0.0.1: the LAN address is chosen from lists the tests give,
and the command's LAN lookup is replaced by one that answers 127.0.0.1.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from generator.collect import command, lan
from generator.collect.drawing import CANVAS, png_bytes
from generator.collect.review import create_review_app
from generator.collect.storage import Storage
from generator.registry import NumeralSystem
from tests.collect_drawings import draw_numeral, scribble
from tests.conftest import assert_one_line_error, run_cli

TOKEN = "organiser-test-review-token-0123456789"
URL = "http://192.168.1.23:8000/"


# --- the LAN address and the QR codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (["127.0.0.1", "192.168.1.23"], "192.168.1.23"),
        (["172.17.0.1", "10.0.0.5", "192.168.0.9"], "192.168.0.9"),  # a home or school router's range first
        (["172.17.0.1", "10.12.0.5"], "10.12.0.5"),
        (["169.254.3.4", "172.20.1.1"], "172.20.1.1"),  # link-local: a network without a router
        (["203.0.113.7", "127.0.1.1"], "203.0.113.7"),  # a public address beats none
        (["127.0.0.1", "127.0.1.1", "0.0.0.0", "not an address", "::1", "fe80::1"], None),
        ([], None),
    ],
)
def test_the_lan_address_is_the_one_phones_can_reach(candidates: list[str], expected: str | None):
    assert lan.choose_address(candidates) == expected


def test_the_machines_addresses_are_read_without_binding_any():
    found = lan.machine_addresses()
    assert all(isinstance(address, str) for address in found)
    assert lan.lan_address() in [*found, None]


def test_the_qr_codes_carry_the_url():
    text = lan.terminal_qr(URL)
    lines = text.strip("\n").splitlines()
    assert len(lines) >= 12  # version 2 and up: 25 modules and a border, two modules a line
    assert len({len(line) for line in lines}) == 1  # a square of equal lines
    assert set("".join(lines)) <= {"█", "▀", "▄", " "}
    assert lan.terminal_qr(URL) == text
    assert lan.terminal_qr(URL + "x") != text
    svg = lan.svg_qr(URL)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert root.find("{http://www.w3.org/2000/svg}title").text == URL
    assert len(list(root.iter("{http://www.w3.org/2000/svg}path"))) >= 1  # the dark modules
    assert lan.join_url("192.168.1.23", 8000) == URL
    assert lan.join_url("fd00::5", 8000) == "http://[fd00::5]:8000/"


def test_serve_lan_prints_the_warning_the_url_and_the_qr_code(monkeypatch, capsys, tmp_path: Path):
    served = {}
    monkeypatch.setattr(lan, "lan_address", lambda: "127.0.0.1")  # the loopback stands in for the LAN
    monkeypatch.setattr(command, "serve_forever", lambda app, host, port, what, path="/": served.update(host=host))
    code = command_main(["collect", "serve", "--lan", "--configs", "vai", "--db", str(tmp_path / "c.sqlite")])
    out, err = capsys.readouterr()
    assert code == 0
    assert served == {"host": "127.0.0.1"}
    assert err.count("warning: --lan") == 1
    assert "anyone who can join it" in err
    assert "TLS" in err
    assert lan.terminal_qr("http://127.0.0.1:8000/") in out


def test_serve_lan_refuses_host_and_a_machine_without_a_network(monkeypatch, capsys, tmp_path: Path):
    db = str(tmp_path / "c.sqlite")
    code, err = run_cli(capsys, "collect", "serve", "--lan", "--host", "0.0.0.0", "--configs", "vai", "--db", db)
    assert_one_line_error(code, err, "--lan", "--host 0.0.0.0")
    monkeypatch.setattr(lan, "lan_address", lambda: None)
    code, err = run_cli(capsys, "collect", "serve", "--lan", "--configs", "vai", "--db", db)
    assert_one_line_error(code, err, "--lan", "no address on a local network")


def command_main(argv: list[str]) -> int:
    from generator.cli import main

    return main(argv)


# --- the organiser's pages ---------------------------------------------------------------------------------------


@pytest.fixture
def organiser(tmp_path: Path, vai: NumeralSystem):
    storage = Storage(str(tmp_path / "collect.sqlite"))
    for writer in range(3):
        session = f"writer-{writer}".ljust(43, "x")
        storage.consent(session)
        rng = np.random.default_rng(writer)
        for label in range(vai.num_classes):
            strokes = draw_numeral(vai, label, rng)
            storage.add_drawing("vai", label, session, strokes, png_bytes(strokes), "touch", CANVAS)
    vandal = "vandal".ljust(43, "x")
    storage.consent(vandal)
    for label in range(4):
        strokes = scribble(np.random.default_rng(label))
        storage.add_drawing("vai", label, vandal, strokes, png_bytes(strokes), "mouse", CANVAS, flag="scribbled")
    app = create_review_app(storage, [vai], TOKEN, join_url=URL, class_goal=5, db="campaign.sqlite")
    with TestClient(app) as client:
        yield client
    storage.close()


def sign_in(client: TestClient) -> None:
    answer = client.post("/review/login", data={"token": TOKEN, "reviewer": "Ada"}, follow_redirects=False)
    assert answer.status_code == 303


def test_organiser_pages_need_the_token(organiser: TestClient):
    paths = (
        "/review/organiser",
        "/review/join",
        "/review/join.svg",
        "/review/numeral/vai/3.png",
        "/review/export/vai.ndjson",
    )
    for path in paths:
        answer = organiser.get(path)
        assert answer.status_code == 401, path
        assert URL not in answer.text


def test_the_organiser_view(organiser: TestClient, vai: NumeralSystem):
    sign_in(organiser)
    page = organiser.get("/review/organiser")
    assert page.status_code == 200
    text = page.text
    # 34 drawings by 4 writers; the vandal's 4 are flagged; the goal is 5 of each of 10 classes.
    assert "<strong>30</strong> usable of 34 drawings by 4 writers" in text
    assert "<strong>60%</strong> of the goal (50)" in text
    assert "Flagged, awaiting review: 4 (12%)" in text
    assert "Mostly flagged or rejected:</strong> 1 writer." in text
    assert text.count('src="/review/numeral/vai/') == vai.num_classes
    assert "afro-mnist collect export --db campaign.sqlite --out collected --format parquet" in text
    assert "x" * 20 not in text  # session ids never: writers go by their public id
    reference = organiser.get("/review/numeral/vai/3.png")
    assert reference.status_code == 200
    assert reference.content.startswith(b"\x89PNG")
    assert organiser.get("/review/numeral/vai/10.png").status_code == 404


def test_the_join_page(organiser: TestClient):
    sign_in(organiser)
    page = organiser.get("/review/join")
    assert page.status_code == 200
    assert f'<p class="url">{URL}</p>' in page.text
    assert 'src="/review/join.svg"' in page.text
    svg = organiser.get("/review/join.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.content == lan.svg_qr(URL)


def test_the_strokes_download_holds_the_usable_drawings_only(organiser: TestClient):
    sign_in(organiser)
    assert 'href="/review/export/vai.ndjson"' in organiser.get("/review/organiser").text
    answer = organiser.get("/review/export/vai.ndjson")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="vai.ndjson"'
    records = [json.loads(line) for line in answer.text.splitlines()]
    # The 3 writers' drawings that export finds usable (it scores those stored unscored, as these were);
    # never the vandal's 4 scribbles, flagged and awaiting review.
    assert 25 <= len(records) <= 30
    assert {record["pointer"] for record in records} == {"touch"}
    assert {record["config"] for record in records} == {"vai"}
    assert len({record["writer"] for record in records}) == 3
    assert "x" * 20 not in answer.text  # writers by public id, never their session
    assert organiser.get("/review/export/geez.ndjson").status_code == 404


def test_the_strokes_download_of_a_config_without_drawings_is_empty(tmp_path: Path, vai: NumeralSystem):
    storage = Storage(str(tmp_path / "empty.sqlite"))
    with TestClient(create_review_app(storage, [vai], TOKEN)) as client:
        sign_in(client)
        answer = client.get("/review/export/vai.ndjson")
        assert (answer.status_code, answer.content) == (200, b"")
    storage.close()

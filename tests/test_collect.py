"""The collection: storage, balancing, the anomaly model, the exports, and the page's defences.

Every drawing here is made by the test (tests/collect_drawings.py traces the bundled fonts' numerals
as writers with their own slant and size would draw them).
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import sqlite3
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from generator.cli import main
from generator.collect.anomaly import assess
from generator.collect.app import choose_class, create_app
from generator.collect.drawing import CANVAS, MAX_POINTS, MAX_STROKES, SubmissionError, parse_submission, simplified
from generator.collect.export import export, split_by_writer, writer_id
from generator.collect.review import create_review_app
from generator.collect.storage import ACCEPTED, NEW, REJECTED, Drawing, Storage, contacts, database_url
from generator.collect.web import Limits
from generator.errors import InputError
from generator.registry import NumeralSystem
from generator.repository.card import write_repository_files
from tests.collect_drawings import draw_numeral, scribble
from tests.collect_server import free_port
from tests.conftest import assert_one_line_error, run_cli

WRITERS = 8
TOKEN = "review-token-for-the-tests-0123456789"


def fill(storage: Storage, system: NumeralSystem, writers: int = WRITERS, first: int = 0) -> list[int]:
    """Each writer draws every class once, as the page would store it; returns the drawings' ids."""
    from generator.collect.drawing import png_bytes

    ids = []
    for writer in range(first, first + writers):
        session = f"writer-{writer:02d}".ljust(43, "x")
        storage.consent(session)
        rng = np.random.default_rng(writer)
        for label in range(system.num_classes):
            strokes = draw_numeral(system, label, rng, font=writer % len(system.fonts))
            ids.append(storage.add_drawing(system.name, label, session, strokes, png_bytes(strokes), "touch", CANVAS))
    return ids


def accept_first(storage: Storage, ids: list[int], system: NumeralSystem, writers: int = 3) -> None:
    """A reviewer accepts the first writers' drawings, as a campaign's organiser does at its start: the
    model then knows hands' forms besides the fonts' (traced Vai 8s resemble the fonts' 0 at first)."""
    storage.decide_many(ids[: writers * system.num_classes], "accept", "Ada")


@pytest.fixture
def storage(tmp_path: Path):
    store = Storage(str(tmp_path / "collect.sqlite"))
    yield store
    store.close()


# --- storage ---------------------------------------------------------------------------------------------------


def test_storage_keeps_points_png_and_review_history(storage: Storage, vai: NumeralSystem, tmp_path: Path):
    strokes = draw_numeral(vai, 4, np.random.default_rng(0))
    storage.consent("s" * 43)
    drawing_id = storage.add_drawing("vai", 4, "s" * 43, strokes, b"\x89PNG...", "pen", CANVAS)
    (stored,) = storage.drawings("vai")
    assert (stored.id, stored.label, stored.session, stored.pointer, stored.status) == (
        drawing_id,
        4,
        "s" * 43,
        "pen",
        "new",
    )
    assert stored.strokes == strokes
    assert stored.png == b"\x89PNG..."
    assert storage.decide(drawing_id, "reject", "Ada")
    assert storage.decide(drawing_id, "accept", "Bea")
    assert not storage.decide(drawing_id + 1, "accept", "Bea")
    assert [(d["decision"], d["reviewer"]) for d in storage.decisions(drawing_id)] == [
        ("reject", "Ada"),
        ("accept", "Bea"),
    ]
    assert all(d["decided_at"] for d in storage.decisions())
    assert storage.drawings("vai")[0].status == ACCEPTED
    # WAL mode, and no column anywhere that could hold an address.
    with sqlite3.connect(tmp_path / "collect.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = {
            row[1]
            for table in ("sessions", "drawings", "declines", "decisions", "contacts")
            for row in db.execute(f"PRAGMA table_info({table})")
        }
    assert not {"ip", "address", "client", "host", "user_agent"} & columns


def test_database_urls():
    assert database_url("collect.sqlite") == "sqlite:///collect.sqlite"
    assert database_url("postgresql+psycopg://u:p@db/collect") == "postgresql+psycopg://u:p@db/collect"
    with pytest.raises(InputError, match="mysql"):
        database_url("mysql://u@h/db")
    with pytest.raises(InputError, match="in-memory"):
        Storage("sqlite://")


def test_unusable_databases_are_named_without_their_password(tmp_path: Path):
    with pytest.raises(InputError, match="psycopg") as error:
        Storage("postgresql+psycopg://collector:s3cret@127.0.0.1:1/collect")
    assert "s3cret" not in str(error.value)
    (tmp_path / "a-folder.sqlite").mkdir()
    with pytest.raises(InputError, match="cannot be opened"):
        Storage(str(tmp_path / "a-folder.sqlite"))


def test_balancing_asks_for_the_rarest_class(storage: Storage, vai: NumeralSystem):
    rng = random.Random(0)
    counts = [5, 2, 2, 9, 2, 5, 5, 5, 5, 5]
    assert {choose_class(counts, set(), None, rng) for _ in range(50)} == {1, 2, 4}
    assert {choose_class(counts, {1, 2}, None, rng) for _ in range(20)} == {4}
    assert choose_class(counts, {1, 2}, 4, rng) in {0, 5, 6, 7, 8, 9}  # never the same prompt twice in a row
    assert choose_class([0, 0], {0, 1}, None, rng) is None
    # Counts come from the database, rejected drawings not counted.
    fill(storage, vai, writers=1)
    first = storage.drawings("vai")[0]
    storage.decide(first.id, "reject", "Ada")
    assert storage.class_counts("vai", 10) == [0] + [1] * 9
    # One writer's counts, for balancing within a writer: another writer's drawings do not count.
    fill(storage, vai, writers=1, first=1)
    assert storage.class_counts("vai", 10) == [1] + [2] * 9
    assert storage.class_counts("vai", 10, "writer-01".ljust(43, "x")) == [1] * 10


# --- the anomaly model -----------------------------------------------------------------------------------------


def test_anomaly_model_flags_scribble_mislabel_and_outlier_only(vai: NumeralSystem):
    drawings = []
    for writer in range(10):
        rng = np.random.default_rng(writer)
        for label in range(10):
            strokes = draw_numeral(vai, label, rng, font=writer % len(vai.fonts))
            drawings.append(  # a reviewer accepted these: they, with the fonts, are what each class looks like
                Drawing(len(drawings) + 1, "vai", label, f"w{writer}", "", "touch", CANVAS, strokes, b"", "accepted")
            )
    rng = np.random.default_rng(99)
    # The right shape, but dabbed on in dozens of strokes of two points: only the stroke count gives it away.
    dabs = [stroke[i : i + 2] for stroke in draw_numeral(vai, 6, rng) for i in range(0, len(stroke), 2)]
    planted = {
        1001: ("scribbled", Drawing(1001, "vai", 3, "x", "", "touch", CANVAS, scribble(rng), b"", "new")),
        1002: ("looks like ꘢", Drawing(1002, "vai", 5, "x", "", "touch", CANVAS, draw_numeral(vai, 2, rng), b"", NEW)),
        1003: ("unusual for ꘦", Drawing(1003, "vai", 6, "x", "", "touch", CANVAS, dabs, b"", "new")),
    }
    verdicts = assess(vai, drawings + [drawing for _, drawing in planted.values()])
    flagged = {v.drawing_id: v.reason for v in verdicts if v.flagged}
    assert set(flagged) == set(planted), flagged
    for drawing_id, (kind, _) in planted.items():
        assert flagged[drawing_id].startswith(kind), flagged[drawing_id]
    assert "drawn in many more strokes" in flagged[1003]
    assert set(verdicts[0].features) == {
        "ink",
        "aspect",
        "centre_x",
        "centre_y",
        "extent",
        "strokes",
        "length",
        "correlation",
        "floor",
        "rival",
        "rival_correlation",
    }


# --- exports ---------------------------------------------------------------------------------------------------


def test_writer_disjoint_split(storage: Storage, vai: NumeralSystem):
    fill(storage, vai)
    drawings = storage.drawings("vai")
    splits = split_by_writer(drawings, 0.25)
    writers = {split: {d.session for d in splits[split]} for split in splits}
    assert writers["train"]
    assert writers["test"]
    assert not writers["train"] & writers["test"]
    assert len(splits["train"]) + len(splits["test"]) == len(drawings)
    assert 0.2 <= len(splits["test"]) / len(drawings) <= 0.4
    with pytest.raises(InputError, match="at least two"):
        split_by_writer([d for d in drawings if d.session == drawings[0].session], 0.25)


def test_parquet_export_is_a_config_that_datasets_and_evaluate_real_read(
    storage: Storage, vai: NumeralSystem, tmp_path: Path
):
    import datasets

    from generator.evaluation.realdata import read_real

    ids = fill(storage, vai)
    accept_first(storage, ids[vai.num_classes :], vai)
    storage.decide(ids[0], "reject", "Ada")
    out = tmp_path / "collected"
    ((folder, note),) = export(storage, [vai], "parquet", out)
    assert folder == out / "vai_handwritten"
    assert "split by writer" in note
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["source"] == "handwritten"
    assert metadata["collection"]["left_out"]["rejected"] == 1
    assert metadata["collection"]["licence"] == "CC BY-SA 4.0"
    total = sum(metadata["splits"][split]["num_examples"] for split in ("train", "test"))
    assert total == len(ids) - 1

    loaded = datasets.load_dataset(
        "parquet",
        data_files={split: str(folder / f"{split}-*.parquet") for split in ("train", "test")},
        cache_dir=str(tmp_path / "cache"),
    )
    assert loaded["train"].features["label"].names == list(vai.class_names)
    assert loaded["train"][0]["image"].size == (28, 28)
    assert loaded["train"].num_rows + loaded["test"].num_rows == total
    # Writer-disjoint: the shards' rows, matched back to the database by their labels and order.
    by_id = {d.id: d for d in storage.drawings("vai")}
    splits = split_by_writer([by_id[i] for i in ids[1:]], 0.2)
    assert [d.label for d in splits["test"]] == loaded["test"]["label"]
    assert not {d.session for d in splits["train"]} & {d.session for d in splits["test"]}
    # The same schema as a generated config's shards.
    from generator.repository.shards import features

    assert pq.read_schema(folder / "train-00000-of-00001.parquet") == features(vai.class_names).arrow_schema
    # evaluate-real reads the folder directly, both splits.
    real = read_real(folder, list(vai.class_names))
    assert real.images.shape == (total, 28, 28)
    # The command then writes the card, which has its section; and the same database gives the same bytes.
    write_repository_files(out)
    assert "### `vai_handwritten`: Vai numerals, handwritten" in (out / "README.md").read_text()
    before = (folder / "test-00000-of-00001.parquet").read_bytes()
    with pytest.raises(InputError, match="already exists"):
        export(storage, [vai], "parquet", out)
    export(storage, [vai], "parquet", out, overwrite=True)
    assert (folder / "test-00000-of-00001.parquet").read_bytes() == before


def test_exemplar_and_stroke_exports(storage: Storage, vai: NumeralSystem, tmp_path: Path):
    ids = fill(storage, vai, writers=2)
    accept_first(storage, ids, vai, writers=2)
    rng = np.random.default_rng(5)
    from generator.collect.drawing import png_bytes

    storage.consent("z" * 43)
    junk = storage.add_drawing("vai", 3, "z" * 43, scribble(rng), png_bytes(scribble(rng)), "mouse", CANVAS)
    storage.add_contact("z" * 43, "Ada Writer", "ada@example.org")
    ((folder, _),) = export(storage, [vai], "exemplars", tmp_path / "seeds")
    files = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.png"))
    assert len(files) == len(ids)  # the scribble, flagged and not reviewed, is left out
    assert f"3/{junk:06d}.png" not in files
    assert files[0] == f"0/{ids[0]:06d}.png"

    storage.decide(junk, "accept", "Ada")  # a reviewer's acceptance overrides the model
    ((ndjson, _),) = export(storage, [vai], "strokes", tmp_path / "strokes")
    lines = [json.loads(line) for line in ndjson.read_text().splitlines()]
    assert len(lines) == len(ids) + 1
    first = lines[0]
    assert set(first) == {
        "key_id",
        "config",
        "word",
        "label",
        "code_point",
        "writer",
        "pointer",
        "timestamp",
        "drawing",
    }
    assert first["writer"] == writer_id(storage.drawings("vai")[0].session) != storage.drawings("vai")[0].session
    xs, ys = first["drawing"][0]
    assert len(xs) == len(ys)
    assert all(0 <= v <= 255 for v in xs + ys)
    assert all(isinstance(v, int) for v in xs)
    # Names and emails are never exported.
    assert storage.count(contacts) == 1
    for path in [*(tmp_path / "seeds").rglob("*"), *(tmp_path / "strokes").rglob("*")]:
        if path.is_file():
            assert b"Ada Writer" not in path.read_bytes()
            assert b"example.org" not in path.read_bytes()


def test_simplified_strokes_keep_the_shape():
    line = [[[float(x), 100.0 - x, 0.0, 0.5] for x in range(0, 101)]]
    ((xs, ys),) = simplified(line)
    assert (xs, ys) == ([0, 255], [255, 0])  # a straight line is its two ends


def test_collect_export_command_errors(capsys, tmp_path: Path, storage: Storage, vai: NumeralSystem):
    db = str(tmp_path / "collect.sqlite")
    code, err = run_cli(capsys, "collect", "export", "--db", db, "--out", str(tmp_path / "o"), "--format", "parquet")
    assert_one_line_error(code, err, "holds no drawings yet")
    fill(storage, vai, writers=1)
    code, err = run_cli(capsys, "collect", "export", "--db", db, "--out", str(tmp_path / "o"), "--format", "parquet")
    assert_one_line_error(code, err, "needs at least two")
    assert not (tmp_path / "o").exists()
    code, err = run_cli(capsys, "collect", "export", "--db", "mysql://x/y", "--out", "o", "--format", "strokes")
    assert_one_line_error(code, err, "mysql")
    code, err = run_cli(capsys, "collect", "review", "--db", db)
    assert_one_line_error(code, err, "AFRO_MNIST_REVIEW_TOKEN")


# --- the page's defences ---------------------------------------------------------------------------------------


@pytest.fixture
def client(storage: Storage, vai: NumeralSystem):
    with TestClient(create_app(storage, [vai], limits=Limits(session_burst=8, session_per_minute=1))) as test_client:
        page = test_client.get("/")
        test_client.headers["x-csrf-token"] = re.search(r'name="csrf-token" content="(\w+)"', page.text)[1]
        assert test_client.post("/api/consent", json={"basis": "16_or_older"}).status_code == 200
        yield test_client


def drawing_body(vai: NumeralSystem, **changes: object) -> dict:
    body = {"config": "vai", "label": 2, "pointer": "touch", "strokes": draw_numeral(vai, 2, np.random.default_rng(1))}
    return body | changes


def test_page_headers_and_escaping(client: TestClient):
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text.replace('<script src="/static/draw.js"></script>', "")
    assert "afro_mnist_session" in client.cookies
    assert client.get("/static/draw.js").status_code == 200
    assert client.get("/numeral/vai/3.png").headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"label": 10}, 400, "label must be a class index"),
        ({"config": "klingon"}, 400, "config must be one of"),
        ({"label": True}, 400, "label must be a class index"),
        ({"strokes": [[[1, 2, 3, 0.5]]] * (MAX_STROKES + 1)}, 400, "strokes"),
        ({"strokes": [[[1, 2, 3, 0.5]] * (MAX_POINTS + 1)]}, 400, "at most"),
        ({"strokes": [[[CANVAS + 1, 2, 3, 0.5]]]}, 400, "x and y"),
        ({"strokes": [[[1, 2, -1, 0.5]]]}, 400, "t must"),
        ({"strokes": [[[1, 2, 3, 2]]]}, 400, "pressure"),
        ({"strokes": [[["<script>", 2, 3, 0.5]]]}, 400, "finite numbers"),
        ({"pointer": "<script>alert(1)</script>"}, 400, "pointer"),
        ({"extra": 1}, 400, "exactly the keys"),
    ],
)
def test_bad_drawings_are_refused(
    client: TestClient, storage: Storage, vai: NumeralSystem, change, status, message, caplog
):
    with caplog.at_level(logging.WARNING, logger="afro_mnist.collect"):
        response = client.post("/api/drawing", json=drawing_body(vai, **change))
    assert response.status_code == status
    assert message in response.json()["error"]
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("refused POST /api/drawing: 400")
    assert storage.drawings() == []
    assert client.post("/api/drawing", json=drawing_body(vai)).status_code == 200  # still serving


def test_hostile_requests_get_4xx_and_the_server_stays_up(
    client: TestClient, storage: Storage, vai: NumeralSystem, caplog
):
    token = client.headers.pop("x-csrf-token")
    with caplog.at_level(logging.WARNING, logger="afro_mnist.collect"):
        assert client.post("/api/drawing", json=drawing_body(vai)).status_code == 403  # no CSRF token
        assert (
            client.post("/api/drawing", json=drawing_body(vai), headers={"x-csrf-token": "0" * 64}).status_code == 403
        )
        client.headers["x-csrf-token"] = token
        other = {"origin": "https://evil.example"}
        assert client.post("/api/drawing", json=drawing_body(vai), headers=other).status_code == 403
        assert client.post("/api/drawing", content=b"[" * 300_000).status_code == 413  # capped before parsing
        huge = {"content-length": str(10**9)}
        assert client.post("/api/drawing", content=b"{}", headers=huge).status_code == 413
        streamed = iter([b"[" * 100_000] * 4)  # no Content-Length: counted as it arrives
        assert client.post("/api/drawing", content=streamed).status_code == 413
        assert client.post("/api/drawing", content=b"{not json").status_code == 400
        assert client.post("/api/contact", json={"name": "<script>alert(1)</script>"}).status_code == 400
        assert client.post("/api/contact", json={"email": "a@b.c<img src=x>"}).status_code == 400
        assert client.post("/api/decline", json={"config": "vai", "label": 99, "reason": "skip"}).status_code == 400
        assert client.get("/api/prompt?config=../../etc").status_code == 400
    assert len(caplog.records) == 11
    assert all(re.fullmatch(r"refused \w+ \S+: 4\d\d .+", r.getMessage()) for r in caplog.records)
    assert "evil" not in caplog.text
    assert "testclient" not in caplog.text  # no address in the log
    assert storage.drawings() == []
    assert storage.count(contacts) == 0
    assert client.post("/api/contact", json={"name": "Ada Writer", "email": "ada@example.org"}).status_code == 200
    assert client.post("/api/drawing", json=drawing_body(vai)).status_code == 200


def test_rate_limit_per_session(client: TestClient, vai: NumeralSystem):
    answers = [client.post("/api/drawing", json=drawing_body(vai)).status_code for _ in range(10)]
    # One post (the consent) and seven drawings fill the burst of eight; then the visitor must wait.
    assert answers[:7] == [200] * 7
    assert set(answers[7:]) == {429}


def test_rate_limit_per_address(storage: Storage, vai: NumeralSystem):
    app = create_app(storage, [vai], limits=Limits(address_burst=5, address_per_minute=1))
    answers = []
    for _ in range(3):  # three visitors behind one address, each with their own session
        with TestClient(app) as visitor:
            page = visitor.get("/")
            visitor.headers["x-csrf-token"] = re.search(r'name="csrf-token" content="(\w+)"', page.text)[1]
            answers += [visitor.post("/api/consent", json={"basis": "16_or_older"}).status_code for _ in range(2)]
    assert answers == [200] * 5 + [429]


def test_skip_and_unknown_shape_the_prompts(client: TestClient, storage: Storage):
    asked = client.get("/api/prompt?config=vai").json()
    assert client.post("/api/decline", json={"config": "vai", "label": asked["label"], "reason": "unknown"}).json()[
        "ok"
    ]
    for _ in range(20):
        assert client.get(f"/api/prompt?config=vai&after={asked['label']}").json()["label"] != asked["label"]


def test_parse_submission_rejects_non_objects(vai: NumeralSystem):
    for body in (b"[]", b"null", b"\xff\xfe", b'{"config": "vai"}'):
        with pytest.raises(SubmissionError):
            parse_submission(body, {"vai": vai})


def test_review_needs_the_token_and_records_who_decided(storage: Storage, vai: NumeralSystem, caplog):
    (first, *_) = fill(storage, vai, writers=1)
    with TestClient(create_review_app(storage, [vai], TOKEN), follow_redirects=False) as admin:
        with caplog.at_level(logging.INFO, logger="afro_mnist.collect"):
            refused = admin.get("/review")
            assert refused.status_code == 401
            assert "/review/drawing/" not in refused.text
            assert admin.get(f"/review/drawing/{first}.png").status_code == 401
            assert admin.post("/review/decide", data={"drawing": first, "decision": "reject"}).status_code == 401
            wrong = admin.post("/review/login", data={"token": TOKEN[:-1] + "x", "reviewer": "Eve"})
            assert wrong.status_code == 401
            login = admin.post("/review/login", data={"token": TOKEN, "reviewer": "Ada <b>"})
            assert login.status_code == 303
            page = admin.get("/review?show=all")
            assert page.status_code == 200
            assert "Ada &lt;b&gt;" in page.text
            assert f"/review/drawing/{first}.png" in page.text
            csrf = re.search(r'name="csrf" value="(\w+)"', page.text)[1]
            assert admin.post("/review/decide", data={"drawing": first, "decision": "reject"}).status_code == 403
            done = admin.post("/review/decide", data={"drawing": first, "decision": "reject", "csrf": csrf})
            assert done.status_code == 303
        assert TOKEN not in caplog.text
        assert TOKEN[:-1] not in caplog.text
    (decision,) = storage.decisions(first)
    assert (decision["decision"], decision["reviewer"]) == ("reject", "Ada <b>")
    assert storage.drawings("vai")[0].status == REJECTED


def test_serving_beyond_this_machine_warns(capsys, monkeypatch, tmp_path: Path):
    from generator.collect import command

    served = []
    monkeypatch.setattr(command, "serve_forever", lambda app, host, port, what, path="/": served.append((host, port)))
    db = str(tmp_path / "collect.sqlite")
    port = free_port()
    assert main(["collect", "serve", "--configs", "vai", "--db", db, "--port", str(port)]) == 0
    assert capsys.readouterr().err == ""
    assert main(["collect", "serve", "--configs", "vai", "--db", db, "--host", "0.0.0.0", "--port", str(port)]) == 0
    assert "reverse proxy" in capsys.readouterr().err
    assert served == [("127.0.0.1", port), ("0.0.0.0", port)]
    code, err = run_cli(capsys, "collect", "serve", "--configs", "klingon", "--db", db)
    assert_one_line_error(code, err, "klingon")
    code, err = run_cli(capsys, "collect", "serve", "--db", db, "--port", "70000")
    assert_one_line_error(code, err, "--port 70000")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, err = run_cli(capsys, "collect", "serve", "--configs", "vai", "--db", db, "--port", port)
    assert_one_line_error(code, err, f"--port {port} cannot be served")


def test_a_handwritten_config_beside_generated_ones(storage: Storage, vai: NumeralSystem, tiny_build: Path, tmp_path):
    import shutil

    from generator.repository.card import read_configs, render_card

    out = tmp_path / "afro_mnist"
    shutil.copytree(tiny_build / "vai", out / "vai")
    accept_first(storage, fill(storage, vai), vai)
    export(storage, [vai], "parquet", out)
    write_repository_files(out)  # as the command does after an export
    card = (out / "README.md").read_text()
    assert [r.name for r in read_configs(out)] == ["vai", "vai_handwritten"]
    assert card == render_card(read_configs(out))
    assert "### `vai`: Vai numerals" in card
    assert "### `vai_handwritten`: Vai numerals, handwritten" in card
    assert "CC BY-SA 4.0" in card
    assert (out / "sample-grids" / "vai_handwritten.png").is_file()
    assert "used by `vai`:" in card  # the recipe belongs to the generated config alone

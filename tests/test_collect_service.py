"""The collection as its users run it: real servers in their own processes, on 127.0.0.1.

- Load: 20 clients send 50 drawings each, at once, to one server over SQLite. Every accepted drawing
  must be in the database, and the server must never answer or log "database is locked".
- End to end: ``afro-mnist collect serve``, drawings the test makes, ``afro-mnist collect review``
  (a reviewer rejects what the model flagged), ``collect export``, then ``generate --exemplars`` and
  ``evaluate-real`` on the exported handwritten config.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from generator.cli import main
from generator.collect.storage import Storage, decisions
from generator.layout import read_metadata
from generator.registry import NumeralSystem
from tests.collect_drawings import draw_numeral, scribble
from tests.collect_server import free_port, wait_until_up

CLIENTS, DRAWINGS_EACH = 20, 50
LOAD_DEADLINE_S = 60
TOKEN = "end-to-end-review-token-0123456789"


@contextmanager
def server_process(argv: list[str], env: dict | None = None):
    """A server in its own process; yields its port and then its stderr, once it has stopped."""
    port = free_port()
    log: dict[str, str] = {}
    process = subprocess.Popen(
        [*argv, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/static/style.css", timeout=60)
        yield port, log
        assert process.poll() is None, "the server died"
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
        log["stdout"], log["stderr"] = out, err


class Visitor:
    """One browser's worth of HTTP: its own connection, session cookie and CSRF token."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", "/")
        page = self.connection.getresponse()
        body = page.read().decode()
        self.cookie = page.getheader("set-cookie").split(";", 1)[0]
        self.csrf = re.search(r'name="csrf-token" content="(\w+)"', body)[1]

    def post(self, path: str, data: dict) -> tuple[int, dict]:
        headers = {"content-type": "application/json", "cookie": self.cookie, "x-csrf-token": self.csrf}
        self.connection.request("POST", path, body=json.dumps(data), headers=headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())

    def close(self) -> None:
        self.connection.close()


def test_concurrent_submissions_lose_nothing(tmp_path: Path, vai: NumeralSystem, record_property):
    db = tmp_path / "collect.sqlite"
    # The page's own limits would (rightly) stop one address sending 1,000 drawings in seconds.
    serve = (
        "import sys, uvicorn\n"
        "from generator.collect.app import create_app\n"
        "from generator.collect.storage import Storage\n"
        "from generator.collect.web import Limits\n"
        "from generator.registry import builtin_systems\n"
        "unlimited = Limits(session_per_minute=1e9, session_burst=10**9, address_per_minute=1e9, address_burst=10**9)\n"
        f"app = create_app(Storage({str(db)!r}), [builtin_systems()['vai']], limits=unlimited)\n"
        "uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[2]), access_log=False, log_level='warning')\n"
    )
    rng = np.random.default_rng(0)
    bodies = [
        {"config": "vai", "label": label, "pointer": "touch", "strokes": draw_numeral(vai, label, rng)}
        for label in range(10)
    ]
    accepted: list[list[int]] = [[] for _ in range(CLIENTS)]
    latencies: list[float] = []
    failures: list[str] = []

    def client(index: int, port: int, deadline: float) -> None:
        visitor = Visitor(port)
        assert visitor.post("/api/consent", {"basis": "16_or_older"})[0] == 200
        for number in range(DRAWINGS_EACH):
            if time.monotonic() > deadline:
                failures.append(f"client {index} ran past the deadline")
                return
            started = time.perf_counter()
            status, answer = visitor.post("/api/drawing", bodies[(index + number) % len(bodies)])
            latencies.append(time.perf_counter() - started)
            if status == 200:
                accepted[index].append(answer["id"])
            else:
                failures.append(f"client {index}: {status} {answer}")
        visitor.close()

    with server_process([sys.executable, "-c", serve]) as (port, log):
        deadline = time.monotonic() + LOAD_DEADLINE_S
        threads = [threading.Thread(target=client, args=(i, port, deadline)) for i in range(CLIENTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(LOAD_DEADLINE_S + 5)
        wall = time.perf_counter() - started
    assert failures == []
    ids = [i for client_ids in accepted for i in client_ids]
    assert len(ids) == len(set(ids)) == CLIENTS * DRAWINGS_EACH
    storage = Storage(str(db))
    stored = storage.drawings("vai", with_png=False)
    storage.close()
    assert sorted(d.id for d in stored) == sorted(ids)  # nothing lost, nothing extra
    assert len({d.session for d in stored}) == CLIENTS
    assert "database is locked" not in log["stderr"]
    assert "Traceback" not in log["stderr"]
    figures = {
        "drawings": len(ids),
        "wall_s": round(wall, 2),
        "per_s": round(len(ids) / wall, 1),
        "median_ms": round(1000 * float(np.median(latencies)), 1),
        "p95_ms": round(1000 * float(np.percentile(latencies, 95)), 1),
        "max_ms": round(1000 * max(latencies), 1),
    }
    record_property("load", figures)
    print(f"load test: {CLIENTS} clients x {DRAWINGS_EACH} drawings: {figures}")


def test_serve_draw_review_export_generate(tmp_path: Path, vai: NumeralSystem, capsys):
    db = tmp_path / "collect.sqlite"
    cli = [sys.executable, "-m", "generator", "collect"]
    # Serve, and draw: four writers draw every numeral once; a fifth scribbles.
    with server_process([*cli, "serve", "--configs", "vai", "--db", str(db)]) as (port, log):
        for writer in range(4):
            visitor = Visitor(port)
            assert visitor.post("/api/consent", {"basis": "16_or_older"})[0] == 200
            rng = np.random.default_rng(writer)
            for label in range(10):
                strokes = draw_numeral(vai, label, rng, font=writer % len(vai.fonts))
                body = {"config": "vai", "label": label, "pointer": "pen", "strokes": strokes}
                assert visitor.post("/api/drawing", body)[0] == 200
            visitor.close()
        vandal = Visitor(port)
        vandal.post("/api/consent", {"basis": "parent_or_teacher"})
        status, answer = vandal.post(
            "/api/drawing",
            {"config": "vai", "label": 7, "pointer": "mouse", "strokes": scribble(np.random.default_rng(9))},
        )
        assert status == 200
        scribble_id = answer["id"]
        vandal.close()
    assert f"http://127.0.0.1:{port}/" in log["stdout"]

    # Review: the model flags the scribble; the reviewer rejects it.
    with server_process(
        [*cli, "review", "--configs", "vai", "--db", str(db)], env={"AFRO_MNIST_REVIEW_TOKEN": TOKEN}
    ) as (
        port,
        log,
    ):
        admin = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        admin.request("GET", "/review")
        refused = admin.getresponse()
        refused.read()
        assert refused.status == 401
        form = urllib.parse.urlencode({"token": TOKEN, "reviewer": "Ada"})
        admin.request("POST", "/review/login", body=form, headers={"content-type": "application/x-www-form-urlencoded"})
        login = admin.getresponse()
        login.read()
        assert login.status == 303
        cookie = login.getheader("set-cookie").split(";", 1)[0]
        admin.request("GET", "/review", headers={"cookie": cookie})
        page = admin.getresponse().read().decode()
        flagged = {int(i) for i in re.findall(r'id="d(\d+)"', page)}
        assert scribble_id in flagged
        # The scribble, and at most the writers' 8s: traced Vai 8s resemble the fonts' 0 until a reviewer
        # has accepted some hands' 8s.
        assert len(flagged) <= 5, flagged
        csrf = re.search(r'name="csrf" value="(\w+)"', page)[1]
        form = urllib.parse.urlencode({"csrf": csrf, "drawing": scribble_id, "decision": "reject"})
        admin.request(
            "POST",
            "/review/decide",
            body=form,
            headers={"content-type": "application/x-www-form-urlencoded", "cookie": cookie},
        )
        decided = admin.getresponse()
        decided.read()
        assert decided.status == 303
        # The honest ones, accepted at once.
        honest = sorted(flagged - {scribble_id})
        form = urllib.parse.urlencode([("csrf", csrf), ("decision", "accept"), *[("drawing", i) for i in honest]])
        admin.request(
            "POST",
            "/review/decide-many",
            body=form,
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "cookie": cookie,
                "accept": "application/json",
            },
        )
        bulk = admin.getresponse()
        assert json.loads(bulk.read()) == {"decided": len(honest), "asked": len(honest)}
        admin.close()
    assert TOKEN not in log["stderr"] + log["stdout"]
    storage = Storage(str(db))
    ((decision, reviewer),) = [(d["decision"], d["reviewer"]) for d in storage.decisions(scribble_id)]
    assert (decision, reviewer) == ("reject", "Ada")
    assert storage.count(decisions) == 1 + len(honest)
    storage.close()

    # Export, and generate from the handwritten seeds.
    out = tmp_path / "collected"
    assert main(["collect", "export", "--db", str(db), "--out", str(out), "--format", "exemplars"]) == 0
    assert (
        main(["collect", "export", "--db", str(db), "--out", str(out), "--format", "parquet", "--test-share", "0.25"])
        == 0
    )
    capsys.readouterr()
    seeds = out / "vai"
    assert not any(path.name == f"{scribble_id:06d}.png" for path in seeds.rglob("*.png"))
    build = tmp_path / "build"
    argv = ["generate", "--configs", "vai", "--exemplars", str(seeds), "--exemplar-weight", "1"]
    assert main([*argv, "--train-size", "20", "--test-size", "10", "--workers", "1", "--out", str(build)]) == 0
    capsys.readouterr()
    seeds_used = read_metadata(build / "vai")["exemplars"]["handwritten_seeds"]
    assert len(seeds_used["kept"]) + len(seeds_used["dropped"]) == len(list(seeds.rglob("*.png")))
    assert len(seeds_used["kept"]) >= 36

    # The handwritten config is real handwriting to score a generated config on.
    pytest.importorskip("torch")
    real = out / "vai_handwritten"
    results = tmp_path / "real"
    argv = ["evaluate-real", "vai", "--real", str(real), "--from", str(build), "--out", str(results), "--epochs", "1"]
    assert main(argv) == 0
    exported = read_metadata(real)["splits"]
    assert json.loads((results / "vai-real.json").read_text())["real_examples"] == sum(
        split["num_examples"] for split in exported.values()
    )
    assert sum(split["num_examples"] for split in exported.values()) >= 36

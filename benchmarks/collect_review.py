"""How long the review page takes with a few thousand drawings in the database.

    nice .venv/bin/python benchmarks/collect_review.py [--drawings 5000] [--views 5]

Fills a fresh SQLite database with ``--drawings`` drawings of Vai (the bundled fonts' numerals traced
in writers' hands, tests/collect_drawings.py; one writer per 10 drawings, a scribble in every 25),
then logs in to the review app and times GET /review (flagged drawings awaiting a decision) and
GET /review?show=all, and the redirect target after one decision. It prints one JSON line.

It uses only what the review app has had since it first existed (Storage.consent, add_drawing,
create_review_app), so the same script times an older checkout too: run it from that checkout's
root with this file copied in. Drawings stored without a verdict (as an older version stored them)
are scored by the first view; the later views read the stored verdicts.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path.cwd()))

from starlette.testclient import TestClient

from generator.collect.drawing import CANVAS, png_bytes
from generator.collect.review import create_review_app
from generator.collect.storage import Storage
from generator.registry import builtin_systems
from tests.collect_drawings import draw_numeral, scribble

TOKEN = "benchmark-review-token-0123456789"


def fill(storage: Storage, count: int) -> float:
    vai = builtin_systems()["vai"]
    started = time.perf_counter()
    for index in range(count):
        writer, label = divmod(index, 10)
        session = f"writer-{writer:05d}".ljust(43, "x")
        if label == 0:
            storage.consent(session)
        rng = np.random.default_rng(index)
        strokes = scribble(rng) if index % 25 == 24 else draw_numeral(vai, label, rng, font=writer % len(vai.fonts))
        storage.add_drawing("vai", label, session, strokes, png_bytes(strokes), "touch", CANVAS)
    return time.perf_counter() - started


def timed(client: TestClient, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    answer = client.get(path)
    assert answer.status_code == 200, answer.status_code
    return time.perf_counter() - started, len(answer.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drawings", type=int, default=5000)
    parser.add_argument("--views", type=int, default=5, help="timed views of each page after the first")
    args = parser.parse_args()
    vai = builtin_systems()["vai"]
    with tempfile.TemporaryDirectory() as folder:
        storage = Storage(str(Path(folder) / "collect.sqlite"))
        fill_s = fill(storage, args.drawings)
        with TestClient(create_review_app(storage, [vai], TOKEN), follow_redirects=False) as admin:
            admin.post("/review/login", data={"token": TOKEN, "reviewer": "Benchmark"})
            first_s, first_bytes = timed(admin, "/review")
            flagged = [timed(admin, "/review") for _ in range(args.views)]
            every = [timed(admin, "/review?show=all") for _ in range(args.views)]
            page = admin.get("/review?show=all").text
            csrf = re.search(r'name="csrf" value="(\w+)"', page)[1]
            drawing = re.search(r'id="d(\d+)"', page)[1]
            started = time.perf_counter()
            decided = admin.post("/review/decide", data={"csrf": csrf, "drawing": drawing, "decision": "accept"})
            assert decided.status_code == 303
            after, _ = timed(admin, decided.headers["location"].split("#")[0])
            decision_s = time.perf_counter() - started
        storage.close()
    print(
        json.dumps(
            {
                "drawings": args.drawings,
                "fill_s": round(fill_s, 1),
                "first_view_s": round(first_s, 3),
                "first_view_bytes": first_bytes,
                "flagged_view_median_s": round(float(np.median([s for s, _ in flagged])), 3),
                "flagged_view_bytes": flagged[-1][1],
                "show_all_median_s": round(float(np.median([s for s, _ in every])), 3),
                "show_all_bytes": every[-1][1],
                "decision_and_redirect_s": round(decision_s, 3),
                "view_after_decision_s": round(after, 3),
            }
        )
    )


if __name__ == "__main__":
    main()

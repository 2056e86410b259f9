"""The collection's storage on PostgreSQL: run by hand against a server of your own (README, "The database").

Skipped unless ``AFRO_MNIST_POSTGRES_URL`` names an empty database the test may fill and empty again,
for example ``postgresql+psycopg://postgres@/collect?host=/tmp/pg&port=55432``. It needs psycopg
(``pip install "psycopg[binary]"``). Every table the collection uses is dropped first and last.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from generator.collect.anomaly import rescore
from generator.collect.drawing import CANVAS, png_bytes
from generator.collect.export import export
from generator.collect.review import review_view
from generator.collect.stats import collection_stats
from generator.collect.storage import ACCEPTED, Storage, metadata
from generator.registry import NumeralSystem
from tests.collect_drawings import draw_numeral, scribble

URL = os.environ.get("AFRO_MNIST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="set AFRO_MNIST_POSTGRES_URL to a PostgreSQL database to run these")


@pytest.fixture
def engine():
    pytest.importorskip("psycopg")
    engine = sa.create_engine(URL)
    metadata.drop_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def test_an_earlier_schema_is_migrated_and_every_operation_runs(engine, vai: NumeralSystem, tmp_path: Path):
    with engine.begin() as db:  # the tables as the first version made them
        db.execute(
            sa.text(
                "CREATE TABLE sessions (session VARCHAR(64) PRIMARY KEY, created_at VARCHAR(32) NOT NULL, "
                "consented_at VARCHAR(32))"
            )
        )
        db.execute(
            sa.text(
                "CREATE TABLE drawings (id SERIAL PRIMARY KEY, config VARCHAR(64) NOT NULL, label INTEGER NOT NULL, "
                "session VARCHAR(64) NOT NULL REFERENCES sessions(session), created_at VARCHAR(32) NOT NULL, "
                "pointer VARCHAR(8) NOT NULL, canvas_size INTEGER NOT NULL, strokes TEXT NOT NULL, png BYTEA NOT NULL, "
                "status VARCHAR(16) NOT NULL)"
            )
        )
        db.execute(sa.text("INSERT INTO sessions VALUES ('old', '2026-01-01', '2026-01-01')"))
        db.execute(
            sa.text(
                "INSERT INTO drawings (config, label, session, created_at, pointer, canvas_size, strokes, png, status) "
                "VALUES ('vai', 1, 'old', '2026-01-01', 'pen', 1000, '[[[500,200,0,0.5],[500,800,90,0.5]]]', "
                "'\\x00', 'new')"
            )
        )
    storage = Storage(URL)
    assert storage.key("csrf") == storage.key("csrf")
    assert rescore(storage, vai, unscored_only=True) == 1

    ids = []
    for writer in range(4):
        session = f"writer-{writer}".ljust(43, "x")
        storage.consent(session, "parent_or_teacher")
        rng = np.random.default_rng(writer)
        for label in range(vai.num_classes):
            strokes = draw_numeral(vai, label, rng, font=writer % len(vai.fonts))
            ids.append(
                storage.add_drawing(
                    "vai",
                    label,
                    session,
                    strokes,
                    png_bytes(strokes),
                    "pen",
                    CANVAS,
                    submission=f"w{writer}-l{label}-0000",
                )
            )
    # The same submission posted twice at once, from two connections: stored once, both told its id.
    strokes = scribble(np.random.default_rng(9))
    answers: list[int] = []

    def post() -> None:
        answers.append(
            storage.add_drawing(
                "vai", 3, "writer-0".ljust(43, "x"), strokes, b"png", "mouse", CANVAS, submission="twice-at-once"
            )
        )

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(answers)) == 1
    assert len(storage.drawings("vai")) == 1 + 40 + 1

    assert storage.decide_many(ids[:20], "accept", "Ada") == 20
    assert rescore(storage, vai) > 0
    view = review_view(storage, {"vai": vai}, show_all=True, page=2, page_size=20)
    assert view["pages"] == 3
    assert storage.drawings(ids=answers[:1])[0].flag is not None  # the scribble
    code = storage.new_delete_code("writer-3".ljust(43, "x"))
    owner = storage.session_of_code(code)
    assert storage.delete_writer(owner) == 10
    stats = collection_stats(storage, [vai])
    assert stats["deleted_by_writers"] == 10
    assert stats["configs"][0]["accepted"] == 20
    storage.decide_many(
        [d.id for d in storage.drawings("vai") if d.status != ACCEPTED and d.session != "old"], "accept", "Ada"
    )
    ((folder, note),) = export(storage, [vai], "parquet", tmp_path / "collected", test_share=0.3)
    assert "split by writer" in note
    assert (folder / "metadata.json").is_file()
    storage.close()

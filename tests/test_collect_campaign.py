"""A whole campaign, simulated end to end: writers draw, a reviewer reviews, the exports seed and score.

The campaign collects Latin digits, so that every writer can have a hand of their own: each simulated
writer traces one of the handwriting-style font families of ``examples/latin_handwriting`` (the
families ``benchmarks/stand_in_seeds.py`` stands in for writers with), thinned to strokes as
``tests/collect_drawings.py`` does, with their own slant, size and tremor. A few writers draw in
Chromium, clicking through consent and Done as a person does; the rest post over HTTP with the headers
a browser sends (Origin, Sec-Fetch-Site), which keeps the test within a minute on two cores. One more
visitor scribbles. Then:

1. a reviewer signs in (in Chromium), selects every flagged drawing on the page and rejects them;
2. ``collect export --format parquet`` splits writers into train and test; the test writers are held back;
3. ``collect export --format exemplars``, less the held-back writers' drawings, seeds
   ``generate --exemplars``;
4. ``evaluate-real`` trains on the generated config and reads the held-back writers' drawings only.
"""

from __future__ import annotations

import http.client
import io
import itertools
import json
import random
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image
from playwright.sync_api import expect
from starlette.testclient import TestClient

from generator.cli import main
from generator.collect.app import create_app
from generator.collect.drawing import CANVAS
from generator.collect.export import split_by_writer, usable
from generator.collect.prompts import choose_class
from generator.collect.review import create_review_app
from generator.collect.storage import REJECTED, Storage
from generator.collect.web import Limits
from generator.layout import read_metadata
from generator.registry import NumeralSystem, load_spec
from tests.collect_drawings import centreline_strokes, draw_numeral, scribble
from tests.collect_server import serving
from tests.test_collect_browser import agree, browser, to_screen  # noqa: F401 (browser: a fixture)

SPEC = Path(__file__).resolve().parent.parent / "examples" / "latin_handwriting" / "spec.toml"
BROWSER_WRITERS, HTTP_WRITERS = 3, 19
TOKEN = "campaign-review-token-0123456789abcdef"
TEST_SHARE = 0.25


@pytest.fixture(scope="module")
def latin_handwriting() -> NumeralSystem:
    return load_spec(SPEC)


def writer_fonts(system: NumeralSystem, count: int) -> list[int]:
    """The first ``count`` families whose every digit thins to at least one stroke: one family a writer."""
    chosen = []
    for index in range(len(system.fonts)):
        if all(centreline_strokes(str(system.fonts[index]), character) for character in system.characters):
            chosen.append(index)
        if len(chosen) == count:
            return chosen
    raise AssertionError(f"only {len(chosen)} families trace to strokes")


class HttpWriter:
    """A writer's phone over plain HTTP: the page's cookie and token, and a browser's headers on each post."""

    def __init__(self, base: str):
        self.base = base
        self.connection = http.client.HTTPConnection(base.split("://", 1)[1], timeout=30)
        page = self.request("GET", "/")
        self.cookie = page.getheader("set-cookie").split(";", 1)[0]
        self.csrf = re.search(r'name="csrf-token" content="(\w+)"', page.read().decode())[1]

    def request(self, method: str, path: str, data: dict | None = None) -> http.client.HTTPResponse:
        headers = {"accept-language": "fr-FR,fr;q=0.9", "sec-fetch-site": "same-origin"}
        if hasattr(self, "cookie"):
            headers["cookie"] = self.cookie
        if data is not None:
            headers |= {"content-type": "application/json", "origin": self.base, "x-csrf-token": self.csrf}
        self.connection.request(method, path, body=None if data is None else json.dumps(data), headers=headers)
        return self.connection.getresponse()

    def json(self, method: str, path: str, data: dict | None = None) -> dict:
        response = self.request(method, path, data)
        answer = json.loads(response.read())
        assert response.status == 200, answer
        return answer


def draw_in_chromium(browser, base: str, system: NumeralSystem, font: int, seed: int) -> list[int]:  # noqa: F811
    """One writer at a laptop: consent, then every numeral the page asks for, drawn with the mouse."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(base + "/")
    agree(page)
    rng = np.random.default_rng(seed)
    asked = []
    for count in range(1, system.num_classes + 1):
        expect(page.locator("#numeral")).to_have_js_property("naturalWidth", 160)
        label = system.class_names.index(page.get_attribute("#numeral", "data-class-name"))
        asked.append(label)
        box = page.locator("#pad").bounding_box()
        for stroke in draw_numeral(system, label, rng, font=font):
            page.mouse.move(*to_screen(box, *stroke[0][:2]))
            page.mouse.down()
            for point in stroke[1::2]:
                page.mouse.move(*to_screen(box, *point[:2]))
            page.mouse.up()
        with page.expect_response("**/api/drawing") as sent:
            page.click("#submit")
        assert sent.value.status == 200
        expect(page.locator("#count")).to_have_text(str(count))
        if count < system.num_classes:
            expect(page.locator("#numeral")).not_to_have_attribute("data-class-name", system.class_names[label])
    context.close()
    return asked


def draw_over_http(base: str, system: NumeralSystem, font: int, seed: int) -> list[int]:
    writer = HttpWriter(base)
    writer.json("POST", "/api/consent", {"basis": "parent_or_teacher"})
    rng = np.random.default_rng(seed)
    asked, after = [], ""
    for _ in range(system.num_classes):
        prompt = writer.json("GET", f"/api/prompt?config={system.name}{after}")
        label = prompt["label"]
        asked.append(label)
        strokes = draw_numeral(system, label, rng, font=font)
        answer = writer.json(
            "POST",
            "/api/drawing",
            {
                "config": system.name,
                "label": label,
                "pointer": "touch",
                "strokes": strokes,
                "submission": f"writer-{seed:03d}-numeral-{label}",
            },
        )
        assert answer["drawn"] == len(asked)
        after = f"&after={label}"
    writer.connection.close()
    return asked


def test_a_simulated_campaign_from_phones_to_scores(browser, tmp_path: Path, latin_handwriting, capsys):  # noqa: F811
    system = latin_handwriting
    db = tmp_path / "campaign.sqlite"
    storage = Storage(str(db))
    fonts = writer_fonts(system, BROWSER_WRITERS + HTTP_WRITERS)
    # Every writer posts from 127.0.0.1, as a classroom behind one router does; the test posts faster than a class.
    limits = Limits(address_per_minute=6000, address_burst=1000)
    with serving(create_app(storage, [system], goal=system.num_classes, limits=limits)) as base:
        asked = [draw_in_chromium(browser, base, system, fonts[w], seed=w) for w in range(BROWSER_WRITERS)]
        asked += [
            draw_over_http(base, system, fonts[w], seed=w)
            for w in range(BROWSER_WRITERS, BROWSER_WRITERS + HTTP_WRITERS)
        ]
        vandal = HttpWriter(base)
        vandal.json("POST", "/api/consent", {"basis": "16_or_older"})
        for label in range(4):
            strokes = scribble(np.random.default_rng(100 + label))
            vandal.json(
                "POST", "/api/drawing", {"config": system.name, "label": label, "pointer": "mouse", "strokes": strokes}
            )
        vandal.connection.close()
    # Balanced within each writer: every numeral once, none twice.
    assert all(sorted(labels) == list(range(system.num_classes)) for labels in asked)
    writers = BROWSER_WRITERS + HTTP_WRITERS
    assert len(storage.drawings(system.name, with_png=False)) == writers * system.num_classes + 4

    # 1. Review: every flagged drawing on the page, selected at once and rejected.
    with serving(create_review_app(storage, [system], TOKEN)) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(base + "/review")
        page.fill("input[name=token]", TOKEN)
        page.fill("input[name=reviewer]", "Organiser")
        page.click("button[type=submit]")
        expect(page.locator("#bulk")).to_be_visible()
        flagged = page.locator(".card").count()
        assert flagged >= 4  # the scribbles at least
        page.check("#pick-all")
        with page.expect_response("**/review/decide-many") as decided:
            page.click("#bulk button[value=reject]")
        assert decided.value.status == 303
        expect(page.locator("body")).to_contain_text("Nothing flagged awaits a decision.")
        page.close()
    stored = storage.drawings(system.name, with_png=False)
    scribbles = [d for d in stored if d.pointer == "mouse" and d.label < 4 and len(d.strokes) == 25]
    assert len(scribbles) == 4
    assert all(d.status == REJECTED for d in scribbles)

    # 2. The parquet config: writers split into train and test; the test writers are held back.
    out = tmp_path / "collected"
    base_argv = ["collect", "export", "--db", str(db), "--configs", system.name, "--spec", str(SPEC), "--out", str(out)]
    assert main([*base_argv, "--format", "parquet", "--test-share", str(TEST_SHARE)]) == 0
    kept, _left_out = usable(storage, system)
    held_back = {d.id for d in split_by_writer(kept, TEST_SHARE)["test"]}
    held_back_writers = {d.session for d in kept if d.id in held_back}
    assert 2 <= len(held_back_writers) < writers
    real = out / f"{system.name}_handwritten"
    test_rows = pq.read_table(sorted(real.glob("**/test-*.parquet"))).to_pylist()
    assert len(test_rows) == len(held_back)

    # 3. Seeds from the writers not held back, for generate --exemplars.
    assert main([*base_argv, "--format", "exemplars"]) == 0
    seeds = out / system.name
    for path in seeds.rglob("*.png"):
        if int(path.stem) in held_back:
            path.unlink()
    assert sum(1 for _ in seeds.rglob("*.png")) == len(kept) - len(held_back)
    build = tmp_path / "build"
    argv = ["generate", "--spec", str(SPEC), "--configs", system.name, "--exemplars", str(seeds)]
    assert main([*argv, "--train-size", "300", "--test-size", "50", "--workers", "1", "--out", str(build)]) == 0
    used = read_metadata(build / system.name)["exemplars"]["handwritten_seeds"]
    assert len(used["kept"]) + len(used["dropped"]) == len(kept) - len(held_back)

    # 4. Scored on the held-back writers' drawings only, as class folders of PNGs.
    pytest.importorskip("torch")
    held = tmp_path / "held_back"
    for index, row in enumerate(test_rows):
        folder = held / system.class_names[row["label"]]
        folder.mkdir(parents=True, exist_ok=True)
        Image.open(io.BytesIO(row["image"]["bytes"])).save(folder / f"{index:04d}.png")
    capsys.readouterr()
    results = tmp_path / "scores"
    argv = ["evaluate-real", system.name, "--real", str(held), "--from", str(build)]
    assert main([*argv, "--out", str(results), "--epochs", "1"]) == 0
    scores = json.loads((results / f"{system.name}-real.json").read_text())
    assert scores["real_examples"] == len(held_back)
    assert 0 <= scores["real_accuracy"] <= 1
    print(f"held-back writers {len(held_back_writers)}, {len(held_back)} drawings: {scores['real_accuracy']:.1%}")
    storage.close()


def test_each_numeral_once_before_any_twice():
    """A writer meets every numeral they have not declined once before any twice, however lopsided the
    database is (the defect: balancing by the database alone asked one writer ፯ twice and ፩ never)."""
    rng = random.Random(0)
    database = [50, 0, 0, 0, 3, 0, 0, 0, 0, 0]  # one numeral drawn 50 times, most never
    mine = [0] * 10
    unknown = {6}
    after = None
    shown = []
    for _ in range(27):
        label = choose_class(database, unknown, after, rng, mine)
        assert label is not None
        shown.append(label)
        mine[label] += 1
        database[label] += 1
        after = label
    assert 6 not in shown
    assert sorted(shown[:9]) == [0, 1, 2, 3, 4, 5, 7, 8, 9]
    assert sorted(shown[9:18]) == [0, 1, 2, 3, 4, 5, 7, 8, 9]
    assert all(a != b for a, b in itertools.pairwise(shown))
    assert choose_class(database, set(range(10)), None, rng, mine) is None  # every numeral declined


def test_prompts_balance_each_writer_over_http(tmp_path: Path, vai: NumeralSystem):
    """The page's prompt route, with one writer's drawings stored between prompts as the page stores them."""
    storage = Storage(str(tmp_path / "collect.sqlite"))
    other = "o" * 43
    storage.consent(other)
    for _ in range(30):  # another writer drew numeral 0 thirty times
        storage.add_drawing("vai", 0, other, [[[1, 1, 0, 0.5]]], b"png", "touch", CANVAS)
    with TestClient(create_app(storage, [vai])) as client:
        client.get("/")
        token = client.get("/api/token").json()["csrf"]
        assert client.post("/api/consent", json={"basis": "16_or_older"}, headers={"x-csrf-token": token}).is_success
        asked = []
        for _ in range(vai.num_classes):
            label = client.get("/api/prompt", params={"config": "vai"}).json()["label"]
            asked.append(label)
            body = {
                "config": "vai",
                "label": label,
                "pointer": "touch",
                "strokes": [[[500, 100, 0, 0.5], [500, 900, 80, 0.5]]],
            }
            assert client.post("/api/drawing", json=body, headers={"x-csrf-token": token}).is_success
    assert sorted(asked) == list(range(vai.num_classes))
    storage.close()

"""The drawing page in a real browser: Debian's Chromium, driven by Playwright, against a real uvicorn.

Playwright's own browser download is never used. Where Chromium is missing these tests skip, saying
why; under CI (which installs it in .ci/run) they fail instead, so they cannot silently not run.
Set AFRO_MNIST_SCREENSHOT=FILE.png to keep the desktop screenshot (docs/collect-page.png is one).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from generator.collect.app import create_app
from generator.collect.drawing import CANVAS
from generator.collect.review import create_review_app
from generator.collect.storage import Storage, contacts, declines
from generator.collect.web import Limits
from generator.registry import NumeralSystem
from tests.collect_drawings import draw_numeral
from tests.collect_server import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "browser-test-review-token-0123456789"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it when run as root)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def site(tmp_path: Path, vai: NumeralSystem):
    storage = Storage(str(tmp_path / "collect.sqlite"))
    with serving(create_app(storage, [vai], goal=5, limits=Limits())) as base:
        yield base, storage
    storage.close()


def prompted_label(page, system: NumeralSystem) -> int:  # type: ignore[no-untyped-def]
    expect(page.locator("#numeral-text")).not_to_be_empty()
    expect(page.locator("#numeral")).to_have_js_property("naturalWidth", 160)
    return system.class_names.index(page.get_attribute("#numeral", "data-class-name"))


def agree(page, basis: str = "16_or_older", tap: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Answers the consent's age question and agrees, as a visitor does."""
    expect(page.locator("#agree")).to_be_disabled()  # no agreement before the question is answered
    if tap:
        page.tap(f"input[name=age][value='{basis}']")
        page.tap("#agree")
    else:
        page.check(f"input[name=age][value='{basis}']")
        page.click("#agree")


def to_screen(box: dict, x: float, y: float) -> tuple[float, float]:
    return box["x"] + x / CANVAS * box["width"], box["y"] + y / CANVAS * box["height"]


def check_stored(storage: Storage, label: int, sent: list, pointer: str, box: dict) -> None:
    """The database holds exactly the drawing sent: its class, its pointer, and its strokes point by point."""
    (drawing,) = storage.drawings("vai")
    assert (drawing.label, drawing.pointer) == (label, pointer)
    assert len(drawing.strokes) == len(sent)
    unit = CANVAS / box["width"]  # one CSS pixel, in canvas units
    for stored, drawn in zip(drawing.strokes, sent, strict=True):
        assert len(stored) >= len(drawn)  # coalesced events may add points between ours, never fewer
        xy = np.array([p[:2] for p in stored])
        for x, y, *_ in drawn:  # every point drawn lies on the stored stroke, within a pixel and a half
            assert np.hypot(*(xy - (x, y)).T).min() <= 1.5 * unit
        times = [p[2] for p in stored]
        assert times == sorted(times)
        assert all(0 <= p[3] <= 1 for p in stored)
    assert drawing.png.startswith(b"\x89PNG")


def test_draw_with_a_mouse_and_submit(browser, site, vai: NumeralSystem, tmp_path: Path):
    base, storage = site
    page = browser.new_page(viewport={"width": 760, "height": 980})
    page.goto(base + "/")
    assert page.is_visible("#consent")
    assert not page.is_visible("#pad")
    agree(page)
    label = prompted_label(page, vai)
    box = page.locator("#pad").bounding_box()

    # A stray stroke, undone, then the numeral.
    page.mouse.move(*to_screen(box, 100, 100))
    page.mouse.down()
    page.mouse.move(*to_screen(box, 300, 120))
    page.mouse.up()
    page.click("#undo")
    assert page.is_disabled("#submit")
    strokes = draw_numeral(vai, label, np.random.default_rng(3))
    for stroke in strokes:
        page.mouse.move(*to_screen(box, *stroke[0][:2]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*to_screen(box, *point[:2]))
        page.mouse.up()
    shot = tmp_path / "collect-page.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("AFRO_MNIST_SCREENSHOT"):
        shutil.copy(shot, os.environ["AFRO_MNIST_SCREENSHOT"])
    with page.expect_response("**/api/drawing") as sent:
        page.click("#submit")
    assert sent.value.status == 200
    expect(page.locator("#status")).to_have_text(re.compile("^Saved"))
    assert page.inner_text("#count") == "1"
    check_stored(storage, label, strokes, "mouse", box)
    # The consent is remembered: a reload goes straight to drawing.
    page.reload()
    prompted_label(page, vai)
    assert not page.is_visible("#consent")
    page.close()


def test_draw_with_a_finger_on_a_phone(browser, site, vai: NumeralSystem):
    base, storage = site
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(base + "/")
    agree(page, "parent_or_teacher", tap=True)
    first = prompted_label(page, vai)
    page.tap("#unknown")  # "I don't know this one": recorded, and a different numeral comes
    expect(page.locator("#numeral")).not_to_have_attribute("data-class-name", vai.class_names[first])
    label = prompted_label(page, vai)
    assert storage.count(declines) == 1

    # The page fits the phone: no sideways scrolling, the pad and its buttons within the width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#pad").bounding_box()
    assert box["width"] <= 390
    assert box["width"] > 250
    touch = context.new_cdp_session(page)
    strokes = draw_numeral(vai, label, np.random.default_rng(4))
    for stroke in strokes:
        points = [dict(zip(("x", "y"), to_screen(box, *p[:2]), strict=True)) for p in stroke]
        touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [points[0]]})
        for point in points[1:]:
            touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    expect(page.locator("#submit")).to_be_enabled()
    # A hand lifts from the pad before it taps Done. Without that pause, Chromium's gesture detector
    # sometimes takes the tap for the end of the drawing's touch sequence and fires no click.
    page.wait_for_timeout(500)
    with page.expect_response("**/api/drawing") as sent:
        page.tap("#submit")
    assert sent.value.status == 200
    expect(page.locator("#status")).to_have_text(re.compile("^Saved"))
    check_stored(storage, label, strokes, "touch", box)
    context.close()


def test_thank_you_at_the_goal_and_an_optional_contact(browser, tmp_path: Path, vai: NumeralSystem):
    storage = Storage(str(tmp_path / "collect.sqlite"))
    with serving(create_app(storage, [vai], goal=1)) as base:
        page = browser.new_page()
        page.goto(base + "/")
        agree(page)
        prompted_label(page, vai)
        box = page.locator("#pad").bounding_box()
        page.mouse.move(*to_screen(box, 500, 200))
        page.mouse.down()
        page.mouse.move(*to_screen(box, 500, 800), steps=10)
        page.mouse.up()
        page.click("#submit")
        expect(page.locator("#thanks")).to_be_visible()
        assert page.inner_text("#thanks-count") == "1"
        assert not page.is_visible("#pad")
        page.fill("#contact-name", "Ada <script>alert(1)</script>")
        page.click("#contact button[type=submit]")
        expect(page.locator("#contact-status")).to_have_text("Please check the name and the email address.")
        page.fill("#contact-name", "Ada Writer")
        page.fill("#contact-email", "ada@example.org")
        page.click("#contact button[type=submit]")
        expect(page.locator("#contact-status")).to_have_text("Thank you, noted.")
        page.click("#more")
        assert page.is_visible("#pad")
        page.close()
    with storage.engine.connect() as db:
        assert [tuple(row) for row in db.execute(sa.select(contacts.c.name, contacts.c.email))] == [
            ("Ada Writer", "ada@example.org")
        ]
    storage.close()


def test_review_page_refuses_without_the_token(browser, tmp_path: Path, vai: NumeralSystem):
    storage = Storage(str(tmp_path / "collect.sqlite"))
    storage.consent("s" * 43)
    storage.add_drawing("vai", 1, "s" * 43, [[[1, 1, 0, 0.5]]], b"png", "mouse", CANVAS)
    with serving(create_review_app(storage, [vai], TOKEN)) as base:
        page = browser.new_page()
        response = page.goto(base + "/review")
        assert response.status == 401
        assert page.locator("img").count() == 0
        response = page.goto(base + "/review/drawing/1.png")
        assert response.status == 401
        page.goto(base + "/review")
        page.fill("input[name=token]", "not-the-token-at-all-0123")
        page.fill("input[name=reviewer]", "Eve")
        with page.expect_navigation() as navigation:
            page.click("button[type=submit]")
        assert navigation.value.status == 401
        assert "wrong token" in page.inner_text("main")
        page.fill("input[name=token]", TOKEN)
        page.fill("input[name=reviewer]", "Ada")
        with page.expect_navigation() as navigation:
            page.click("button[type=submit]")
        assert navigation.value.status == 200
        page.goto(base + "/review?show=all")
        assert page.locator("img[src='/review/drawing/1.png']").count() == 1
        page.close()
    storage.close()

"""The drawing page in a real browser: Debian's Chromium, driven by Playwright, against a real uvicorn.

Playwright's own browser download is never used. Where Chromium is missing these tests skip, saying
why; under CI (which installs it in .ci/run) they fail instead, so they cannot silently not run.
Set AFRO_MNIST_SCREENSHOT=FILE.png to keep the desktop screenshot (docs/collect-page.png is one).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from generator.collect.app import create_app
from generator.collect.drawing import CANVAS, png_bytes
from generator.collect.review import create_review_app
from generator.collect.storage import Storage, contacts, declines, drawings
from generator.collect.web import Limits
from generator.registry import NumeralSystem, resolve
from tests.collect_drawings import draw_numeral, scribble
from tests.collect_server import free_port, serving

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
# Chromium shares two cores with the rest of the suite: an assertion on the page waits up to 15 s, not 5.
expect.set_options(timeout=15_000)


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


def agreed_page(browser, base: str):  # type: ignore[no-untyped-def]
    """A new page on the collection page, its consent agreed to, as a visitor leaves it."""
    page = browser.new_page()
    page.goto(base + "/")
    agree(page)
    return page


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
        page = agreed_page(browser, base)
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


# --- languages, layout, and failures a writer meets ----------------------------------------------------------


def draw_a_stroke(page) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#pad").bounding_box()
    page.mouse.move(*to_screen(box, 500, 150))
    page.mouse.down()
    page.mouse.move(*to_screen(box, 500, 850), steps=8)
    page.mouse.up()


def test_french_page_on_a_phone(browser, site, vai: NumeralSystem):
    base, _storage = site
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="fr-FR"
    )  # Chromium sends Accept-Language: fr-FR
    page = context.new_page()
    page.goto(base + "/")
    assert page.get_attribute("html", "lang") == "fr"
    assert page.get_attribute("html", "dir") == "ltr"
    expect(page.locator("#agree")).to_have_text("J\u2019accepte, je veux dessiner")
    agree(page, tap=True)
    label = prompted_label(page, vai)
    words = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]
    expect(page.locator("#numeral-text")).to_have_text(f"Dessinez ce chiffre vaï : {words[label]} ({label})")
    expect(page.locator("#submit")).to_have_text("Terminé")
    # The glyph is the largest thing in the prompt: the Latin digit is ordinary text beside it.
    glyph = page.locator("#numeral").bounding_box()
    text_size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('numeral-text')).fontSize)")
    assert glyph["height"] > 4 * text_size
    # The picker is on the page, each language in its own name; choosing one is remembered.
    page.tap("nav.languages a[hreflang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(base + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    context.close()


def test_right_to_left_page_on_a_phone(browser, site, vai: NumeralSystem):
    base, _storage = site
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(base + "/?lang=nqo")
    assert (page.get_attribute("html", "lang"), page.get_attribute("html", "dir")) == ("nqo", "rtl")
    # A sentence the catalogue lacks shows in English, left to right: its full stop ends it on the right, where a
    # right-to-left paragraph would put the stop at its left (".I am 16 or older").
    stop_at_right = page.evaluate(
        """() => {
            const label = [...document.querySelectorAll("label")].find(l => l.textContent.trim().endsWith("."));
            const text = [...label.childNodes].reverse().find(n => n.nodeType === 3 && n.textContent.trim());
            const range = document.createRange();
            const end = text.textContent.trimEnd().length;
            range.setStart(text, end - 1);
            range.setEnd(text, end);
            const stop = range.getBoundingClientRect();
            range.setStart(text, text.textContent.search(/\\S/));
            range.setEnd(text, text.textContent.search(/\\S/) + 1);
            return stop.left > range.getBoundingClientRect().left;
        }"""
    )
    assert stop_at_right
    agree(page, tap=True)
    prompted_label(page, vai)
    # Mirrored: the glyph sits at the right of its prompt, and Undo to the right of Done.
    glyph, text = page.locator("#numeral").bounding_box(), page.locator("#numeral-text").bounding_box()
    assert glyph["x"] > text["x"]
    assert page.locator("#undo").bounding_box()["x"] > page.locator("#submit").bounding_box()["x"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_status_and_buttons_on_screen_on_laptops_and_phones(browser, tmp_path: Path, vai: NumeralSystem):
    storage = Storage(str(tmp_path / "collect.sqlite"))
    with serving(create_app(storage, [vai, *resolve(["geez"])])) as base:
        # A laptop, a wide laptop, a landscape phone, a small phone upright, a small phone sideways.
        for width, height, touch in (
            (1280, 800, False),
            (1366, 768, False),
            (844, 390, True),
            (360, 640, True),
            (568, 320, True),
        ):
            context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch)
            page = context.new_page()
            page.goto(base + "/")
            agree(page)
            prompted_label(page, vai)
            draw_a_stroke(page)
            page.click("#submit")
            expect(page.locator("#status")).to_have_text("Saved. Your first numeral!")
            for element in ("#status", "#submit", "#unknown", "#pad", "#numeral"):
                box = page.locator(element).bounding_box()
                assert box["y"] >= 0, (width, height, element, box)
                assert box["y"] + box["height"] <= height, (width, height, element, box)
                assert box["x"] >= 0, (width, height, element, box)
                assert box["x"] + box["width"] <= width, (width, height, element, box)
            context.close()
    storage.close()


def test_every_numeral_unknown_ends_with_a_message(browser, site, vai: NumeralSystem):
    base, storage = site
    page = agreed_page(browser, base)
    for left in range(vai.num_classes, 0, -1):
        label = prompted_label(page, vai)
        page.click("#unknown")
        if left > 1:  # the next numeral is another one: a declined numeral is never asked again
            expect(page.locator("#numeral")).not_to_have_attribute("data-class-name", vai.class_names[label])
            expect(page.locator("#status")).to_have_text("No problem: that one will not be asked again.")
    expect(page.locator("#finished")).to_be_visible()
    expect(page.locator("#finished h2")).to_have_text("That was every numeral of this script")
    assert not page.is_visible("#pad")
    assert not page.is_visible("#submit")
    assert storage.count(declines) == vai.num_classes
    page.close()


def test_a_refused_consent_says_so_where_it_can_be_seen(browser, site):
    base, _storage = site
    page = browser.new_page()
    page.goto(base + "/")
    page.route("**/api/consent", lambda route: route.fulfill(status=500, body="{}"))
    page.check("input[name=age][value='16_or_older']")
    page.click("#agree")
    expect(page.locator("#status")).to_have_text("That did not work. Please tap the button again in a moment.")
    assert page.is_visible("#status")
    assert page.is_visible("#consent")
    page.close()


def test_a_busy_server_keeps_the_drawing_and_retries_once(browser, site, vai: NumeralSystem):
    base, storage = site
    page = agreed_page(browser, base)
    prompted_label(page, vai)
    draw_a_stroke(page)
    refusals = []

    def busy_once(route) -> None:  # type: ignore[no-untyped-def]
        if not refusals:
            refusals.append(route.request.post_data)
            route.fulfill(
                status=429,
                headers={"retry-after": "1", "content-type": "application/json"},
                body='{"error": "too many requests; wait a moment", "code": "rate_limited"}',
            )
        else:
            route.continue_()

    page.route("**/api/drawing", busy_once)
    page.click("#submit")
    expect(page.locator("#status")).to_have_text("Saved. Your first numeral!")
    assert len(refusals) == 1
    assert storage.count(drawings) == 1
    # Twice refused: the page says so in words, and the drawing stays on the pad to send again.
    page.unroute("**/api/drawing")
    draw_a_stroke(page)
    page.route(
        "**/api/drawing",
        lambda route: route.fulfill(
            status=429, headers={"retry-after": "1"}, body='{"error": "too many", "code": "rate_limited"}'
        ),
    )
    page.click("#submit")
    expect(page.locator("#status")).to_have_text(
        "The server is busy. Your drawing is still here: wait a few seconds, then tap Done again."
    )
    expect(page.locator("#submit")).to_be_enabled()
    assert storage.count(drawings) == 1
    page.unroute("**/api/drawing")
    page.click("#submit")
    expect(page.locator("#status")).to_have_text("Saved. Halfway there!")  # 2 of the goal, 5
    assert storage.count(drawings) == 2
    page.close()


def test_a_server_restart_and_a_new_key_keep_the_drawing(browser, tmp_path: Path, vai: NumeralSystem):
    """The server goes away while a writer draws, and comes back with a new CSRF key (as a server before
    keys were kept would): Done says what happened, keeps the drawing, and then saves it once."""
    path = str(tmp_path / "collect.sqlite")
    port = free_port()
    storage = Storage(path)
    page = browser.new_page()
    with serving(create_app(storage, [vai]), port=port) as base:
        page.goto(base + "/")
        agree(page)
        prompted_label(page, vai)
        draw_a_stroke(page)
    storage.close()
    page.click("#submit")  # nobody answers: one retry, then words, not jargon
    expect(page.locator("#status")).to_have_text(
        "The server cannot be reached. Your drawing is still here: check the connection and tap Done again."
    )
    expect(page.locator("#submit")).to_be_enabled()
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM keys")  # the next server makes a new key: every open page's token is stale
    storage = Storage(path)
    with serving(create_app(storage, [vai]), port=port):
        with page.expect_response("**/api/token") as renewed:
            page.click("#submit")
        assert renewed.value.status == 200
        expect(page.locator("#status")).to_have_text("Saved. Your first numeral!")
        assert storage.count(drawings) == 1
    page.close()
    storage.close()


# --- the review, clicked as a reviewer clicks it ---------------------------------------------------------------


def test_review_accept_reject_and_bulk_by_clicking(browser, tmp_path: Path, vai: NumeralSystem):
    """Chromium posts the review's forms with the headers it really sends (Origin, Sec-Fetch-Site): a
    reviewer's clicks must be decisions, not 403s."""
    storage = Storage(str(tmp_path / "collect.sqlite"))
    session = "s" * 43
    storage.consent(session)
    ids = []
    for label in range(5):
        strokes = scribble(np.random.default_rng(label))
        ids.append(storage.add_drawing("vai", label, session, strokes, png_bytes(strokes), "mouse", CANVAS, flag="x"))
    with serving(create_review_app(storage, [vai], TOKEN)) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(base + "/review")
        page.fill("input[name=token]", TOKEN)
        page.fill("input[name=reviewer]", "Ada")
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Flagged drawings awaiting a decision")
        expect(page.locator(".card")).to_have_count(5)
        # Each drawing beside the numeral it was asked for, both loaded.
        expect(page.locator(f"#d{ids[0]} img.reference")).to_have_js_property("naturalWidth", 160)
        expect(page.locator(f"#d{ids[0]} img.drawing")).to_have_js_property("naturalWidth", 256)

        with page.expect_response("**/review/decide") as decided:
            page.click(f"#d{ids[0]} button:has-text('Accept')")
        assert decided.value.status == 303
        expect(page.locator(".card")).to_have_count(4)
        with page.expect_response("**/review/decide") as decided:
            page.click(f"#d{ids[1]} button:has-text('Reject')")
        assert decided.value.status == 303
        expect(page.locator(".card")).to_have_count(3)

        expect(page.locator("#bulk button[value=reject]")).to_be_disabled()  # nothing selected yet
        page.check(f"#d{ids[2]} input[type=checkbox]")
        page.check(f"#d{ids[3]} input[type=checkbox]")
        expect(page.locator("#picked")).to_have_text("2 selected")
        with page.expect_response("**/review/decide-many") as decided:
            page.click("#bulk button[value=reject]")
        assert decided.value.status == 303
        expect(page.locator(".card")).to_have_count(1)
        page.check("#pick-all")
        with page.expect_response("**/review/decide-many"):
            page.click("#bulk button[value=accept]")
        expect(page.locator("main, body")).to_contain_text("Nothing flagged awaits a decision.")
        page.close()
    statuses = {d.id: d.status for d in storage.drawings("vai")}
    assert [statuses[i] for i in ids] == ["accepted", "rejected", "rejected", "rejected", "accepted"]
    assert {d["reviewer"] for d in storage.decisions()} == {"Ada"}
    storage.close()


def test_a_writer_deletes_their_drawings_now_or_later_with_the_code(browser, tmp_path: Path, vai: NumeralSystem):
    storage = Storage(str(tmp_path / "collect.sqlite"))
    with serving(create_app(storage, [vai], goal=1)) as base:
        context = browser.new_context()
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # "Delete every drawing you made here?"
        page.goto(base + "/")
        agree(page)
        prompted_label(page, vai)
        draw_a_stroke(page)
        page.click("#submit")
        expect(page.locator("#thanks")).to_be_visible()
        expect(page.locator("#delete-code")).to_have_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$"))
        code = page.inner_text("#delete-code")
        page.click("#more")
        prompted_label(page, vai)
        draw_a_stroke(page)
        # The status line may still say the first drawing was saved: wait for the second one's answer itself.
        with page.expect_response("**/api/drawing"):
            page.click("#submit")
        expect(page.locator("#status")).to_have_text(re.compile("^Saved"))
        assert storage.count(drawings) == 2
        context.close()

        # Later, from another device: the code alone, typed in lower case with a space, deletes both.
        other = browser.new_context(locale="fr-FR")
        page = other.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(base + "/")
        page.click("#delete-later summary")
        page.fill("#delete-input", "ZZZZ-ZZZZ")
        page.click("#delete-form button[type=submit]")
        expect(page.locator("#status")).to_have_text("Aucun dessin ne correspond à ce code. Veuillez le vérifier.")
        page.fill("#delete-input", code.lower().replace("-", " "))
        page.click("#delete-form button[type=submit]")
        expect(page.locator("#status")).to_have_text("Dessins supprimés : 2.")
        other.close()
    assert storage.count(drawings) == 0
    storage.close()


def test_delete_everything_from_the_thank_you_panel(browser, tmp_path: Path, vai: NumeralSystem):
    storage = Storage(str(tmp_path / "collect.sqlite"))
    with serving(create_app(storage, [vai], goal=1)) as base:
        page = browser.new_page()
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        page.goto(base + "/")
        agree(page)
        prompted_label(page, vai)
        draw_a_stroke(page)
        page.click("#submit")
        expect(page.locator("#thanks")).to_be_visible()
        page.click("#delete-mine")
        expect(page.locator("#status")).to_have_text("Drawings deleted: 1.")
        assert dialogs == ["Delete every drawing you made here? This cannot be undone."]
        assert page.inner_text("#count") == "0"
        page.close()
    assert storage.count(drawings) == 0
    storage.close()


def test_i_agree_after_the_server_came_back_with_a_new_key(browser, tmp_path: Path, vai: NumeralSystem):
    """A page opened before a restart (its token made with the old key): "I agree" still works, at once."""
    path = str(tmp_path / "collect.sqlite")
    port = free_port()
    storage = Storage(path)
    page = browser.new_page()
    with serving(create_app(storage, [vai]), port=port) as base:
        page.goto(base + "/")
    storage.close()
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM keys")
    storage = Storage(path)
    with serving(create_app(storage, [vai]), port=port):
        page.check("input[name=age][value='parent_or_teacher']")
        with page.expect_response("**/api/token"):
            page.click("#agree")
        prompted_label(page, vai)
        assert page.inner_text("#status") == ""
        assert not page.is_visible("#consent")
    page.close()
    storage.close()


def test_a_failed_skip_says_so_in_its_own_words(browser, site, vai: NumeralSystem):
    base, storage = site
    page = agreed_page(browser, base)
    first = prompted_label(page, vai)
    page.route("**/api/decline", lambda route: route.fulfill(status=500, body="{}"))
    page.click("#skip")
    expect(page.locator("#status")).to_have_text("That did not work. Please try again in a moment.")
    assert page.get_attribute("#numeral", "data-class-name") == vai.class_names[first]  # the same numeral
    assert storage.count(declines) == 0
    page.close()

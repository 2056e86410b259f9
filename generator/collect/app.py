"""The public drawing page: one numeral at a time, drawn with finger, pen or mouse.

    GET  /                              the page (consent first, then drawing)
    GET  /numeral/<config>/<label>.png  the numeral asked for, rendered from the bundled fonts
    GET  /api/prompt?config=..&after=.. the next numeral to ask for, balanced by what the database holds
    POST /api/consent                   the visitor agreed to publish their drawings under CC BY-SA 4.0
    POST /api/drawing                   one drawing (see generator.collect.drawing)
    POST /api/decline                   skip, or "I don't know this one"
    POST /api/contact                   an optional name or email, kept apart and never exported
    GET  /api/token                     the session's CSRF token again (for a page that lost it)
    POST /api/delete-code               a fresh deletion code for this session, shown once (XXXX-XXXX)
    POST /api/delete                    delete every drawing of this session
    POST /api/delete-with-code          {"code": "XXXX-XXXX"}: delete every drawing of the session that code belongs to

Every POST needs the session cookie and its CSRF token (header ``X-CSRF-Token``), and is rate-limited
per session and per client address.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from collections.abc import Sequence

import cv2
import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from generator.collect import i18n
from generator.collect.anomaly import References, Verdict
from generator.collect.drawing import (
    CANVAS,
    Submission,
    SubmissionError,
    check_class,
    load_json,
    parse_submission,
    png_bytes,
)
from generator.collect.prompts import choose_class
from generator.collect.settings import DEFAULT_GOAL, LICENCE, LICENCE_URL
from generator.collect.storage import CONSENT_BASES, DECLINE_REASONS, NEW, Drawing, Storage
from generator.collect.web import (
    PACKAGE_DIR,
    Guard,
    Limits,
    RateLimiter,
    Refused,
    Secrets,
    http_error,
    new_session_id,
    refuse_response,
    render,
    session_of,
    set_session_cookie,
)
from generator.layout import format_code_point
from generator.registry import NumeralSystem
from generator.synthesis.fonts import check_coverage, render_glyph

_NAME_MAX, _EMAIL_MAX = 100, 254
_EMAIL = re.compile(r"[^@\s<>\"]{1,64}@[^@\s<>\"']{1,189}\.[A-Za-z]{2,24}")
# Text a visitor types is a name or an address: markup has no place in it. Apostrophes do (O'Brien,
# Ng'ang'a, with ' or U+2019), and every value is escaped wherever it is shown.
_MARKUP = re.compile(r"[<>\"`\\{}]")
# Unicode categories a name never needs: controls, format characters (bidi overrides such as U+202E,
# which can make a name read backwards, and invisible ones), private use, surrogates, unassigned, line
# and paragraph separators. Zero-width (non-)joiners are format characters that some scripts' spelling needs.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
_JOINERS = {"\u200c", "\u200d"}


def numeral_png(system: NumeralSystem, label: int) -> bytes:
    """The numeral as dark glyph on white, from the config's first font, with a margin around it."""
    glyph = render_glyph(system.fonts[0], system.characters[label])
    height, width = glyph.shape
    scale = 120 / max(height, width)
    glyph = cv2.resize(
        glyph, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    canvas = np.zeros((160, 160), np.uint8)
    top, left = (160 - glyph.shape[0]) // 2, (160 - glyph.shape[1]) // 2
    canvas[top : top + glyph.shape[0], left : left + glyph.shape[1]] = glyph
    ok, encoded = cv2.imencode(".png", 255 - canvas)
    if not ok:
        raise RuntimeError("OpenCV could not encode a PNG")
    return encoded.tobytes()


def check_fonts(systems: Sequence[NumeralSystem]) -> None:
    """Refuses, before the page is served, a config whose first font cannot draw every numeral: the prompts use it.

    Raises:
        InputError: naming the font and what it lacks.
    """
    for system in systems:
        check_coverage(system.fonts[0], system.code_points)


def create_app(
    storage: Storage, systems: Sequence[NumeralSystem], *, goal: int = DEFAULT_GOAL, limits: Limits | None = None
) -> Guard:
    """The drawing page's ASGI app, for the given configs, writing into ``storage``."""
    limits = limits or Limits()
    served = {system.name: system for system in systems}
    references = References(storage, systems)
    keys = Secrets(storage.key("csrf"))  # kept in the database: a restart leaves open pages working
    by_session = RateLimiter(limits.session_per_minute, limits.session_burst)
    by_address = RateLimiter(limits.address_per_minute, limits.address_burst)
    rng = random.Random()
    numerals = functools.lru_cache(maxsize=1024)(lambda config, label: numeral_png(served[config], label))

    def posting(request: Request) -> str:
        """The session of a state-changing request, once its CSRF token and rate limits pass."""
        session = session_of(request)
        if session is None:
            raise Refused(403, "no session cookie; reload the page", "no_session")
        keys.check_csrf(request, session)
        if not by_address.allow(keys.address_key(request)) or not by_session.allow(session):
            raise Refused(429, "too many requests; wait a moment", "rate_limited")
        return session

    async def json_body(request: Request) -> dict:
        try:
            data = load_json(await request.body())
        except SubmissionError as exc:
            raise Refused(400, str(exc)) from None
        if not isinstance(data, dict):
            raise Refused(400, "body must be a JSON object")
        return data

    async def page(request: Request) -> Response:
        known = session_of(request)
        session = known or new_session_id()
        consented = known is not None and await run_in_threadpool(storage.has_consented, known)
        asked = request.query_params.get("lang")
        remembered = request.cookies.get(i18n.LANGUAGE_COOKIE)
        language = i18n.choose(asked, remembered, request.headers.get("accept-language", ""))
        words = i18n.page_words(language, served.values())
        response = render(
            "draw.html",
            **words,
            csrf=keys.csrf_token(session),
            goal=goal,
            licence=LICENCE,
            licence_url=LICENCE_URL,
            canvas=CANVAS,
            consented=consented,
        )
        if known is None:
            set_session_cookie(response, request, session)
        if asked is not None and asked.replace("_", "-").lower() == language.code.lower():
            i18n.remember(response, request, language)
        response.headers["cache-control"] = "no-store"
        response.headers["content-language"] = language.code
        response.headers["vary"] = "Accept-Language, Cookie"
        return response

    async def numeral(request: Request) -> Response:
        config, label = request.path_params["config"], request.path_params["label"]
        try:
            config, label = check_class(config, int(label) if label.isdigit() else -1, served)
        except SubmissionError as exc:
            raise Refused(404, str(exc)) from None
        png = await run_in_threadpool(numerals, config, label)
        return Response(png, media_type="image/png", headers={"cache-control": "public, max-age=86400"})

    async def prompt(request: Request) -> Response:
        session = session_of(request)
        if session is None:
            raise Refused(403, "no session cookie; reload the page", "no_session")
        config = request.query_params.get("config", "")
        if config not in served:
            raise Refused(400, f"config must be one of {sorted(served)}")
        after_text = request.query_params.get("after", "")
        after = int(after_text) if after_text.isdigit() else None
        system = served[config]
        counts = await run_in_threadpool(storage.class_counts, config, system.num_classes)
        drawn, unknown = await run_in_threadpool(storage.session_summary, session, config)
        mine = await run_in_threadpool(storage.class_counts, config, system.num_classes, session)
        label = choose_class(counts, unknown, after, rng, mine)
        if label is None:
            return JSONResponse({"done": True, "drawn": drawn, "goal": goal})
        return JSONResponse(
            {
                "done": False,
                "config": config,
                "script": system.script,
                "label": label,
                "class_name": system.class_names[label],
                "code_point": format_code_point(system.code_points[label]),
                "image": f"/numeral/{config}/{label}.png",
                "drawn": drawn,
                "goal": goal,
            }
        )

    async def consent(request: Request) -> Response:
        """Agreement to publication, with its basis: ``{"basis": "16_or_older" | "parent_or_teacher"}``.

        Answers the session's deletion code (``XXXX-XXXX``), which the page shows once.
        """
        session = posting(request)
        data = await json_body(request)
        basis = data.get("basis")
        if basis not in CONSENT_BASES or set(data) != {"basis"}:
            raise Refused(
                400,
                f"consent is {{basis}} with basis one of {CONSENT_BASES}: the writer is 16 or older, "
                "or draws with a parent's or teacher's agreement",
            )
        await run_in_threadpool(storage.consent, session, basis)
        code = await run_in_threadpool(storage.new_delete_code, session)
        return JSONResponse({"ok": True, "delete_code": code})

    async def token(request: Request) -> Response:
        session = session_of(request)
        if session is None:
            raise Refused(403, "no session cookie; reload the page", "no_session")
        return JSONResponse({"csrf": keys.csrf_token(session)}, headers={"cache-control": "no-store"})

    async def delete_code(request: Request) -> Response:
        session = await consented_poster(request)
        code = await run_in_threadpool(storage.new_delete_code, session)
        return JSONResponse({"delete_code": code})

    async def delete_mine(request: Request) -> Response:
        session = await consented_poster(request)
        deleted = await run_in_threadpool(storage.delete_writer, session)
        return JSONResponse({"deleted": deleted})

    async def delete_with_code(request: Request) -> Response:
        posting(request)  # any visitor's page may send a code: the code, not the cookie, names the writer
        data = await json_body(request)
        code = data.get("code")
        if not isinstance(code, str) or len(code) > 20 or set(data) != {"code"}:
            raise Refused(400, "a deletion is {code}, the code shown when you agreed (XXXX-XXXX)")
        owner = await run_in_threadpool(storage.session_of_code, code)
        if owner is None:
            raise Refused(404, "no drawings have that code; check it, letter by letter")
        deleted = await run_in_threadpool(storage.delete_writer, owner)
        return JSONResponse({"deleted": deleted})

    async def consented_poster(request: Request) -> str:
        session = posting(request)
        if not await run_in_threadpool(storage.has_consented, session):
            raise Refused(403, "consent first: the page asks before the first drawing", "consent_first")
        return session

    def judge(submission: Submission, session: str) -> Verdict:
        """The anomaly model's verdict, stored with the drawing: the review page reads it, never recomputes it."""
        config, label, strokes = submission.config, submission.label, submission.strokes
        unsaved = Drawing(0, config, label, session, "", submission.pointer, CANVAS, strokes, b"", NEW)
        return references.get(submission.config).verdict(unsaved)

    async def drawing(request: Request) -> Response:
        session = posting(request)
        body = await request.body()
        try:
            submission = parse_submission(body, served)
        except SubmissionError as exc:
            raise Refused(400, str(exc)) from None
        if not await run_in_threadpool(storage.has_consented, session):
            raise Refused(403, "consent first: the page asks before the first drawing", "consent_first")
        png = await run_in_threadpool(png_bytes, submission.strokes)
        verdict = await run_in_threadpool(judge, submission, session)
        drawing_id = await run_in_threadpool(
            functools.partial(
                storage.add_drawing,
                submission.config,
                submission.label,
                session,
                submission.strokes,
                png,
                submission.pointer,
                CANVAS,
                submission=submission.submission,
                flag=verdict.reason,
                scores=verdict.features,
            )
        )
        drawn, _ = await run_in_threadpool(storage.session_summary, session, submission.config)
        return JSONResponse({"id": drawing_id, "drawn": drawn, "goal": goal})

    async def decline(request: Request) -> Response:
        session = posting(request)
        data = await json_body(request)
        try:
            config, label = check_class(data.get("config"), data.get("label"), served)
        except SubmissionError as exc:
            raise Refused(400, str(exc)) from None
        reason = data.get("reason")
        if reason not in DECLINE_REASONS or set(data) != {"config", "label", "reason"}:
            raise Refused(400, f"a decline is {{config, label, reason}} with reason one of {DECLINE_REASONS}")
        if not await run_in_threadpool(storage.has_consented, session):
            raise Refused(403, "consent first: the page asks before the first drawing", "consent_first")
        await run_in_threadpool(storage.add_decline, config, label, session, reason)
        return JSONResponse({"ok": True})

    async def contact(request: Request) -> Response:
        session = posting(request)
        data = await json_body(request)
        if not set(data) <= {"name", "email"}:
            raise Refused(400, "a contact is {name, email}, both optional")
        name, email = (_text(data.get(key), key, limit) for key, limit in (("name", _NAME_MAX), ("email", _EMAIL_MAX)))
        if email is not None and not _EMAIL.fullmatch(email):
            raise Refused(400, "email is not an address")
        if name is None and email is None:
            raise Refused(400, "give a name, an email, or both")
        if not await run_in_threadpool(storage.has_consented, session):
            raise Refused(403, "consent first: the page asks before the first drawing", "consent_first")
        await run_in_threadpool(storage.add_contact, session, name, email)
        return JSONResponse({"ok": True})

    async def health(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def no_icon(_request: Request) -> Response:
        return Response(status_code=204)  # browsers ask for one; an answer keeps refusals out of the log

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/numeral/{config}/{label}.png", numeral),
            Route("/api/prompt", prompt),
            Route("/api/consent", consent, methods=["POST"]),
            Route("/api/drawing", drawing, methods=["POST"]),
            Route("/api/decline", decline, methods=["POST"]),
            Route("/api/contact", contact, methods=["POST"]),
            Route("/api/token", token),
            Route("/api/delete-code", delete_code, methods=["POST"]),
            Route("/api/delete", delete_mine, methods=["POST"]),
            Route("/api/delete-with-code", delete_with_code, methods=["POST"]),
            Route("/healthz", health),
            Route("/favicon.ico", no_icon),
            Mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static"),
        ],
        exception_handlers={Refused: refuse_response, HTTPException: http_error},
    )
    return Guard(app, limits.max_body)


def _text(value: object, key: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Refused(400, f"{key} must be text of at most {limit} characters")
    value = unicodedata.normalize("NFC", value)
    if _MARKUP.search(value) or any(
        unicodedata.category(ch) in _FORBIDDEN_CATEGORIES and ch not in _JOINERS for ch in value
    ):
        raise Refused(400, f"{key} holds markup, control or direction-changing characters")
    return value.strip() or None

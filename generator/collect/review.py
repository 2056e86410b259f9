"""The review page, behind a token: the drawings the anomaly model flags, per class, with accept and reject.

    GET  /review                 flagged drawings awaiting a decision (``?show=all``: every drawing)
    POST /review/login           token and reviewer's name -> a reviewer cookie
    POST /review/decide          accept or reject one drawing
    GET  /review/drawing/<id>.png

The token comes from ``--token`` or ``AFRO_MNIST_REVIEW_TOKEN``; it is compared in constant time
and never logged. A login gives the browser a random reviewer key, kept in memory only, so the token
itself never sits in a cookie. Every decision is stored with the reviewer's name and the time.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Sequence
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from generator.collect.anomaly import assess, font_images
from generator.collect.settings import MIN_TOKEN_LENGTH
from generator.collect.storage import DECISIONS, NEW, Storage
from generator.collect.web import (
    PACKAGE_DIR,
    Guard,
    Limits,
    RateLimiter,
    Refused,
    Secrets,
    http_error,
    log,
    log_refusal,
    refuse_response,
    render,
    set_session_cookie,
)
from generator.registry import NumeralSystem

REVIEWER_COOKIE = "afro_mnist_reviewer"
_LOGIN_PER_MINUTE, _LOGIN_BURST = 5, 5


def create_review_app(storage: Storage, systems: Sequence[NumeralSystem], token: str) -> Guard:
    """The review page's ASGI app. ``token`` must be at least ``MIN_TOKEN_LENGTH`` characters."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the review token must have at least {MIN_TOKEN_LENGTH} characters")
    served = {system.name: system for system in systems}
    keys = Secrets()
    reviewers: dict[str, str] = {}  # reviewer key -> name, in memory only
    reviewers_lock = threading.Lock()
    logins = RateLimiter(_LOGIN_PER_MINUTE, _LOGIN_BURST)
    fonts: dict[str, tuple[list, list]] = {}

    def reviewer_of(request: Request) -> tuple[str, str] | None:
        key = request.cookies.get(REVIEWER_COOKIE, "")
        with reviewers_lock:
            name = reviewers.get(key) if key else None
        return (key, name) if name is not None else None

    def login_page(request: Request, status: int, message: str = "") -> Response:
        log_refusal(request.method, request.url.path, status, message or "no reviewer login")
        return render("review_login.html", status=status, message=message)

    async def overview(request: Request) -> Response:
        who = reviewer_of(request)
        if who is None:
            return login_page(request, 401)
        show_all = request.query_params.get("show") == "all"
        sections = await run_in_threadpool(_sections, show_all)
        return render(
            "review.html", sections=sections, reviewer=who[1], csrf=keys.csrf_token(who[0]), show_all=show_all
        )

    def _sections(show_all: bool) -> list[dict]:
        sections = []
        for config in storage.configs():
            if config not in served:
                continue
            system = served[config]
            if config not in fonts:
                fonts[config] = font_images(system)
            drawings = storage.drawings(config, with_png=False)
            verdicts = assess(system, drawings, fonts[config])
            for label, name in enumerate(system.class_names):
                cards = [
                    {"id": d.id, "status": d.status, "reason": v.reason or "", "created_at": d.created_at}
                    for d, v in zip(drawings, verdicts, strict=True)
                    if d.label == label and (show_all or (v.flagged and d.status == NEW))
                ]
                total = sum(1 for d in drawings if d.label == label)
                sections.append(
                    {"config": config, "class_name": name, "total": total, "cards": cards, "script": system.script}
                )
        return sections

    async def login(request: Request) -> Response:
        if not logins.allow(keys.address_key(request)):
            raise Refused(429, "too many login attempts; wait a minute")
        form = _form(await request.body())
        given = form.get("token", "")
        reviewer = form.get("reviewer", "").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return login_page(request, 401, "wrong token")
        if not reviewer or len(reviewer) > 100 or not reviewer.isprintable():
            return login_page(request, 400, "give your name (at most 100 characters), so decisions say who made them")
        key = secrets.token_urlsafe(32)
        with reviewers_lock:
            reviewers[key] = reviewer
        log.info("reviewer %s logged in", ascii(reviewer)[1:-1])
        response = RedirectResponse("/review", status_code=303)
        set_session_cookie(response, request, key, name=REVIEWER_COOKIE)
        return response

    async def decide(request: Request) -> Response:
        who = reviewer_of(request)
        if who is None:
            return login_page(request, 401)
        form = _form(await request.body())
        keys.check_csrf(request, who[0], form.get("csrf", ""))
        decision, drawing = form.get("decision", ""), form.get("drawing", "")
        if decision not in DECISIONS or not drawing.isdigit():
            raise Refused(400, f"a decision is one of {DECISIONS} on a drawing's id")
        if not await run_in_threadpool(storage.decide, int(drawing), decision, who[1]):
            raise Refused(404, f"no drawing {drawing}")
        log.info("drawing %s: %s by %s", drawing, decision, ascii(who[1])[1:-1])
        back = "/review?show=all" if form.get("show") == "all" else "/review"
        return RedirectResponse(f"{back}#d{drawing}", status_code=303)

    async def drawing_png(request: Request) -> Response:
        if reviewer_of(request) is None:
            raise Refused(401, "no reviewer login")
        drawing_id = request.path_params["id"]
        png = await run_in_threadpool(storage.png, int(drawing_id)) if drawing_id.isdigit() else None
        if png is None:
            raise Refused(404, "no such drawing")
        return Response(png, media_type="image/png", headers={"cache-control": "private, no-store"})

    app = Starlette(
        routes=[
            Route("/", lambda request: RedirectResponse("/review", status_code=303)),
            Route("/review", overview),
            Route("/review/login", login, methods=["POST"]),
            Route("/review/decide", decide, methods=["POST"]),
            Route("/review/drawing/{id}.png", drawing_png),
            Mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static"),
        ],
        exception_handlers={Refused: refuse_response, HTTPException: http_error},
    )
    return Guard(app, Limits().max_body)


def _form(body: bytes) -> dict[str, str]:
    """An URL-encoded form, one value per field (the last one given)."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "the form is not URL-encoded UTF-8") from None
    return {key: values[-1] for key, values in fields.items()}

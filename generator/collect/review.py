"""The review page, behind a token: the drawings the anomaly model flags, per class, with accept and reject.

    GET  /review                 flagged drawings awaiting a decision (``?show=all``: every drawing),
                                 ``REVIEW_PAGE`` at a time (``?page=N``; ``?config=..&label=..`` narrows it)
    POST /review/login           token and reviewer's name -> a reviewer cookie
    POST /review/decide          accept or reject one drawing
    POST /review/decide-many     accept or reject several: fields ``drawing`` (repeated), ``decision``, ``csrf``
    POST /review/rescore         rescore the drawings awaiting a decision against the accepted ones
    GET  /review/drawing/<id>.png
    GET  /review/numeral/<config>/<label>.png   the numeral asked for, to show beside each drawing

The page reads the verdicts stored with each drawing (``anomaly``), so showing it costs one
indexed query a page, however many drawings the database holds.

The token comes from ``--token`` or ``AFRO_MNIST_REVIEW_TOKEN``; it is compared in constant time
and never logged. A login gives the browser a random reviewer key, kept in memory only, so the token
itself never sits in a cookie. Every decision is stored with the reviewer's name and the time.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
from collections.abc import Sequence
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from generator.collect.anomaly import font_images, rescore
from generator.collect.app import numeral_png
from generator.collect.organiser import organiser_routes
from generator.collect.settings import DEFAULT_CLASS_GOAL, MIN_TOKEN_LENGTH
from generator.collect.storage import DECISIONS, Storage
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
REVIEW_PAGE = 50  # drawings a page shows
MAX_BULK = 500  # drawings one bulk decision may name


def create_review_app(
    storage: Storage,
    systems: Sequence[NumeralSystem],
    token: str,
    *,
    join_url: str = "http://127.0.0.1:8000/",
    class_goal: int = DEFAULT_CLASS_GOAL,
    db: str = "",
) -> Guard:
    """The review page's ASGI app, with the organiser's pages (``generator.collect.organiser``).

    ``token`` must be at least ``MIN_TOKEN_LENGTH`` characters; ``join_url`` is the drawing page's address
    that the join page shows, ``class_goal`` the drawings wanted of each class, ``db`` the ``--db`` to quote
    in the export commands.
    """
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the review token must have at least {MIN_TOKEN_LENGTH} characters")
    served = {system.name: system for system in systems}
    keys = Secrets(storage.key("review-csrf"))
    reviewers: dict[str, str] = {}  # reviewer key -> name, in memory only
    reviewers_lock = threading.Lock()
    logins = RateLimiter(_LOGIN_PER_MINUTE, _LOGIN_BURST)
    fonts: dict[str, tuple[list, list]] = {}
    numerals = functools.lru_cache(maxsize=1024)(lambda config, label: numeral_png(served[config], label))

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
        page_text = request.query_params.get("page", "1")
        page = int(page_text) if page_text.isdigit() and 0 < len(page_text) < 7 and int(page_text) > 0 else 1
        config = request.query_params.get("config")
        label_text = request.query_params.get("label", "")
        label = int(label_text) if label_text.isdigit() and len(label_text) < 4 else None
        await run_in_threadpool(score_unscored)
        view = await run_in_threadpool(
            review_view, storage, served, show_all=show_all, page=page, config=config, label=label
        )
        return render("review.html", **view, reviewer=who[1], csrf=keys.csrf_token(who[0]), show_all=show_all)

    def score_unscored() -> None:
        """Scores drawings stored without a verdict (by an earlier version): once, then the page only reads."""
        for config in storage.configs():
            if config in served:
                if config not in fonts:
                    fonts[config] = font_images(served[config])
                rescore(storage, served[config], unscored_only=True, fonts=fonts[config])

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
        return RedirectResponse(f"{_back(form)}#d{drawing}", status_code=303)

    async def decide_many(request: Request) -> Response:
        """One decision on many drawings; answers JSON to a script (``Accept: application/json``), else a redirect."""
        who = reviewer_of(request)
        if who is None:
            return login_page(request, 401)
        fields = _form_lists(await request.body())
        form = {key: values[-1] for key, values in fields.items()}
        keys.check_csrf(request, who[0], form.get("csrf", ""))
        decision, wanted = form.get("decision", ""), fields.get("drawing", [])
        if decision not in DECISIONS or not wanted or not all(i.isdigit() and len(i) < 12 for i in wanted):
            raise Refused(400, f"a bulk decision is one of {DECISIONS} on one or more drawings' ids")
        if len(wanted) > MAX_BULK:
            raise Refused(400, f"at most {MAX_BULK} drawings at once")
        decided = await run_in_threadpool(storage.decide_many, [int(i) for i in wanted], decision, who[1])
        log.info("%d drawings: %s by %s", decided, decision, ascii(who[1])[1:-1])
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"decided": decided, "asked": len(set(wanted))})
        return RedirectResponse(_back(form), status_code=303)

    async def rescore_all(request: Request) -> Response:
        who = reviewer_of(request)
        if who is None:
            return login_page(request, 401)
        form = _form(await request.body())
        keys.check_csrf(request, who[0], form.get("csrf", ""))
        scored = 0
        for config in await run_in_threadpool(storage.configs):
            if config in served:
                scored += await run_in_threadpool(rescore, storage, served[config])
        log.info("rescored %d drawings for %s", scored, ascii(who[1])[1:-1])
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"rescored": scored})
        return RedirectResponse(_back(form), status_code=303)

    async def numeral(request: Request) -> Response:
        if reviewer_of(request) is None:
            raise Refused(401, "no reviewer login")
        config, label = request.path_params["config"], request.path_params["label"]
        if config not in served or not label.isdigit() or not 0 <= int(label) < served[config].num_classes:
            raise Refused(404, "no such numeral")
        png = await run_in_threadpool(numerals, config, int(label))
        return Response(png, media_type="image/png", headers={"cache-control": "private, max-age=86400"})

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
            Route("/review/decide-many", decide_many, methods=["POST"]),
            Route("/review/rescore", rescore_all, methods=["POST"]),
            Route("/review/numeral/{config}/{label}.png", numeral),
            Route("/review/drawing/{id}.png", drawing_png),
            *organiser_routes(
                storage,
                systems,
                reviewer_of=reviewer_of,
                login_page=login_page,
                join_url=join_url,
                class_goal=class_goal,
                db=db,
            ),
            Mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static"),
        ],
        exception_handlers={Refused: refuse_response, HTTPException: http_error},
    )
    return Guard(app, Limits().max_body)


def review_view(
    storage: Storage,
    systems: dict[str, NumeralSystem],
    *,
    show_all: bool = False,
    page: int = 1,
    config: str | None = None,
    label: int | None = None,
    page_size: int = REVIEW_PAGE,
) -> dict:
    """What the review page shows: one page of cards, grouped by config and class, and the links to the others.

    Reads the verdicts stored with the drawings; computes nothing. Returns ``sections`` (each with
    ``config``, ``script``, ``class_name``, ``character``, ``numeral`` (the reference glyph's URL),
    ``total`` and ``cards``: ``id``, ``status``, ``reason``, ``created_at``, ``image``), ``page``,
    ``pages``, ``total``, ``page_links`` (``[(number, url)]``), ``previous`` and ``next`` (URLs or None).
    """
    configs = [c for c in storage.configs() if c in systems and (config is None or c == config)]
    rows: list[dict] = []
    total = 0
    skip, room = (page - 1) * page_size, page_size
    for name in configs:
        # Counted per config, so that a page can start in the middle of one.
        found, matched = storage.review_cards(name, label, show_all=show_all, offset=skip, limit=room)
        skip = max(0, skip - matched)
        total += matched
        rows += [row | {"config": name} for row in found]
        room = page_size - len(rows)
        if room <= 0:
            room = 0
    sections: list[dict] = []
    for row in rows:
        system = systems[row["config"]]
        if not sections or (sections[-1]["config"], sections[-1]["label"]) != (row["config"], row["label"]):
            sections.append(
                {
                    "config": row["config"],
                    "script": system.script,
                    "label": row["label"],
                    "class_name": system.class_names[row["label"]],
                    "character": system.characters[row["label"]],
                    "numeral": f"/review/numeral/{row['config']}/{row['label']}.png",
                    "cards": [],
                }
            )
        sections[-1]["cards"].append(
            {
                "id": row["id"],
                "status": row["status"],
                "reason": row["flag"] or "",
                "created_at": row["created_at"],
                "image": f"/review/drawing/{row['id']}.png",
            }
        )
    for section in sections:
        section["total"] = len(section["cards"])
    pages = max(1, -(-total // page_size))

    def link(number: int) -> str:
        query = {"page": str(number)} | ({"show": "all"} if show_all else {})
        query |= {"config": config} if config else {}
        query |= {"label": str(label)} if label is not None else {}
        return "/review?" + urlencode(query)

    return {
        "sections": sections,
        "page": page,
        "pages": pages,
        "total": total,
        "page_links": [(number, link(number)) for number in range(1, pages + 1)],
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
    }


def _back(form: dict[str, str]) -> str:
    """Where a decision returns to: the page it was made on."""
    query = {"show": "all"} if form.get("show") == "all" else {}
    page = form.get("page", "")
    if page.isdigit() and 0 < len(page) < 7:
        query["page"] = page
    return "/review" + ("?" + urlencode(query) if query else "")


def _form_lists(body: bytes) -> dict[str, list[str]]:
    """An URL-encoded form, every value of each field."""
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_BULK + 10)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "the form is not URL-encoded UTF-8, or has too many fields") from None


def _form(body: bytes) -> dict[str, str]:
    """An URL-encoded form, one value per field (the last one given)."""
    return {key: values[-1] for key, values in _form_lists(body).items()}

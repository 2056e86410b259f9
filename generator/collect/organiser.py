"""The organiser's pages, behind the review token: how the campaign stands, and a join page for the projector.

    GET /review/organiser        counts per config, class and writer, progress to the goal, flagged and
                                 rejected shares, sessions mostly flagged, and the export commands
    GET /review/join             the drawing page's URL and its QR code, large, for a projector
    GET /review/join.svg         the QR code alone
    GET /review/export/<config>.ndjson   the usable drawings' strokes, as ``collect export --format strokes``

The figures are ``generator.collect.stats.collection_stats``, the same that ``afro-mnist collect stats``
prints; this module only lays them out.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from generator.collect.export import export
from generator.collect.lan import svg_qr
from generator.collect.stats import collection_stats
from generator.collect.storage import Storage
from generator.collect.web import Refused, render
from generator.errors import InputError
from generator.registry import NumeralSystem

Reviewer = Callable[[Request], "tuple[str, str] | None"]
LoginPage = Callable[[Request, int], Response]


def organiser_routes(
    storage: Storage,
    systems: Sequence[NumeralSystem],
    *,
    reviewer_of: Reviewer,
    login_page: LoginPage,
    join_url: str,
    class_goal: int,
    db: str = "",
) -> list[Route]:
    """The organiser's routes, to add to the review app; each one needs a reviewer's login."""
    qr = svg_qr(join_url)
    served = {system.name: system for system in systems}

    async def organiser(request: Request) -> Response:
        who = reviewer_of(request)
        if who is None:
            return login_page(request, 401)
        stats = await run_in_threadpool(collection_stats, storage, systems, class_goal=class_goal, db=db)
        response = render("organiser.html", stats=stats, reviewer=who[1], join_url=join_url, downloads=sorted(served))
        response.headers["cache-control"] = "private, no-store"
        return response

    async def join(request: Request) -> Response:
        who = reviewer_of(request)
        if who is None:
            return login_page(request, 401)
        return render("join.html", join_url=join_url)

    async def join_svg(request: Request) -> Response:
        if reviewer_of(request) is None:
            raise Refused(401, "no reviewer login")
        return Response(qr, media_type="image/svg+xml", headers={"cache-control": "private, max-age=3600"})

    async def strokes(request: Request) -> Response:
        if reviewer_of(request) is None:
            raise Refused(401, "no reviewer login")
        config = request.path_params["config"]
        if config not in served:
            raise Refused(404, "no such config")
        body = await run_in_threadpool(_strokes_export, storage, served[config])
        return Response(
            body,
            media_type="application/x-ndjson",
            headers={
                "cache-control": "private, no-store",
                "content-disposition": f'attachment; filename="{config}.ndjson"',
            },
        )

    return [
        Route("/review/organiser", organiser),
        Route("/review/export/{config}.ndjson", strokes),
        Route("/review/join", join),
        Route("/review/join.svg", join_svg),
    ]


def _strokes_export(storage: Storage, system: NumeralSystem) -> bytes:
    """What ``collect export --format strokes`` writes for one config: the usable drawings (flagged ones not
    yet accepted, rejected and deleted ones left out), one a line; empty when there is none yet."""
    with tempfile.TemporaryDirectory(prefix="afro-mnist-strokes-") as folder:
        try:
            ((path, _note),) = export(storage, [system], "strokes", Path(folder) / "out")
        except InputError:  # no usable drawing yet
            return b""
        return path.read_bytes()

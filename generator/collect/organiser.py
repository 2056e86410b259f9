"""The organiser's pages, behind the review token: how the campaign stands, and a join page for the projector.

    GET /review/organiser        counts per config, class and writer, progress to the goal, flagged and
                                 rejected shares, sessions mostly flagged, and the export commands
    GET /review/join             the drawing page's URL and its QR code, large, for a projector
    GET /review/join.svg         the QR code alone

The figures are ``generator.collect.stats.collection_stats``, the same that ``afro-mnist collect stats``
prints; this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from generator.collect.lan import svg_qr
from generator.collect.stats import collection_stats
from generator.collect.storage import Storage
from generator.collect.web import Refused, render
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

    async def organiser(request: Request) -> Response:
        who = reviewer_of(request)
        if who is None:
            return login_page(request, 401)
        stats = await run_in_threadpool(collection_stats, storage, systems, class_goal=class_goal, db=db)
        response = render("organiser.html", stats=stats, reviewer=who[1], join_url=join_url)
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

    return [
        Route("/review/organiser", organiser),
        Route("/review/join", join),
        Route("/review/join.svg", join_svg),
    ]

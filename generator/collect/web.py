"""What the public drawing page and the review page share: settings, security headers, a body cap,
rate limits, CSRF tokens, sessions, templates, and the one log line a refused request gets.

Nothing here stores or logs a client's address: the rate limiter keys addresses by a keyed hash
that lives only in memory for the life of the process.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("afro_mnist.collect")

PACKAGE_DIR = Path(__file__).parent
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
    autoescape=True,  # every value rendered into a page is escaped
    undefined=jinja2.StrictUndefined,
    extensions=["jinja2.ext.i18n"],  # _() and {% trans %}: the drawing page passes its language's gettext
)
TEMPLATES.install_null_translations()  # pages rendered without a language are in English, the msgids' language

# The page loads nothing from anywhere but its own server: no CDN, no inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin: the page's own posts carry its Origin and Referer (with no-referrer, Chromium sends
    # "Origin: null" on form posts, which an origin check must refuse); other sites learn nothing.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
SESSION_COOKIE = "afro_mnist_session"
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Limits:
    """The limits one server enforces. The defaults suit a classroom behind one address.

    Attributes:
        max_body: bytes a request body may hold; larger ones are refused before any parsing.
        session_per_minute, session_burst: drawings and other posts one visitor may send.
        address_per_minute, address_burst: posts from one client address, all its visitors together.
    """

    max_body: int = 256 * 1024
    session_per_minute: float = 30
    session_burst: int = 15
    address_per_minute: float = 600
    address_burst: int = 120


# A refused request's answer is ``{"error": reason in English, "code": one of these}``: the page shows
# its own words for the code, in the writer's language, and the reason is for logs and developers.
ERROR_CODES = {
    "bad_request": "the request is malformed (the reason says how)",
    "too_large": "the request body is over the size limit",
    "no_session": "no session cookie: the page must be reloaded",
    "csrf": "the page's token is missing or stale: fetch a fresh one from /api/token and post again",
    "cross_site": "the request came from another site",
    "consent_first": "the visitor has not agreed yet",
    "rate_limited": "too many requests: wait a moment (Retry-After says how long) and post again",
    "not_found": "no such thing",
    "unauthorized": "no reviewer login",
    "method": "the method is not allowed here",
}
_DEFAULT_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method", 413: "too_large"}


class Refused(Exception):
    """A request the server turns down: a 4xx status, the reason (logged and returned) and an ``ERROR_CODES`` code."""

    def __init__(self, status: int, reason: str, code: str | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code or _DEFAULT_CODES.get(status, "bad_request")
        if self.code not in ERROR_CODES:
            raise ValueError(f"error code {self.code!r} is not one of {sorted(ERROR_CODES)}")


def refuse_response(request: Request, exc: Exception) -> Response:
    """The one log line and the 4xx answer for a refused request."""
    assert isinstance(exc, Refused)
    log_refusal(request.method, request.url.path, exc.status, exc.reason)
    headers = {"retry-after": "10"} if exc.status == 429 else None
    return JSONResponse({"error": exc.reason, "code": exc.code}, status_code=exc.status, headers=headers)


def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 4xx (no such page, wrong method) gets the same one line and a JSON answer."""
    assert isinstance(exc, HTTPException)
    log_refusal(request.method, request.url.path, exc.status_code, str(exc.detail))
    code = _DEFAULT_CODES.get(exc.status_code, "bad_request")
    return JSONResponse({"error": exc.detail, "code": code}, status_code=exc.status_code, headers=exc.headers)


def log_refusal(method: str, path: str, status: int, reason: str) -> None:
    # ascii() keeps a hostile path or reason on one line, its control characters escaped.
    log.warning("refused %s %s: %d %s", method, ascii(path[:120])[1:-1], status, ascii(reason[:200])[1:-1])


class Guard:
    """ASGI middleware: security headers on every answer, and the body cap before anything reads the body.

    A body longer than ``max_body`` (by its Content-Length, or counted as it arrives when the
    client streams it) is answered with 413 without being parsed.
    """

    def __init__(self, app: ASGIApp, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    header for header in SECURITY_HEADERS if header[0] not in names
                ]
            await send(message)

        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._too_large(scope, send_with_headers)
            return
        body, more = b"", True
        if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_body:
                    await self._too_large(scope, send_with_headers)
                    return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if scope["method"] in ("POST", "PUT", "PATCH", "DELETE") and not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        reason = f"request body over {self.max_body} bytes"
        log_refusal(scope["method"], scope["path"], 413, reason)
        await JSONResponse({"error": reason, "code": "too_large"}, status_code=413)(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class RateLimiter:
    """Token buckets in memory, one per key: ``burst`` at once, refilled at ``per_minute``."""

    def __init__(self, per_minute: float, burst: int):
        self.rate = per_minute / 60
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            if len(self._buckets) > 50_000:  # forget full buckets: they behave exactly as new ones
                full = [k for k, (t, seen) in self._buckets.items() if t + (now - seen) * self.rate >= self.burst]
                for k in full:
                    del self._buckets[k]
        return allowed


class Secrets:
    """The server's keys: for CSRF tokens bound to a session, and for hashing client addresses.

    The CSRF key is ``csrf_key`` when given (``Storage.key``: kept in the database, so that a restart
    leaves every open page's token valid), else random for the life of the process. The address key
    always lives in memory only.
    """

    def __init__(self, csrf_key: bytes | None = None) -> None:
        self._csrf_key = csrf_key or secrets.token_bytes(32)
        self._address_key = secrets.token_bytes(32)

    def csrf_token(self, session: str) -> str:
        return hmac.new(self._csrf_key, session.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, request: Request, session: str, token: str | None = None) -> None:
        """Refuses a state-changing request without the session's token, or sent from another site."""
        check_same_origin(request)
        given = token if token is not None else request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(given.encode(), self.csrf_token(session).encode()):
            raise Refused(403, "missing or wrong CSRF token; reload the page", "csrf")

    def address_key(self, request: Request) -> str:
        """The client's address, hashed with a key that never leaves memory: usable for limits only."""
        host = request.client.host if request.client else ""
        return hmac.new(self._address_key, host.encode(), hashlib.sha256).hexdigest()[:32]


def check_same_origin(request: Request) -> None:
    """Refuses a request that a browser says came from another site.

    A browser names a post's source in up to three headers; each one present must say this server:

    - ``Sec-Fetch-Site`` (set by the browser, never by a page's script): ``same-origin`` or ``none``;
    - ``Origin``: this server's host (scheme aside: a TLS proxy in front speaks http to us). ``null`` is
      an opaque origin (a sandboxed frame, a ``data:`` page, or a page sent with ``no-referrer``): it
      passes only when ``Sec-Fetch-Site`` or ``Referer`` vouch for this server;
    - ``Referer``: consulted only when ``Origin`` is ``null``.

    A client that sends none of them (curl, a script) is not a browser that another site could steer;
    the CSRF token, bound to the session, still has to be right.
    """
    host = request.headers.get("host", "")
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise Refused(403, f"{fetch_site} request", "cross_site")
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin != "null":
        if _host_of(origin) != host:
            raise Refused(403, "request from another origin", "cross_site")
        return
    if fetch_site == "same-origin":
        return
    referer = request.headers.get("referer")
    if referer is not None and _host_of(referer) == host:
        return
    raise Refused(403, "request from an opaque origin (Origin: null) that nothing vouches for", "cross_site")


def _host_of(url: str) -> str:
    """``host[:port]`` of an absolute URL; empty when it is not one."""
    if "://" not in url:
        return ""
    return url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]


def session_of(request: Request) -> str | None:
    value = request.cookies.get(SESSION_COOKIE, "")
    return value if _SESSION_ID.fullmatch(value) else None


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def set_session_cookie(response: Response, request: Request, session: str, name: str = SESSION_COOKIE) -> None:
    response.set_cookie(
        name,
        session,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def render(name: str, status: int = 200, **context: object) -> Response:
    return Response(TEMPLATES.get_template(name).render(**context), status_code=status, media_type="text/html")

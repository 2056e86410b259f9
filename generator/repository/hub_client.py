"""Calls to the Hub that end on time: a wall-clock deadline per call, a size limit per download, retries folded.

    call = HubCall(timeout=30, max_bytes=46_000)
    path = call.run(hf_hub_download, "afro-mnist/afro_mnist", "vai/train-00000-of-00001.parquet", repo_type="dataset")

huggingface_hub sends every request through one shared httpx client. Some of its calls (``dataset_info``, the
pages of a file listing) pass ``timeout=None`` explicitly, which overrides any default set on that client, and its
retries add minutes more, each with a warning line. So ``HubCall.run`` runs one huggingface_hub call in a worker
thread and waits for it no longer than its deadline, whatever the call does inside (a stalled name lookup, a
transfer outside httpx). Meanwhile the event hooks this module adds to the shared client bound each request the
worker sends: its timeouts shrink to the time left, a request past the deadline is never sent, a body is cut off
when the deadline passes between two reads (a server trickling a byte at a time), and a response larger than the
call's ``max_bytes`` is refused from its headers or cut off as it grows. A worker left behind by its deadline
therefore stops soon after too. The warnings huggingface_hub logs during the call (its retries) are kept back and
counted, so that an error is one line.

The hooks change nothing for requests sent outside a ``HubCall``. Installing them sets huggingface_hub's client
factory (``set_client_factory``) to its default client plus the hooks, once per process, on the first call.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

try:  # the HTTP client huggingface_hub sends with: httpx2 from 2.x on, httpx before
    from httpx2 import SyncByteStream
except ImportError:
    from httpx import SyncByteStream

T = TypeVar("T")

_current: contextvars.ContextVar[HubCall | None] = contextvars.ContextVar("afro_mnist_hub_call", default=None)
_install_lock = threading.Lock()
_installed = False
_TIMEOUT_KEYS = ("connect", "read", "write", "pool")
# How long a worker past its deadline is waited for, so that it stops writing before its caller cleans up.
_UNWIND_S = 1.0
_RETRY = re.compile(r"Retrying in|Trying to resume download")
# The slowest transfer a call is allowed: a call that moves N bytes gets N / this many seconds on top of its
# timeout, so that a large shard on a slow line is not cut off, while a stall still ends near the timeout.
SLOWEST_BYTES_PER_S = 2**20


def allowance(num_bytes: int) -> float:
    """The seconds a call that sends or receives ``num_bytes`` gets on top of its timeout."""
    return num_bytes / SLOWEST_BYTES_PER_S


class HubTimeout(Exception):
    """The call did not end within its deadline. Not an httpx error, so huggingface_hub never retries it."""


class HubTooLarge(Exception):
    """The Hub answered with more bytes than the call allows."""

    def __init__(self, url: str, size: int, limit: int):
        super().__init__(f"{url} sent {size:,} bytes or more, over the {limit:,} expected")
        self.url, self.size, self.limit = url, size, limit


@dataclass
class HubCall:
    """One call to the Hub, bounded in time and, for a download, in size.

    Attributes:
        timeout: seconds, wall clock, for the whole call: every request, retry and wait in it.
        max_bytes: the most bytes any one response of the call may carry (a file's recorded size); None: no limit.
        warnings: what huggingface_hub logged during the call (it is not printed).
        sent: the method and URL of every request the call sent, in order.
    """

    timeout: float
    max_bytes: int | None = None
    warnings: list[str] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    deadline: float = float("inf")

    def run(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)``, or HubTimeout once ``timeout`` seconds have passed.

        Raises:
            HubTimeout: the deadline passed (and the worker was given a second more to unwind); a worker still
                running is left to end by itself, which its requests soon make it.
                (A request the deadline cut short may instead raise its own timeout error first: see ``expired``.)
            HubTooLarge: a response was larger than ``max_bytes``.
            Exception: whatever ``function`` raised.
        """
        _install()
        self.deadline = time.monotonic() + self.timeout
        outcome: dict[str, Any] = {}

        def work() -> None:
            _current.set(self)
            try:
                outcome["value"] = function(*args, **kwargs)
            except BaseException as exc:  # handed to the caller's thread, which raises it
                outcome["error"] = exc

        # A daemon thread: one left behind never holds up the interpreter's exit.
        worker = threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True, name="hub-call")
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            # Its requests end at the deadline too, so it is about to unwind: let it, before the caller cleans up.
            worker.join(_UNWIND_S)
        if worker.is_alive():
            raise HubTimeout(f"no answer within {self.timeout:g} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def time_left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise HubTimeout(f"no answer within {self.timeout:g} s")
        return left

    def retry_note(self) -> str:
        """``" (after 3 retries: HTTP Error 503)"``: the retries huggingface_hub made, for the one error line."""
        retries = sum(1 for text in self.warnings if _RETRY.search(text))
        if not retries:
            return ""
        causes = [text.split(" thrown while", 1)[0].strip("'") for text in self.warnings if " thrown while" in text]
        cause = f": {causes[-1][:120]}" if causes else ""
        return f" (after {retries} {'retry' if retries == 1 else 'retries'}{cause})"


# --- the hooks on huggingface_hub's client --------------------------------------------------------------------


def _on_request(request: Any) -> None:
    call = _current.get()
    if call is None:
        return
    left = call.time_left()
    call.sent.append((request.method, str(request.url)))
    timeouts = dict(request.extensions.get("timeout") or {})
    request.extensions["timeout"] = {
        key: left if timeouts.get(key) is None else min(timeouts[key], left) for key in _TIMEOUT_KEYS
    }


def _on_response(response: Any) -> None:
    call = _current.get()
    if call is None:
        return
    if call.max_bytes is not None and 200 <= response.status_code < 300:
        # A HEAD answer names the file's size without a body; a GET's Content-Length is the body's.
        for header in ("x-linked-size", "content-length"):
            declared = response.headers.get(header)
            if declared is not None and declared.isdigit() and int(declared) > call.max_bytes:
                raise HubTooLarge(str(response.request.url), int(declared), call.max_bytes)
            if declared is not None:
                break
    if response.request.method != "HEAD":
        response.stream = _BoundedStream(response.stream, call, str(response.request.url))


class _BoundedStream(SyncByteStream):
    """A response body read no further than the call's deadline and size limit."""

    def __init__(self, stream: Any, call: HubCall, url: str):
        self._stream, self._call, self._url = stream, call, url

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._stream:
            received += len(chunk)
            if self._call.max_bytes is not None and received > self._call.max_bytes:
                raise HubTooLarge(self._url, received, self._call.max_bytes)
            self._call.time_left()
            yield chunk

    def close(self) -> None:
        self._stream.close()

    @property
    def elapsed(self) -> Any:  # what httpx's Response.elapsed reads
        return self._stream.elapsed


class _FoldWarnings(logging.Filter):
    """Keeps back what huggingface_hub logs inside a HubCall, and lets the rest through."""

    def filter(self, record: logging.LogRecord) -> bool:
        call = _current.get()
        if call is None:
            return True
        call.warnings.append(record.getMessage())
        return False


_FOLD = _FoldWarnings()


def _install() -> None:
    """Adds the hooks to the client huggingface_hub makes (now and after it remakes it), once per process."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import huggingface_hub.file_download
        import huggingface_hub.hf_api  # noqa: F401 -- imported for its logger
        from huggingface_hub import set_client_factory
        from huggingface_hub.utils import _http

        def client_factory() -> Any:
            client = _http.default_client_factory()
            hooks = client.event_hooks
            client.event_hooks = {
                "request": [*hooks["request"], _on_request],
                "response": [*hooks["response"], _on_response],
            }
            return client

        set_client_factory(client_factory)
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if name.startswith("huggingface_hub") and isinstance(logger, logging.Logger):
                logger.addFilter(_FOLD)
        _installed = True

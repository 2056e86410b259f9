"""A generation worker process: its start and its task, kept importable without albumentations.

The pool hands each worker its exemplars and recipe as one pickled ``bytes`` payload, unpickled
here rather than by ``multiprocessing``, for two reasons:

- A spawned worker reads what its parent sends before it runs anything. Sent as objects, the
  exemplars would be unpickled on arrival, importing albumentations, OpenCV and scikit-image first,
  and the parent, blocked on the pipe until they were read, would start the next worker only then:
  start-up would be serial. As bytes, they are read at once and every worker imports in parallel.
- albumentations imports PyTorch, when it is installed, for its ``ToTensorV2`` transform. A worker
  only deforms NumPy images, and PyTorch would cost each one about 1.3 s of start-up and 300 MB, so
  the worker marks it absent before anything imports albumentations. The main process is untouched.
"""

from __future__ import annotations

import pickle
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.synthesis.plan import Chunk
    from generator.synthesis.synthesizer import Rendered


def payload(exemplars: dict, recipe: dict) -> bytes:
    """What ``start`` takes: each config's ``synthesizer.Exemplars`` by name, and the recipe as a dict."""
    return pickle.dumps((exemplars, recipe), protocol=pickle.HIGHEST_PROTOCOL)


# Why this worker could not start, if it could not. An initializer that raises makes the pool start
# a new worker, which fails the same way, forever; so the error is kept and raised by every task.
_start_error: BaseException | None = None


def start(data: bytes) -> None:
    """The pool's initializer: builds this worker's synthesizers (see ``synthesizer.init_worker``)."""
    global _start_error
    # Ctrl-C reaches every process of the terminal's group: the parent handles it, and ends the pool. The worker
    # started with SIGINT blocked (generate._sigint_held); one that came meanwhile is dropped once it is ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]
    try:
        from generator.synthesis import synthesizer  # only now that PyTorch is marked absent: albumentations seeks it

        exemplars, recipe = pickle.loads(data)
        synthesizer.init_worker(exemplars, recipe)
    except Exception as error:
        _start_error = error


def render(chunk: Chunk) -> Rendered:
    """A pool task: one chunk's images (see ``synthesizer.render_chunk``)."""
    if _start_error is not None:
        raise RuntimeError(f"a generation worker could not start: {_start_error!r}") from _start_error
    from generator.synthesis import synthesizer  # imported by start() already; here it is only looked up

    return synthesizer.render_chunk(chunk)

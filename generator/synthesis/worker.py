"""Generation worker processes: the parent's pool (``render_all``) and a worker's life (``serve``).

Kept importable without albumentations: a spawned worker imports this module first.

Why not ``multiprocessing.Pool``: its ``terminate()``, the one way to stop it at once after a failed
chunk or Ctrl-C, kills workers that may be writing a result while they hold the lock of the result
queue every worker shares. The pool's task thread then waits on that lock forever, and so does the
run: under load it hung on the 11th of 11 tries. Here each worker has a pipe of its own and no lock is
shared, so a worker can be killed at any moment. A worker that dies, or cannot start, fails the run
with one error instead of being restarted forever.

Each worker gets its exemplars and recipe as one pickled ``bytes`` payload, unpickled here rather
than by ``multiprocessing``, for two reasons:

- A spawned worker reads what its parent sends before it runs anything. Sent as objects, the
  exemplars would be unpickled on arrival, importing albumentations, OpenCV and scikit-image first,
  and the parent, blocked on the pipe until they were read, would start the next worker only then:
  start-up would be serial. As bytes, they are read at once and every worker imports in parallel.
- albumentations imports PyTorch, when it is installed, for its ``ToTensorV2`` transform. A worker
  only deforms NumPy images, and PyTorch would cost each one about 1.3 s of start-up and 300 MB, so
  the worker marks it absent before anything imports albumentations. The main process is untouched.
"""

from __future__ import annotations

import multiprocessing
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.synthesis.plan import Chunk
    from generator.synthesis.synthesizer import Rendered

# Chunks sent to a worker before it returns one: the next is ready the moment a result leaves.
IN_FLIGHT = 2
# Chunks a worker may run ahead of the one the run writes next, each (~300 KB of images) held meanwhile.
AHEAD = 8


def payload(exemplars: dict, recipe: dict) -> bytes:
    """What ``start`` takes: each config's ``synthesizer.Exemplars`` by name, and the recipe as a dict."""
    return pickle.dumps((exemplars, recipe), protocol=pickle.HIGHEST_PROTOCOL)


def render_all(chunks: list[Chunk], data: bytes, workers: int) -> Iterator[Rendered]:
    """Renders ``chunks`` on ``workers`` spawned processes and yields their images in chunk order.

    Args:
        chunks: the tasks, in the order their images are yielded.
        data: what each worker starts from (``payload``).
        workers: how many processes; at least 1.

    Raises:
        WorkerStopped: a worker exited under the run.
        RuntimeError: a worker could not start. An error a worker raised on a chunk is raised again
            here. The workers are killed on the way out, whatever the reason.
    """
    # spawn, not fork: the parent holds Arrow and OpenCV thread pools that fork would copy mid-state.
    context = multiprocessing.get_context("spawn")
    processes: list[multiprocessing.process.BaseProcess] = []
    pipes: list[Connection] = []
    results = _Results(chunks, ahead=AHEAD * workers)
    feeders: list[threading.Thread] = []
    try:
        with _sigint_held():  # workers start deaf to Ctrl-C, which the parent handles by killing them
            for _ in range(workers):
                pipe, far_end = context.Pipe()
                process = context.Process(target=serve, args=(far_end, data), daemon=True)
                process.start()
                far_end.close()  # the worker's end only: its death is then end-of-file here
                processes.append(process)
                pipes.append(pipe)
        for pipe, process in zip(pipes, processes, strict=True):
            feeders.append(threading.Thread(target=results.feed, args=(pipe, process), daemon=True))
            feeders[-1].start()
        for index in range(len(chunks)):
            yield results.take(index)
    finally:
        results.stop()
        for process in processes:
            process.kill()  # a feeder reading its pipe then meets end-of-file
        for thread in feeders:
            thread.join()
        for process in processes:
            process.join()
        for pipe in pipes:
            pipe.close()


class _Results:
    """Hands chunks to workers and keeps their images until taken, in order.

    One thread per worker runs ``feed``: it keeps ``IN_FLIGHT`` chunks sent to its worker and reads each
    result as it comes, so workers never wait on a main thread busy writing shards. No chunk is sent more
    than ``ahead`` places past the next one to be taken, which bounds the images held to ``ahead`` chunks.
    """

    def __init__(self, chunks: list[Chunk], ahead: int) -> None:
        self._chunks = chunks
        self._ahead = ahead
        self._upcoming = 0  # the next chunk to send
        self._taken = 0  # the next chunk to take
        self._done: dict[int, Rendered] = {}
        self._error: BaseException | None = None
        self._stopping = False
        self._changed = threading.Condition()

    def take(self, index: int) -> Rendered:
        """Chunk ``index``'s images once a worker has returned them; raises what a feeder met instead."""
        with self._changed:
            while index not in self._done and self._error is None:
                self._changed.wait()
            if self._error is not None:
                raise self._error
            self._taken = index + 1
            self._changed.notify_all()  # the window moved on
            return self._done.pop(index)

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()

    def feed(self, pipe: Connection, process: multiprocessing.process.BaseProcess) -> None:
        """One worker's thread: sends it chunks and reads back their images until none are left."""
        try:
            in_flight = 0
            while True:
                while in_flight < IN_FLIGHT and (task := self._next_task(wait=in_flight == 0)) is not None:
                    try:
                        pipe.send(task)
                    except OSError:  # it exited
                        raise _stopped(process) from None
                    in_flight += 1
                if in_flight == 0:
                    return  # nothing left to send, or stopping
                try:
                    position, rendered, failure = pipe.recv()
                except (EOFError, OSError):  # OSError: it died with chunks unread, and its end was reset
                    raise _stopped(process) from None
                if failure is not None:
                    error, remote_traceback = failure
                    error.add_note(f"raised in a generation worker:\n{remote_traceback}")
                    raise error
                in_flight -= 1
                with self._changed:
                    self._done[position] = rendered
                    self._changed.notify_all()
        except BaseException as error:  # handed to the main thread, unless the run is ending anyway
            with self._changed:
                if not self._stopping and self._error is None:
                    self._error = error
                self._changed.notify_all()

    def _next_task(self, wait: bool) -> tuple[int, Chunk] | None:
        """The next ``(position, chunk)`` to send; None when none is left, or when it is too far ahead and
        ``wait`` is false (the caller has results to read first), or when stopping."""
        with self._changed:
            while True:
                if self._stopping or self._error is not None or self._upcoming == len(self._chunks):
                    return None
                if self._upcoming < self._taken + self._ahead:
                    self._upcoming += 1
                    return self._upcoming - 1, self._chunks[self._upcoming - 1]
                if not wait:
                    return None
                self._changed.wait()


class WorkerStopped(RuntimeError):
    """A worker process exited in the middle of a run: killed, out of memory, or crashed."""


def _stopped(process: multiprocessing.process.BaseProcess) -> WorkerStopped:
    """The error of a run whose worker exited under it."""
    process.join(timeout=5)
    how = f"exit code {process.exitcode}"
    if process.exitcode is not None and process.exitcode < 0:
        how = f"killed by signal {-process.exitcode}"
        if process.exitcode == -signal.SIGKILL:
            how += ", as the out-of-memory killer does; fewer --workers use less memory"
    return WorkerStopped(f"a generation worker stopped ({how})")


def serve(pipe: Connection, data: bytes) -> None:
    """A worker process: starts from ``data``, then renders each ``(position, chunk)`` the pipe brings."""
    start(data)
    try:
        while True:
            position, chunk = pipe.recv()
            try:
                reply = (position, render(chunk), None)
            except Exception as error:
                reply = (position, None, (_portable(error), traceback.format_exc()))
            pipe.send(reply)
    except (EOFError, OSError):
        return  # the parent is gone, or closed the pipe: nothing is left to do


def _portable(error: Exception) -> Exception:
    """``error`` itself if it survives a pipe, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(repr(error))
    return error


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Blocks SIGINT while worker processes start, then delivers one that came meanwhile.

    A started process inherits the blocked signal, so a worker still importing when Ctrl-C comes prints no
    traceback; ``start`` then ignores SIGINT for good. Only the main thread's mask matters; elsewhere this
    does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


# Why this worker could not start, if it could not: raised again by every chunk it is given, so the run
# fails with the reason rather than on the first chunk's symptom.
_start_error: BaseException | None = None


def start(data: bytes) -> None:
    """A worker's start: builds its synthesizers (see ``synthesizer.init_worker``)."""
    global _start_error
    # Ctrl-C reaches every process of the terminal's group: the parent handles it, and kills the workers. The
    # worker started with SIGINT blocked (_sigint_held); one that came meanwhile is dropped once it is ignored.
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
    """A worker's task: one chunk's images (see ``synthesizer.render_chunk``)."""
    if _start_error is not None:
        raise RuntimeError(f"a generation worker could not start: {_start_error!r}") from _start_error
    from generator.synthesis import synthesizer  # imported by start() already; here it is only looked up

    return synthesizer.render_chunk(chunk)

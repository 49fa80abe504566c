"""Running service calls off the GUI thread, one request per panel.

A panel owns a :class:`RequestRunner`. Starting a request makes any older one stale:
its result is dropped when it arrives, and its CancelToken is set so work that can
stop (a DuckDB query) stops. Errors arrive as CavernError instances; anything else
is wrapped in one, so no traceback reaches the user.

A finished worker is released completely: its function, arguments and callbacks are
dropped when its last signal arrives, and the worker itself (a superqt FunctionWorker run
on the global QThreadPool) is freed on the GUI thread, so a result (or a bound method such
as ``ResultRows.prewarm`` that holds one) is not kept for the rest of the session. Every
runner registers itself (weakly) in :mod:`ui.common.runner_registry` so that quitting
can cancel all of them.

Progress a service reports through its token (``CancelToken.report``, called on the
worker thread) arrives as the runner's ``progressed`` signal on the GUI thread: the
token's ``on_progress`` only emits a signal of a small per-job QObject, queued to the
runner, so no widget is ever touched from the worker. Errors, progress and results' notes
also go to the window's StatusSink (:mod:`ui.common.status_sink`).
"""
from __future__ import annotations

import logging
import sys
import weakref
from typing import Callable

import shiboken6
from PySide6.QtCore import QObject, Qt, QThreadPool, Signal
from superqt.utils import create_worker

from models.errors import CancelledError, CavernError
from services.source import CancelToken
from ui.common import runner_registry, status_sink

log = logging.getLogger(__name__)


def as_cavern_error(exc: BaseException) -> CavernError:
    if isinstance(exc, CavernError):
        return exc
    log.error("unexpected error", exc_info=exc)
    return CavernError(f"Something went wrong: {type(exc).__name__}: {exc}",
                       hint="The app is still usable; please report this if it repeats.")


class _ProgressRelay(QObject):
    """Carries one job's Progress from its worker thread to its runner (queued)."""
    progress = Signal(int, object)  # the job's generation, services.source.Progress


class _Job:
    """One started worker and what its result goes to.

    Holds its runner weakly (a running job never keeps a closed panel alive) and lets go
    of the worker, its function and arguments and the callbacks as soon as the worker's
    last signal arrives. What stays connected to the worker's signals object afterwards
    is this small husk, freed with the worker.
    """

    __slots__ = ("runner", "gen", "token", "worker", "on_result", "on_error", "relay",
                 "await_outcome")

    def __init__(self, runner: "RequestRunner", gen: int, token: CancelToken, worker,
                 on_result, on_error, await_outcome: bool = False):
        self.runner = weakref.ref(runner)
        self.gen, self.token, self.worker = gen, token, worker
        self.on_result, self.on_error = on_result, on_error
        self.await_outcome = await_outcome
        # Made here, on the GUI thread, and queued to the runner: the worker only emits.
        self.relay = _ProgressRelay()
        self.relay.progress.connect(runner._progress_from_worker,
                                    Qt.ConnectionType.QueuedConnection)
        relay, g = self.relay, gen
        token.on_progress = lambda p: relay.progress.emit(g, p)

    def live_runner(self):
        runner = self.runner()
        return runner if runner is not None and shiboken6.isValid(runner) else None

    def release(self) -> None:
        """The worker has ended (superqt's ``_finished``, its last signal)."""
        worker, self.worker = self.worker, None
        self.on_result = self.on_error = None
        self.token.on_progress = None  # the function has returned: nothing reports now
        self.relay = None
        runner = self.live_runner()
        if runner is not None:
            runner._workers.discard(self)
            if runner._token is self.token and not runner._busy:
                runner._token = None  # it may hold the work's cancel hook (a DuckDB cursor)
        if worker is not None:
            # Drop the function and its arguments (e.g. a bound ResultRows.prewarm, which
            # holds the whole result) now, whoever still holds the worker.
            worker._func, worker._args, worker._kwargs = None, (), {}
            _bury(worker)


# Ended workers whose pool thread may still hold them (it is leaving worker.run). They are
# let go here, on the GUI thread, once nothing else refers to them: a worker freed by the
# pool thread would delete its signals QObject, which lives in the GUI thread, from there.
_graveyard: list = []


def _owner_alive(callback) -> bool:
    """False when ``callback`` is a bound method of a Qt object whose C++ side is gone
    (a dialog closed mid-request): calling it would touch freed memory."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


def _others(obj) -> int:
    return sys.getrefcount(obj)


_ALONE = _others(object())  # the count of an object that only this call refers to


def _bury(worker=None) -> None:
    """Keep ``worker`` and let go of every buried worker nobody else refers to now."""
    if worker is not None:
        _graveyard.append(worker)
        del worker
    keep = []
    while _graveyard:
        w = _graveyard.pop()
        if _others(w) > _ALONE + 1:  # +1: the local name w
            keep.append(w)
        del w
    _graveyard.extend(keep)


def release_ended_workers() -> int:
    """Free the buried workers (call once the thread pool is done); returns how many
    are still held elsewhere."""
    _bury()
    return len(_graveyard)


def _connect(worker, job: _Job) -> None:
    """Connect plain functions (PySide holds them strongly; a bound method of a plain
    object is held by address and may be called after the object is gone)."""
    def returned(value):
        runner = job.live_runner()
        if runner is not None:
            runner._done_ok(job, value)

    def errored(exc):
        runner = job.live_runner()
        if runner is not None:
            runner._done_err(job, exc)

    def finished(_worker):
        job.release()

    sig = worker.signals
    sig.returned.connect(returned)
    sig.errored.connect(errored)
    sig._finished.connect(finished)  # emitted last, after returned/errored/finished


class RequestRunner(QObject):
    """Runs ``fn(*args, cancel=token)`` in a worker thread; newest request wins."""

    busyChanged = Signal(bool)
    failed = Signal(object)  # CavernError of the current request
    succeeded = Signal(object)  # result of the current request
    progressed = Signal(object)  # services.source.Progress of the current request (GUI thread)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._generation = 0
        self._token: CancelToken | None = None
        self._busy = False
        self._workers: set[_Job] = set()  # started jobs, until each worker ends
        self._awaiting = False  # the current job reports its own outcome after a Cancel
        runner_registry.register(self)

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def pending(self) -> int:
        """Workers started by this runner (current or stale) that have not ended."""
        return len(self._workers)

    def run(self, fn: Callable, *args, on_result: Callable | None = None,
            on_error: Callable | None = None, pass_cancel: bool = True,
            await_outcome: bool = False, **kwargs) -> CancelToken:
        """Start ``fn``. With ``await_outcome`` a Cancel only asks the work to stop: what
        the work then did is reported (its result if it returned, CancelledError only if
        it raised one). For work whose late result is a fact, e.g. a file already written."""
        self.cancel(quiet=True)
        self._generation += 1
        token = CancelToken()
        self._token = token
        if pass_cancel:
            kwargs["cancel"] = token
        # _ignore_errors: errors come to _done_err below, never re-raised in the GUI thread
        worker = create_worker(fn, *args, _start_thread=False, _ignore_errors=True, **kwargs)
        job = _Job(self, self._generation, token, worker, on_result, on_error, await_outcome)
        self._awaiting = await_outcome
        self._workers.add(job)
        _connect(worker, job)
        self._set_busy(True)
        # The pool gets worker.run, a Python callable, not the QRunnable: given a QRunnable,
        # PySide hands its ownership to C++ and never lets go of the Python wrapper (with
        # its signals object and everything connected) after the pool has deleted it.
        QThreadPool.globalInstance().start(worker.run)
        _bury()
        return token

    def _progress_from_worker(self, gen: int, progress) -> None:
        if gen == self._generation and self._busy:  # a stale job's progress is not news
            self.progressed.emit(progress)
            status_sink.route_progress(self, progress)

    def _done_ok(self, job: _Job, value) -> None:
        if job.gen != self._generation or (job.token.cancelled and not job.await_outcome):
            return  # a newer request superseded this one
        on_result = job.on_result
        self._set_busy(False)
        status_sink.route_result(self, value)  # before on_result: its message comes last
        if on_result and _owner_alive(on_result):
            on_result(value)
        self.succeeded.emit(value)

    def _done_err(self, job: _Job, exc) -> None:
        if job.gen != self._generation:
            return
        on_error = job.on_error
        self._set_busy(False)
        if job.await_outcome:  # only what the work raised counts
            err = as_cavern_error(exc)
        else:
            err = CancelledError() if job.token.cancelled else as_cavern_error(exc)
        if on_error and _owner_alive(on_error):
            on_error(err)
        self.failed.emit(err)
        status_sink.route_error(self, err)

    def cancel(self, quiet: bool = False) -> None:
        """Cancel the running request; unless quiet, report it as cancelled (for work
        started with ``await_outcome``, the work's own outcome is reported when it ends)."""
        if self._token is not None and self._busy:
            self._token.cancel()
            if not quiet and not self._awaiting:
                self._generation += 1  # its late result is stale now
                self._set_busy(False)
                self.failed.emit(CancelledError())

    def shutdown(self) -> int:
        """Quitting: cancel every unfinished job (stale ones too), drop late results, say
        nothing. Returns how many jobs were still running."""
        jobs = list(self._workers)
        for job in jobs:
            job.token.cancel()
        self._generation += 1
        self._busy = False  # no busyChanged: the panels are going away
        return len(jobs)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

"""Running service calls off the GUI thread, one request per panel.

A panel owns a :class:`RequestRunner`. Starting a request makes any older one stale:
its result is dropped when it arrives, and its CancelToken is set so work that can
stop (a DuckDB query) stops. Errors arrive as CavernError instances; anything else
is wrapped in one, so no traceback reaches the user.
"""
from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from models.errors import CancelledError, CavernError
from services.data_source import CancelToken

log = logging.getLogger(__name__)


def as_cavern_error(exc: BaseException) -> CavernError:
    if isinstance(exc, CavernError):
        return exc
    log.error("unexpected error", exc_info=exc)
    return CavernError(f"Something went wrong: {type(exc).__name__}: {exc}",
                       hint="The app is still usable; please report this if it repeats.")


class RequestRunner(QObject):
    """Runs ``fn(*args, cancel=token)`` in a worker thread; newest request wins."""

    busyChanged = Signal(bool)
    failed = Signal(object)  # CavernError of the current request
    succeeded = Signal(object)  # result of the current request

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._generation = 0
        self._token: CancelToken | None = None
        self._busy = False
        self._workers: set = set()  # keep references until each worker ends

    @property
    def busy(self) -> bool:
        return self._busy

    def run(self, fn: Callable, *args, on_result: Callable | None = None,
            on_error: Callable | None = None, pass_cancel: bool = True, **kwargs) -> CancelToken:
        self.cancel(quiet=True)
        self._generation += 1
        gen = self._generation
        token = CancelToken()
        self._token = token
        if pass_cancel:
            kwargs["cancel"] = token
        # _ignore_errors: errors come to done_err below, never re-raised in the GUI thread
        worker = create_worker(fn, *args, _start_thread=False, _ignore_errors=True, **kwargs)
        self._workers.add(worker)

        def done_ok(value):
            if gen != self._generation or token.cancelled:
                return  # a newer request superseded this one
            self._set_busy(False)
            if on_result:
                on_result(value)
            self.succeeded.emit(value)

        def done_err(exc):
            if gen != self._generation:
                return
            self._set_busy(False)
            err = CancelledError() if token.cancelled else as_cavern_error(exc)
            if on_error:
                on_error(err)
            self.failed.emit(err)

        worker.returned.connect(done_ok)
        worker.errored.connect(done_err)
        worker.finished.connect(lambda: self._workers.discard(worker))
        self._set_busy(True)
        worker.start()
        return token

    def cancel(self, quiet: bool = False) -> None:
        """Cancel the running request; unless quiet, report it as cancelled."""
        if self._token is not None and self._busy:
            self._token.cancel()
            if not quiet:
                self._generation += 1  # its late result is stale now
                self._set_busy(False)
                self.failed.emit(CancelledError())

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

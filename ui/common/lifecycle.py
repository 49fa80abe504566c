"""Quitting cleanly: cancel every request, wait for the worker threads, close the sources.

Run once when the application is about to quit (``QApplication.aboutToQuit``), while the
event loop can still deliver the workers' last signals. Bounded: a worker that ignores its
cancel token (a blocking HTTP call) is waited for at most ``timeout_ms``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, QThreadPool

from ui.common import runner_registry
from ui.common.workers import release_ended_workers

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_MS = 5000
_at_shutdown: list = []  # callables run first at quit (the Neuroglancer viewer's server)


def at_shutdown(fn) -> None:
    """Run ``fn()`` once at quit, before the workers are awaited; a failure is logged."""
    _at_shutdown.append(fn)


@dataclass
class ShutdownReport:
    cancelled: int = 0          # worker jobs still running when the quit began
    pool_done: bool = True      # every thread-pool task ended within the timeout
    waited_ms: float = 0.0      # time spent waiting for the thread pool
    sources_closed: int = 0
    errors: list = field(default_factory=list)
    total_ms: float = 0.0


def shutdown(sources=(), timeout_ms: int = DEFAULT_TIMEOUT_MS) -> ShutdownReport:
    t0 = time.perf_counter()
    report = ShutdownReport()
    while _at_shutdown:
        fn = _at_shutdown.pop()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - quitting goes on whatever a hook says
            log.warning("shutdown hook %r failed: %s", fn, exc)
            report.errors.append(exc)
    report.cancelled = runner_registry.cancel_all()
    pool = QThreadPool.globalInstance()
    report.pool_done = pool.waitForDone(timeout_ms)
    report.waited_ms = (time.perf_counter() - t0) * 1000
    # Deliver the workers' queued last signals, so each runner releases its workers now.
    QCoreApplication.sendPostedEvents()
    release_ended_workers()
    if not report.pool_done:
        log.warning("%d worker(s) still running %d ms after quit; their sources stay open",
                    pool.activeThreadCount(), timeout_ms)
    else:
        seen = set()
        for src in sources:
            if src is None or id(src) in seen:
                continue
            seen.add(id(src))
            try:
                src.close()
                report.sources_closed += 1
            except Exception as exc:  # noqa: BLE001 - quitting goes on whatever a source says
                log.warning("closing %r failed: %s", src, exc)
                report.errors.append(exc)
    report.total_ms = (time.perf_counter() - t0) * 1000
    log.info("shutdown: %s", report)
    return report

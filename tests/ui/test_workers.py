"""RequestRunner: newest request wins; errors arrive as CavernError, never re-raised."""
import threading

from models.errors import CancelledError, CavernError, NotFoundError
from ui.common.workers import RequestRunner


def test_result_and_typed_error(qtbot):
    r = RequestRunner()
    with qtbot.waitSignal(r.succeeded) as ok:
        r.run(lambda cancel: 41 + 1)
    assert ok.args == [42]

    def boom(cancel):
        raise NotFoundError("Table 'x' is gone.")
    with qtbot.waitSignal(r.failed) as bad:
        r.run(boom)
    assert isinstance(bad.args[0], NotFoundError)


def test_unexpected_exception_is_wrapped(qtbot):
    r = RequestRunner()
    with qtbot.waitSignal(r.failed) as bad:
        r.run(lambda cancel: 1 / 0)
    assert isinstance(bad.args[0], CavernError) and "ZeroDivisionError" in str(bad.args[0])


def test_newer_request_makes_older_stale(qtbot):
    r = RequestRunner()
    gate = threading.Event()
    seen = []

    def slow(cancel):
        gate.wait(5)
        return "old"
    r.run(slow, on_result=seen.append)
    with qtbot.waitSignal(r.succeeded) as ok:
        r.run(lambda cancel: "new", on_result=seen.append)
    gate.set()
    assert ok.args == ["new"]
    qtbot.waitUntil(lambda: not r._workers, timeout=5000)
    assert seen == ["new"]


def test_cancel_reports_cancelled_and_sets_token(qtbot):
    r = RequestRunner()
    gate = threading.Event()
    tok = r.run(lambda cancel: gate.wait(5))
    with qtbot.waitSignal(r.failed) as bad:
        r.cancel()
    gate.set()
    assert isinstance(bad.args[0], CancelledError) and tok.cancelled and not r.busy
    qtbot.waitUntil(lambda: not r._workers, timeout=5000)


class _Big:
    """Stands for a large result (or ResultRows, whose bound prewarm a worker runs)."""

    def work(self, cancel=None):
        return self


def _collect(qtbot, *refs):
    import gc

    def dead():
        gc.collect()
        return all(r() is None for r in refs)
    qtbot.waitUntil(dead, timeout=5000)


def test_finished_worker_is_released(qtbot):
    """Neither the function (a bound method holding the data), its arguments, the
    callbacks nor the result stay reachable once the worker has ended."""
    import weakref
    r = RequestRunner()
    obj, arg = _Big(), _Big()
    seen = []
    on_result = lambda value: seen.append(id(value))  # noqa: E731
    with qtbot.waitSignal(r.succeeded):
        r.run(obj.work, arg, on_result=on_result, pass_cancel=False)
    refs = [weakref.ref(obj), weakref.ref(arg), weakref.ref(on_result)]
    del obj, arg, on_result
    qtbot.waitUntil(lambda: not r._workers, timeout=5000)
    _collect(qtbot, *refs)
    assert len(seen) == 1


def test_failed_and_stale_workers_are_released(qtbot):
    import weakref
    r = RequestRunner()
    gate = threading.Event()
    stale, failing = _Big(), _Big()

    def slow(holder, cancel):
        gate.wait(5)
        return holder

    def boom(holder, cancel):
        raise NotFoundError("gone")
    r.run(slow, stale)
    with qtbot.waitSignal(r.failed):
        r.run(boom, failing)
    gate.set()
    refs = [weakref.ref(stale), weakref.ref(failing)]
    del stale, failing
    qtbot.waitUntil(lambda: not r._workers, timeout=5000)
    _collect(qtbot, *refs)


def test_runners_register_and_shutdown_cancels_all(qtbot):
    from PySide6.QtCore import QObject
    from ui.common import runner_registry
    owner, other = QObject(), QObject()
    a, b, c = RequestRunner(owner), RequestRunner(owner), RequestRunner(other)
    assert {a, b, c} <= set(runner_registry.live_runners())
    gate = threading.Event()
    tokens = [x.run(lambda cancel: gate.wait(5)) for x in (a, b, c)]
    results = []
    for x in (a, b, c):
        x.succeeded.connect(results.append)
        x.failed.connect(results.append)
    assert runner_registry.cancel_all(owner=owner) == 2
    assert tokens[0].cancelled and tokens[1].cancelled and not tokens[2].cancelled
    assert not a.busy and not b.busy and c.busy
    gate.set()
    with qtbot.waitSignal(c.succeeded):
        pass
    qtbot.waitUntil(lambda: not (a._workers or b._workers or c._workers), timeout=5000)
    assert results == [True]  # the cancelled ones say nothing, their late results dropped


def test_registry_holds_runners_weakly(qtbot):
    import gc
    import weakref
    from ui.common import runner_registry
    r = RequestRunner()
    ref = weakref.ref(r)
    del r
    gc.collect()
    assert ref() is None
    assert all(x is not None for x in runner_registry.live_runners())


def test_callback_of_a_deleted_widget_is_not_called(qtbot):
    """A dialog closed mid-request: its bound callbacks must not run on a freed object."""
    import shiboken6
    from PySide6.QtWidgets import QLabel

    class Owner(QLabel):
        def show_result(self, value):
            self.setText(str(value))  # would touch the freed C++ object

        def show_error(self, err):
            self.setText(str(err))

    r = RequestRunner()
    for fail in (False, True):
        owner = Owner()
        gate = threading.Event()

        def work(cancel, fail=fail):
            gate.wait(5)
            if fail:
                raise CavernError("late failure")
            return "late"
        r.run(work, on_result=owner.show_result, on_error=owner.show_error)
        shiboken6.delete(owner)
        signal = r.failed if fail else r.succeeded
        with qtbot.waitSignal(signal, timeout=5000):
            gate.set()
        assert not shiboken6.isValid(owner)
    qtbot.waitUntil(lambda: not r._workers, timeout=5000)

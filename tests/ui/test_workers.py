"""RequestRunner: newest request wins; errors arrive as CavernError, never re-raised."""
import threading

from models.errors import CancelledError, CavernError, NotFoundError
from ui.workers import RequestRunner


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

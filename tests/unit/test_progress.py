"""Progress reported through a request's CancelToken (services.source)."""
from services.source import CancelToken, Progress


def test_report_reaches_the_callback_with_rate_and_time_left():
    seen = []
    token = CancelToken(on_progress=seen.append)
    token.report(1, 4, 1000, "page 1")
    p = seen[-1]
    assert (p.done, p.total, p.rows, p.what) == (1, 4, 1000, "page 1") and p.elapsed_s >= 0
    q = Progress(2, 8, 500_000, elapsed_s=5.0)
    assert q.rate == 100_000 and q.remaining_s == 15.0
    assert Progress(3, None, 10, elapsed_s=1.0).remaining_s is None


def test_no_callback_no_cost():
    CancelToken().report(1, 2, 3)  # nothing listens: nothing happens

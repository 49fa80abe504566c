"""Back/Forward rules of the cell inspector's history (plain Python)."""
from ui.cells.cell_history import CellHistory


def test_back_forward_and_branching():
    h = CellHistory()
    assert h.current() is None and not h.can_back() and not h.can_forward()
    for rid in (1, 2, 3):
        h.visit("ds", rid)
    h.visit("ds", 3)  # the current cell again: no new entry
    assert h.entries() == [("ds", 1), ("ds", 2), ("ds", 3)]
    assert h.back() == ("ds", 2) and h.back() == ("ds", 1) and h.back() == ("ds", 1)
    assert h.forward() == ("ds", 2) and h.can_forward()
    h.visit("other", 9)  # visiting after Back drops what was ahead
    assert h.entries() == [("ds", 1), ("ds", 2), ("other", 9)] and not h.can_forward()
    assert h.go(0) == ("ds", 1) and h.go(7) == ("ds", 1)


def test_limit_keeps_the_newest():
    h = CellHistory(limit=3)
    for rid in range(5):
        h.visit("ds", rid)
    assert [r for _, r in h.entries()] == [2, 3, 4] and h.current() == ("ds", 4)
    assert h.position == 2

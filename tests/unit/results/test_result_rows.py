"""ResultRows (no Qt): cell text, stable sort with missing values last, quick filter."""
import numpy as np
import pandas as pd
import pytest

from services.results.result_rows import ResultRows, format_float

ROOT = 864691135774053371


def texts(rows, name):
    c = rows.names.index(name)
    return [rows.text(r, c) for r in range(rows.n_rows)]


@pytest.fixture
def rows():
    pos = np.empty(5, dtype=object)
    pos[:] = [np.array([5, 2, 3]), None, np.array([1, 20, 3]), np.array([1, 2, 30]),
              np.array([1, 2, 3])]
    return ResultRows(pd.DataFrame({
        "id": np.array([10, 11, 12, 13, 14], dtype=np.int64),
        "group": np.array([2, 1, 2, 1, 2], dtype=np.int64),
        "root_id": np.array([ROOT, ROOT + 1, ROOT - 1, 5, ROOT], dtype=np.int64),
        "w": [0.25, np.nan, 1e-7, 1234567.891, 3.0],
        "label": ["b", "A", None, "a", "B"],
        "pt_position": pos,
        "ok": [True, False, True, False, True],
    }))


def test_cells_are_shown_exactly(rows):
    assert texts(rows, "root_id")[0] == "864691135774053371"
    assert texts(rows, "w") == ["0.25", "", "1.0000e-07", "1234567.9", "3"]
    assert texts(rows, "pt_position") == ["[5, 2, 3]", "", "[1, 20, 3]", "[1, 2, 30]", "[1, 2, 3]"]
    assert texts(rows, "ok")[:2] == ["True", "False"]
    assert format_float(2.0**60) == "1.1529e+18"


def test_sort_is_stable_both_ways(rows):
    rows.sort(rows.names.index("group"))
    assert texts(rows, "id") == ["11", "13", "10", "12", "14"]
    rows.sort(rows.names.index("group"), descending=True)
    assert texts(rows, "id") == ["10", "12", "14", "11", "13"]  # ties keep source order


def test_missing_values_sort_last_both_ways(rows):
    for name, desc, first in [("w", False, "12"), ("w", True, "13"),
                              ("label", False, "11"), ("pt_position", False, "14")]:
        rows.sort(rows.names.index(name), descending=desc)
        ids = texts(rows, "id")
        assert ids[0] == first, (name, desc, ids)
    rows.sort(rows.names.index("pt_position"), descending=True)
    assert texts(rows, "id") == ["10", "12", "13", "14", "11"]
    rows.sort(rows.names.index("label"), descending=True)
    assert texts(rows, "id")[-1] == "12"


def test_position_sort_matches_lexicographic_order_on_big_values():
    rng = np.random.default_rng(3)
    xyz = rng.integers(0, 2**40, (300, 3))  # too wide to pack into one int64
    small = rng.integers(0, 50, (300, 3))  # packs
    for data in (xyz, small):
        pos = np.empty(len(data), dtype=object)
        pos[:] = list(data)
        r = ResultRows(pd.DataFrame({"p": pos}))
        r.sort(0)
        expected = np.lexsort([data[:, 2], data[:, 1], data[:, 0]])
        assert r.source_rows(np.arange(300)).tolist() == expected.tolist()


def test_filter_any_column_any_case(rows):
    def ids(text):
        rows.set_filter(text)
        return texts(rows, "id")

    assert ids("b") == ["10", "14"]
    assert ids(str(ROOT)) == ["10", "14"]
    assert ids("1234567.9") == ["13"]  # floats match what is shown
    assert ids("20") == ["12"]  # digits inside a position
    assert ids("2, 3]") == ["10", "14"]  # text across separators
    assert ids("true") == ["10", "12", "14"]
    assert ids("nothing") == []
    assert ids("  ") == ["10", "11", "12", "13", "14"]


def test_filter_keeps_sort_order_and_maps_rows(rows):
    rows.sort(rows.names.index("root_id"), descending=True)
    rows.set_filter("86469")
    assert texts(rows, "id") == ["11", "10", "14", "12"]
    assert rows.source_rows([0, 3]).tolist() == [1, 2]
    assert rows.frame_rows([0, 3])["id"].tolist() == [11, 12]
    assert rows.view_frame()["root_id"].tolist() == [ROOT + 1, ROOT, ROOT, ROOT - 1]
    assert rows.view_frame()["root_id"].dtype == np.int64


def test_odd_columns_do_not_break_filter_or_sort():
    frame = pd.DataFrame({
        "when": pd.to_datetime(["2024-05-01 10:00", None], utc=True),
        "n": pd.array([1, None], dtype="Int64"),
        "cat": pd.Categorical(["x", "y"]),
        "d": [{"a": 1}, {"b": 2}],
    })
    rows = ResultRows(frame)
    for c in range(4):
        for desc in (False, True):
            rows.sort(c, descending=desc)
            if c < 2:
                assert rows.text(1, c) == ""  # missing values last
    rows.sort(3, descending=True)
    assert rows.text(0, 3) == "{'b': 2}"
    rows.sort(-1)
    assert [rows.text(0, c) for c in range(3)] == ["2024-05-01 10:00:00", "1", "x"]
    rows.set_filter("2024-05")
    assert rows.n_rows == 1
    rows.set_filter("'b'")
    assert rows.view_frame()["cat"].tolist() == ["y"]


def test_empty_frame():
    rows = ResultRows(pd.DataFrame({"a": pd.Series([], dtype=np.int64)}))
    rows.sort(0)
    rows.set_filter("1")
    assert rows.n_rows == 0
    assert ResultRows().n_rows == 0

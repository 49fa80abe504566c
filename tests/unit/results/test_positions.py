"""Positions as one (n, 3) block from Arrow to the table, export and links."""
import numpy as np
import pandas as pd
import pyarrow as pa

from services.results.export import export_frame, frame_as_text
from services.results.positions import (compact_positions, frame_from_arrow,
                                        is_position_series, series_xyz)
from services.results.result_rows import LIST, ResultRows


def _table():
    return pa.table({"id": [3, 1, 2],
                     "pt_position": pa.array([[5, 6, 7], None, [1, 2, 3]], pa.list_(pa.int64())),
                     "tags": [[1], [2, 3], []]})


def test_arrow_lists_of_three_become_one_block():
    f = frame_from_arrow(_table())
    assert is_position_series(f.pt_position) and f.tags.dtype == object
    xyz, valid = series_xyz(f.pt_position)
    assert valid.tolist() == [True, False, True] and xyz[2].tolist() == [1, 2, 3]
    rows = ResultRows(f)
    assert rows.kinds[1] == LIST and rows.text(0, 1) == "[5, 6, 7]" and rows.text(1, 1) == ""
    rows.sort(1)
    assert [rows.source_row(i) for i in range(3)] == [2, 0, 1]
    rows.set_filter("6, 7")
    assert rows.n_rows == 1 and rows.source_row(0) == 0
    assert rows.frame_rows([0]).pt_position.iloc[0] == [5, 6, 7]


def test_compact_frame_exports_like_lists(tmp_path):
    f = frame_from_arrow(_table())
    assert frame_as_text(f).pt_position.tolist() == ["[5, 6, 7]", None, "[1, 2, 3]"]
    export_frame(f, tmp_path / "a.parquet")
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert list(back.pt_position[0]) == [5, 6, 7] and back.pt_position[1] is None
    export_frame(f, tmp_path / "a.csv")
    assert '"[5, 6, 7]"' in (tmp_path / "a.csv").read_text()


def test_object_positions_made_compact():
    f = pd.DataFrame({"p": [np.array([1, 2, 3]), np.array([4, 5, 6])], "q": ["a", "b"]})
    c = compact_positions(f)
    assert is_position_series(c.p) and f.p.dtype == object
    assert series_xyz(c.p)[0].tolist() == [[1, 2, 3], [4, 5, 6]]

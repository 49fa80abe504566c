"""The result panel on a 5M-row local table kept out of core: it opens, scrolls, sorts,
filters, copies and exports without ever holding more than a few pages of rows."""
import time

import pandas as pd
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

from models.query_spec import QuerySpec
from services.local.local_source import LocalSource
from tests.bench.synthetic import write_synapse_parquet
from ui.tables.result_panel import ResultPanel

N = 5_000_000


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big5m")
    write_synapse_parquet(folder / "synapses.parquet", N, seed=1)
    return folder


@pytest.mark.slow
def test_five_million_rows_stay_on_disk(qtbot, big_folder, tmp_path):
    src = LocalSource([big_folder])
    src.memory_budget = 1 << 20  # 1 MB: far below 5M rows
    t0 = time.perf_counter()
    result = src.query(QuerySpec(table="synapses", datastack=src.datastacks()[0], version=0))
    panel = ResultPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 400)
    panel.set_result(result)
    panel.show()
    model = panel.model
    assert model.on_disk and model.rowCount() == N
    assert model.data(model.index(0, 0)) == "1"
    assert time.perf_counter() - t0 < 2.0  # first screen: no load of 5M rows
    assert "on disk" in panel.status.text()
    rows = model.rows
    limit = rows.page_rows * rows.max_pages

    # scroll: far rows are fetched by row number
    for r in (N - 1, 3_333_333, 1_000_000, 17):
        assert model.data(model.index(r, 0)) == str(r + 1)
    panel.view.scrollToBottom()
    QApplication.processEvents()
    assert len(model.data(model.index(N - 1, 1))) == 18  # a whole root id

    # sort in DuckDB (a worker), largest synapse first
    size = rows.names.index("size")
    with qtbot.waitSignal(model.sorted, timeout=15_000):
        panel.sort_by(size, Qt.SortOrder.DescendingOrder)
    top = [int(model.data(model.index(r, size))) for r in range(50)]
    assert top == sorted(top, reverse=True)
    assert int(model.data(model.index(N - 1, size))) <= top[-1]

    # quick filter in DuckDB, still sorted
    needle = model.data(model.index(0, 1))[-9:]
    panel.filter_edit.setText(needle)
    with qtbot.waitSignal(panel.filterApplied, timeout=15_000):
        panel.apply_filter()
    n = model.rowCount()
    assert 0 < n < N and f"{n:,} of {N:,} rows contain" in panel.status.text()
    cells = [model.data(model.index(r, c)) for r in range(min(n, 20)) for c in (1, 2, 0)]
    assert all(needle in "".join(cells[i:i + 3]) for i in range(0, len(cells), 3))

    # copy of visible rows
    panel.view.selectionModel().select(
        model.index(0, 0), QItemSelectionModel.SelectionFlag.Select
        | QItemSelectionModel.SelectionFlag.Rows)
    panel.copy_selection()
    tsv = QApplication.clipboard().text().splitlines()
    assert tsv[0].startswith("id\tpre_pt_root_id") and needle in tsv[1]

    # export streams (COPY), atomically
    out = tmp_path / "filtered.csv"
    with qtbot.waitSignal(panel.exportFinished, timeout=15_000):
        panel.export_rows(str(out))
    got = pd.read_csv(out)
    assert len(got) == n and got["size"].is_monotonic_decreasing
    assert rows.peak_rows_held <= limit  # never all rows, only pages
    panel.filter_edit.setText("")
    with qtbot.waitSignal(panel.filterApplied, timeout=15_000):
        panel.apply_filter()
    assert model.rowCount() == N
    assert rows.peak_rows_held <= limit
    panel.close()
    rows.close()
    src.close()

"""Two-way links between views and the shared CellSelection (ui.common.cell_selection):
a view's own selection sets the shared one; a change made elsewhere is shown in the view
(rows selected, cells highlighted). Each link ignores the changes it made itself.

The partner-table and matrix links can be made before their view exists (the Connectivity
tab is built when first shown, ui/common/lazy_pages.py) and ``attach``-ed to it then: the
window's list of links keeps its order, and a link shows nothing until it has a view."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel

from ui.common.result_table_model import is_root_id_column

MAX_SELECTED_ROWS = 20_000  # a selection of more rows than this is shown on the first ones


def _select_view_rows(view, rows: np.ndarray) -> None:
    """Select whole rows of a QTableView, one range per run of consecutive rows."""
    model, sm = view.model(), view.selectionModel()
    sel = QItemSelection()
    last = model.columnCount() - 1
    rows = np.asarray(rows[:MAX_SELECTED_ROWS], dtype=np.int64)
    if rows.size:
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for run in np.split(rows, breaks):
            sel.select(model.index(int(run[0]), 0), model.index(int(run[-1]), last))
    sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    if rows.size:
        view.scrollTo(model.index(int(rows[0]), 0))


def result_rows_of(model, ids: np.ndarray) -> np.ndarray:
    """View rows of a ResultTableModel whose first root-id column holds one of ``ids``."""
    rows = getattr(model, "rows", None)
    names = getattr(rows, "names", [])
    cols = [c for c, n in enumerate(names) if is_root_id_column(n)]
    if not cols or not hasattr(rows, "columns") or model.rowCount() == 0:
        return np.zeros(0, dtype=np.int64)  # no root ids, or rows on disk
    values = np.asarray(rows.columns[cols[0]])
    src = model.source_rows(np.arange(model.rowCount()))
    try:
        hit = np.isin(values[src].astype(np.int64, copy=False), ids)
    except (TypeError, ValueError):  # a column with missing values
        hit = np.isin(np.asarray([int(v) if v == v and v is not None else 0
                                  for v in values[src]], dtype=np.int64), ids)
    return np.flatnonzero(hit)


class _Link:
    def __init__(self, selection):
        self.selection = selection
        self.showing = False  # True while the view shows a change from elsewhere
        selection.changed.connect(self._changed)

    def _changed(self, ids, source) -> None:
        if source is self or not self.attached:
            return
        self.showing = True
        try:
            self.show(ids)
        finally:
            self.showing = False

    def publish(self, ids) -> None:
        if not self.showing:
            self.selection.set(ids, source=self)

    @property
    def attached(self) -> bool:
        return True

    def show(self, ids) -> None:
        raise NotImplementedError


class ResultTableLink(_Link):
    """The Results tab's table: selected rows -> their root ids; others' cells -> rows."""

    def __init__(self, panel, selection):
        super().__init__(selection)
        self.panel = panel
        panel.view.selectionModel().selectionChanged.connect(
            lambda *_: self.publish(panel.selected_ids()))

    def show(self, ids) -> None:
        rows = result_rows_of(self.panel.model, np.fromiter(ids, np.int64, len(ids)))
        _select_view_rows(self.panel.view, rows)


class _ViewLink(_Link):
    """A link made before its view exists and ``attach``-ed to it once it is built; until
    then it shows nothing."""

    def __init__(self, selection):
        super().__init__(selection)
        self.view = None

    @property
    def attached(self) -> bool:
        return self.view is not None

    def attach(self, view) -> None:
        self.view = view
        self._connect(view)

    def _connect(self, view) -> None:
        raise NotImplementedError


class PartnerTablesLink(_ViewLink):
    """The partner tables: selected partners -> selection; selected cells -> partner rows."""

    def _connect(self, partners_view) -> None:
        for table in partners_view.views.values():
            table.selectionModel().selectionChanged.connect(
                lambda *_: self.publish(partners_view.selected_ids()))

    def show(self, ids) -> None:
        p = self.view
        for d, table in p.views.items():
            hit = np.flatnonzero(np.isin(p._view_ids(d), np.fromiter(ids, np.int64, len(ids))))
            _select_view_rows(table, hit)


class MatrixLink(_ViewLink):
    """The matrix: selected cells' rows and columns are highlighted; a clicked pair
    selects both of its cells."""

    def _connect(self, matrix_view) -> None:
        matrix_view.pairActivated.connect(self._pair)
        matrix_view.runner.succeeded.connect(lambda *_: self.show(self.selection.ids()))

    def _pair(self, pre: int, post: int) -> None:
        self.publish([pre, post])
        self.show({int(pre), int(post)})

    def show(self, ids) -> None:
        self.view.plot.highlight_cells(np.fromiter(ids, np.int64, len(ids)))

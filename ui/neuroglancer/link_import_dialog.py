"""Cells > Import Neuroglancer link…: paste a link, see what it shows, take it into Cavern.

The link is read in a worker (a short link's state is fetched from the source's state
server: ``DataSource.fetch_state``), parsed by ``services.links.link_import``. The dialog
lists the visible segments and the annotation points (in the datastack's voxels and nm) and
offers them as a result table, as the matrix's cell set, to the inspector, or to the live
viewer. What the dialog cannot do (a foreign link, a short link on local data) is said once
in its status line.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QDialog, QGridLayout, QHBoxLayout, QLabel,
                               QPlainTextEdit, QPushButton, QTableView, QVBoxLayout)

from models.errors import CancelledError, CavernError
from models.query_spec import QueryResult, QuerySpec
from ui.common.request_status_bar import RequestStatusBar
from ui.common.result_table_model import ResultTableModel
from ui.common.workers import RequestRunner

if TYPE_CHECKING:  # services.links loads pandas: imported where used, not at start-up
    import pandas as pd

    from services.links.link_import import ImportedLink

PLACEHOLDER = ("Paste a Neuroglancer or Spelunker link: the full link (…#!{\"layers\": …}) or a "
               "short link (…#!middleauth+https://…/nglstate/api/v1/…, ?json_url=…)")
TYPES_ATTR = "cell_type_table"  # segment_rows.attrs: the table the cell_type column is from
SHOWN_POINT_COLUMNS = ["layer", "type", "pt_root_id", "pt_position", "x_nm", "y_nm", "z_nm",
                       "tags", "description"]


def with_cell_types(ws, got: ImportedLink, cancel=None) -> ImportedLink:
    """The segments' cell types from the workspace's cell-type table, as a column (what a
    researcher asks first about cells in someone else's link)."""
    from dataclasses import replace
    from services.links.segment_labels import cell_types_of
    rows = got.segment_rows
    if not len(rows):
        return got
    try:
        types, table = cell_types_of(ws, rows["pt_root_id"].tolist(), cancel)
    except CancelledError:
        raise
    except CavernError as exc:
        return replace(got, notes=got.notes + (f"No cell types: {exc}",))
    if table is None:
        return got
    rows = rows.assign(cell_type=[types.get(int(r), "") for r in rows["pt_root_id"]])
    rows.attrs[TYPES_ATTR] = table
    return replace(got, segment_rows=rows)


def _table(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    return view


class LinkImportDialog(QDialog):
    message = Signal(str)
    imported = Signal(object)  # ImportedLink
    segmentsAsTable = Signal(object)  # QueryResult of the segments
    pointsAsTable = Signal(object)  # QueryResult of the points
    cellSetChosen = Signal(list)  # root ids for the matrix
    inspectRequested = Signal("qint64")
    viewerRequested = Signal(object)  # ImportedLink, for the live viewer

    def __init__(self, ws, parent=None, has_viewer: bool = False):
        super().__init__(parent)
        self.setWindowTitle("Import a Neuroglancer link")
        self.ws = ws
        self.result: ImportedLink | None = None
        self.runner = RequestRunner(self)
        self.link_edit = QPlainTextEdit()
        self.link_edit.setPlaceholderText(PLACEHOLDER)
        self.link_edit.setToolTip("The link from the viewer's address bar, or its short link")
        self.link_edit.setMaximumHeight(64)
        self.read_button = QPushButton("Read link", toolTip="Read the link (Ctrl+Enter): its "
                                                            "segments and annotation points")
        self.summary = QLabel(f"Into {html.escape(ws.datastack)}: paste a link and press "
                              "Read link.")
        self.summary.setWordWrap(True)
        self.seg_model, self.point_model = ResultTableModel(self), ResultTableModel(self)
        self.seg_view, self.point_view = _table(self.seg_model), _table(self.point_model)
        self.seg_title, self.point_title = QLabel("<b>Segments</b>"), QLabel("<b>Points</b>")
        self.hidden_box = QCheckBox("Include hidden segments")
        self.hidden_box.setToolTip("Segments listed in the link but hidden there (unchecked "
                                   "in the layer, or in a hidden layer)")
        self.hidden_box.setEnabled(False)
        self.status_bar = RequestStatusBar(self.runner, stacked=True)
        self.table_button = QPushButton("Segments as table",
                                        toolTip="Show the segments in the Results tab")
        self.points_button = QPushButton("Points as rows",
                                         toolTip="Show the annotation points as result rows "
                                                 "(positions in voxels and nm)")
        self.matrix_button = QPushButton("Cell set for matrix",
                                         toolTip="Use the segments as the matrix's cell set "
                                                 "(pasted root ids)")
        self.inspect_button = QPushButton("Inspect first",
                                          toolTip="Open the first segment in the inspector")
        self.viewer_button = QPushButton("Show in live viewer",
                                         toolTip="Show the segments and points in Cavern's "
                                                 "live Neuroglancer viewer")
        self.viewer_button.setVisible(has_viewer)
        self.close_button = QPushButton("Close", toolTip="Close this dialog")
        self.actions_ = (self.table_button, self.points_button, self.matrix_button,
                         self.inspect_button, self.viewer_button)
        top = QHBoxLayout()
        top.addWidget(self.link_edit, 1)
        top.addWidget(self.read_button)
        grid = QGridLayout()
        grid.addWidget(self.seg_title, 0, 0)
        grid.addWidget(self.point_title, 0, 1)
        grid.addWidget(self.seg_view, 1, 0)
        grid.addWidget(self.point_view, 1, 1)
        grid.addWidget(self.hidden_box, 2, 0)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 4)
        buttons = QHBoxLayout()
        for b in self.actions_:
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addLayout(grid, 1)
        lay.addWidget(self.status_bar)
        lay.addLayout(buttons)
        self.resize(1000, 560)
        self._enable(False)

        self.read_button.clicked.connect(self.read)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.read)
        self.close_button.clicked.connect(self.close)
        self.hidden_box.toggled.connect(self._show_segments)
        self.table_button.clicked.connect(lambda: self.segmentsAsTable.emit(self.segments_result()))
        self.points_button.clicked.connect(lambda: self.pointsAsTable.emit(self.points_result()))
        self.matrix_button.clicked.connect(lambda: self.cellSetChosen.emit(self.chosen_ids()))
        self.inspect_button.clicked.connect(
            lambda: self.chosen_ids() and self.inspectRequested.emit(self.chosen_ids()[0]))
        self.viewer_button.clicked.connect(lambda: self.viewerRequested.emit(self.result))

    # ---- reading -----------------------------------------------------------------------
    def read(self, text: str | None = None) -> None:
        text = self.link_edit.toPlainText() if not isinstance(text, str) else text
        ws = self.ws
        self.status_bar.show_text("Reading the link…")
        from services.links.link_import import import_link  # here, not in the worker thread

        def job(cancel=None):
            fetch = (lambda url: ws.source.fetch_state(ws.datastack, url))
            got = import_link(text, ws.info, fetch)
            return with_cell_types(ws, got, cancel)

        self.runner.run(job, on_result=self._show, on_error=self._error)

    def _show(self, got: ImportedLink) -> None:
        self.result = got
        n_seg_layers = len(got.layers)
        n_point_layers = got.points["layer"].nunique() if len(got.points) else 0
        vx = " × ".join(f"{v:g}" for v in self.ws.info.voxel_resolution)
        text = (f"<b>{len(got.segments):,} visible segment{'s' * (len(got.segments) != 1)}</b>"
                f" in {n_seg_layers} segmentation layer{'s' * (n_seg_layers != 1)}"
                + (f", {len(got.hidden):,} hidden" if got.hidden else "")
                + f"; <b>{len(got.points):,} annotation point{'s' * (len(got.points) != 1)}"
                f"</b> in {n_point_layers} layer{'s' * (n_point_layers != 1)}, placed in "
                f"{html.escape(self.ws.datastack)}'s voxels ({vx} nm) and in nm.")
        if got.state_url:
            text += f"<br>State read from {html.escape(got.state_url)}."
        self.summary.setText(text)
        self.hidden_box.setText(f"Include the {len(got.hidden):,} hidden segments"
                                if got.hidden else "No hidden segments in the link")
        self.hidden_box.setEnabled(bool(got.hidden))
        self._show_segments()
        cols = [c for c in SHOWN_POINT_COLUMNS if c in got.points.columns]
        self.point_model.set_frame(got.points[cols])
        self.point_view.resizeColumnsToContents()
        self.point_title.setText(f"<b>Points</b> ({len(got.points):,})")
        self._enable(True)
        notes = " ".join(got.notes)
        self.status_bar.show_text(notes or "Link read.", "note" if notes else "")
        self.message.emit(f"Neuroglancer link: {got.summary()}.")
        self.imported.emit(got)

    def _show_segments(self, *_a) -> None:
        got = self.result
        if got is None:
            return
        rows = got.segment_rows
        if not self.hidden_box.isChecked():
            rows = rows[rows["visible"]]
        self.seg_model.set_frame(rows.reset_index(drop=True))
        self.seg_view.resizeColumnsToContents()
        table = got.segment_rows.attrs.get(TYPES_ATTR)
        self.seg_title.setText(f"<b>Segments</b> ({len(rows):,})"
                               + (f" · cell types from {html.escape(table)}" if table else ""))
        ids = bool(self.chosen_ids())
        for b in (self.table_button, self.matrix_button, self.inspect_button):
            b.setEnabled(ids)

    def _enable(self, on: bool) -> None:
        for b in self.actions_:
            b.setEnabled(on)
        if on and self.result is not None:
            self.points_button.setEnabled(len(self.result.points) > 0)
            self._show_segments()

    def _error(self, err: CavernError) -> None:
        if isinstance(err, CancelledError):
            self.status_bar.show_text("Cancelled.")
            return
        self.result = None
        for model in (self.seg_model, self.point_model):
            model.set_frame(None)
        self._enable(False)
        self.summary.setText(f"Into {html.escape(self.ws.datastack)}: nothing imported.")
        self.status_bar.show_text(str(err), "error")
        self.message.emit(str(err))

    # ---- what the buttons hand on ------------------------------------------------------
    def chosen_ids(self) -> list[int]:
        got = self.result
        if got is None:
            return []
        return list(got.segments) + (list(got.hidden) if self.hidden_box.isChecked() else [])

    def _result(self, frame: pd.DataFrame, what: str) -> QueryResult:
        spec = QuerySpec(f"Neuroglancer link ({what})", self.ws.datastack, self.ws.version)
        notes = list(self.result.notes) if self.result is not None else []
        return QueryResult(spec, frame, source="neuroglancer link", notes=notes)

    def segments_result(self) -> QueryResult:
        ids = set(self.chosen_ids())
        rows = self.result.segment_rows
        return self._result(rows[rows["pt_root_id"].isin(ids)].reset_index(drop=True),
                            "segments")

    def points_result(self) -> QueryResult:
        return self._result(self.result.points.copy(), "points")


# ---- the window ---------------------------------------------------------------------------
def install_link_import(window, menu) -> QAction:
    """Cells > Import Neuroglancer link…, wired to the window's panels."""
    action = QAction("Import &Neuroglancer link…", window)
    action.setToolTip("Paste a Neuroglancer link: its segments and points into Cavern")
    action.triggered.connect(lambda: open_link_import(window))
    menu.addAction(action)
    return action


def open_link_import(window) -> LinkImportDialog | None:
    ws = getattr(window, "workspace", None)
    if ws is None:
        window.show_error("Pick a datastack first: the link's points are placed in its voxels.")
        return None
    viewer = getattr(window, "neuroglancer", None)
    dlg = LinkImportDialog(ws, window, has_viewer=viewer is not None)
    dlg.message.connect(window.show_message)
    dlg.segmentsAsTable.connect(lambda r: _to_results(window, r))
    dlg.pointsAsTable.connect(lambda r: _to_results(window, r))
    dlg.cellSetChosen.connect(lambda ids: _to_matrix(window, ids))
    dlg.inspectRequested.connect(window.inspect_cell)
    if viewer is not None:
        dlg.viewerRequested.connect(lambda got: _to_viewer(window, viewer, got))
    window.link_import_dialog = dlg
    dlg.show()
    return dlg


def _to_results(window, result: QueryResult) -> None:
    show = getattr(window, "show_result", None)  # the window's path for rows made elsewhere
    if show is not None:
        show(result)
        return
    window.results.set_result(result, "")
    window.tabs.setCurrentWidget(window.results)
    window.show_message(f"{result.spec.table}: {len(result.frame):,} rows.")


def _to_matrix(window, ids: list[int]) -> None:
    conn = getattr(window, "connectivity", None)
    editor = getattr(getattr(conn, "matrix", None), "pre_editor", None)
    if editor is None:
        window.show_error("The connectivity matrix is not available.")
        return
    editor.from_ids.setChecked(True)
    editor.ids_edit.setPlainText("\n".join(str(i) for i in ids))
    window.tabs.setCurrentWidget(conn)
    conn.tabs.setCurrentWidget(conn.matrix)
    window.show_message(f"{len(ids):,} cells of the link are the matrix's presynaptic set: "
                        "press Show matrix.")


def _to_viewer(window, viewer, got: ImportedLink) -> None:
    from services.links.live_viewer import Selection
    rows = got.points if len(got.points) else None
    sel = Selection(tuple(got.segments), rows=rows,
                    tag_column="layer" if rows is not None else None,
                    what="an imported Neuroglancer link")
    viewer.show_selection(sel)
    if not viewer.running:
        viewer.open_viewer()

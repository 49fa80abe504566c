"""A small dialog that turns selected result rows into a Neuroglancer link.

Points go at a position column, in the rows' units (``frame.attrs[RESOLUTION_ATTR]``: the
query's desired_resolution, else the datastack's voxels); cells in root-id columns are
selected; "Tags by" tags each point with a column's value (e.g. cell_type) in one layer. A
frame of a cell and its partners (``attrs[PARTNERS_ATTR]``) links their somas and synapses.
Building runs in a worker; long links say what was left out and can be shortened on CAVE.
A link longer than browsers handle well offers the short link (CAVE) and Cavern's live
viewer, which has no URL to outgrow; one over Chromium's 2 MB limit is not opened.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout)

from models.errors import CancelledError, CavernError
from services.links import neuroglancer_links as ngl
from services.links.partners_link import PARTNERS_ATTR, cell_partners_link
from services.links.segment_labels import label_link
from services.cells.cell_inspection import SITE_CHOICES, short_cell_link
from ui.common import status_sink
from ui.common.request_status_bar import RequestStatusBar
from ui.common.workers import RequestRunner

NO_GROUP = "(no tags)"
MAX_GROUP_VALUES = 50  # a column with more distinct values makes an unreadable layer list


def groupable_columns(frame) -> list[str]:
    """Text-like columns with a few distinct values: sensible 'layers by' choices."""
    out = []
    for c in frame.columns:
        s = frame[c]
        if s.dtype.kind in "OSUb" or str(s.dtype) in ("string", "category"):
            try:
                n = s.nunique(dropna=False)
            except Exception:  # noqa: BLE001 - list cells (positions, numpy or Arrow lists)
                continue  # have no distinct values to make layers of
            if 1 <= n <= MAX_GROUP_VALUES:
                out.append(str(c))
    return out


class LinkDialog(QDialog):
    message = Signal(str)
    linkReady = Signal(object)  # NeuroglancerLink

    def __init__(self, ws, frame, group_by: str | None = None, site: str | None = None,
                 parent=None, viewer=None):
        super().__init__(parent)
        # the window's live viewer (ui.neuroglancer.viewer_controller), for long links
        self.viewer = viewer if viewer is not None else getattr(
            parent.window() if parent is not None else None, "neuroglancer", None)
        self.setWindowTitle("Neuroglancer link of the selected rows")
        self.ws, self.frame = ws, frame
        datastack = ws.datastack
        self.link: ngl.NeuroglancerLink | None = None
        self.runner = RequestRunner(self)
        n = 0 if frame is None else len(frame)
        self.summary = QLabel(f"{n:,} selected rows from {html.escape(datastack)}.")
        self.position_combo = QComboBox(toolTip="The column that places each row as a point")
        pos = ngl.position_columns(frame) if n else []
        self.position_combo.addItems(pos or ["(none: cells only)"])
        self.position_combo.setEnabled(bool(pos))
        self.group_combo = QComboBox(toolTip="Tag each point with its value of this column")
        self.group_combo.addItem(NO_GROUP)
        if n:
            self.group_combo.addItems(groupable_columns(frame))
        if group_by:
            if self.group_combo.findText(group_by) < 0:
                self.group_combo.addItem(group_by)
            self.group_combo.setCurrentText(group_by)
        self.site_combo = QComboBox(toolTip="The viewer the link opens: Spelunker or classic "
                                            "Neuroglancer")
        for key, label in SITE_CHOICES:
            self.site_combo.addItem(label, key)
        self.site_combo.setCurrentIndex(max(0, self.site_combo.findData(site or "spelunker")))
        ids = ngl.root_id_columns(frame) if n else []
        self.partners_of = frame.attrs.get(PARTNERS_ATTR) if n else None
        self.resolution = None
        units = QLabel()
        try:
            if n:
                self.resolution = ngl.frame_resolution(frame, ws.info)
                vx = [float(v) for v in ws.info.voxel_resolution]
                units.setText(" × ".join(f"{v:g}" for v in self.resolution) + " nm per unit"
                              + (" (voxels)" if self.resolution == vx else " (as queried)"))
        except CavernError as exc:
            units.setText(str(exc))
        form = QFormLayout()
        form.addRow("Points at:", self.position_combo)
        form.addRow("Positions in:", units)
        form.addRow("Cells from:", QLabel(", ".join(ids) or "no root-id column"))
        form.addRow("Tags by:", self.group_combo)
        if self.partners_of is not None:  # a cell and partners: somas and synapses, tagged
            self.summary.setText(f"Cell {int(self.partners_of)} and {max(n - 1, 0):,} "
                                 f"partners from {html.escape(datastack)}: somas and synapses.")
            for combo in (self.position_combo, self.group_combo):
                combo.setEnabled(False)
        form.addRow("Open in:", self.site_combo)

        self.status_bar = RequestStatusBar(self.runner, stacked=True)
        self.status = self.status_bar.label
        self.progress, self.cancel_button = self.status_bar.progress, self.status_bar.cancel_button
        self.open_button = QPushButton("Open in browser",
                                       toolTip="Build the link and open it in the web browser")
        self.copy_button = QPushButton("Copy link", toolTip="Build the link and copy it")
        self.short_button = QPushButton("Short link")
        self.short_button.setToolTip("Store the state on the CAVE state server and use its "
                                     "short link (needs a CAVE connection)")
        self.short_button.setVisible(ws.source.has_state_server)
        self.viewer_button = QPushButton("Live viewer instead")
        self.viewer_button.setToolTip("Show these rows in Cavern's live Neuroglancer viewer "
                                      "(View > Neuroglancer viewer): no URL to outgrow")
        self.viewer_button.setVisible(False)  # offered when the link is long
        self.close_button = QPushButton("Close", toolTip="Close this dialog")
        buttons = QHBoxLayout()
        for b in (self.open_button, self.copy_button, self.short_button, self.viewer_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addLayout(form)
        lay.addWidget(self.status_bar)
        lay.addLayout(buttons)
        self.resize(520, 260)

        self.open_button.clicked.connect(lambda: self._with_link(self._open))
        self.copy_button.clicked.connect(lambda: self._with_link(self._copy))
        self.short_button.clicked.connect(self._shorten)
        self.viewer_button.clicked.connect(self._to_viewer)
        self.close_button.clicked.connect(self.close)
        for combo in (self.position_combo, self.group_combo, self.site_combo):
            combo.currentIndexChanged.connect(self._forget)
        self.runner.failed.connect(
            lambda err: self._say("Cancelled.") if isinstance(err, CancelledError) else None)
        if not n:
            self._error(CavernError("No rows are selected.",
                                    hint="Select rows in the results table first."))
            for b in (self.open_button, self.copy_button, self.short_button):
                b.setEnabled(False)

    # ---- building ----------------------------------------------------------------------
    def options(self) -> dict:
        group = self.group_combo.currentText()
        return {"position_column": (self.position_combo.currentText()
                                    if self.position_combo.isEnabled() else None),
                "group_column": None if group == NO_GROUP else group,
                "site": self.site_combo.currentData(), "resolution": self.resolution}

    def build(self, then=None) -> None:
        opts = self.options()
        self._say("Building the link…")

        ws, frame, partners_of = self.ws, self.frame, self.partners_of

        def job(cancel=None):
            if partners_of is not None:
                ids = [int(r) for r in frame["pt_root_id"] if int(r) != int(partners_of)]
                return label_link(ws, cell_partners_link(ws, partners_of, ids,
                                                         site=opts["site"], cancel=cancel),
                                  cancel)
            link = ngl.rows_link(ws.info, frame, **opts)
            return label_link(ws, link, cancel)  # labels from CAVE, or a note saying why not

        def done(link):
            self._set_link(link)
            if then:
                then(link)

        self.runner.run(job, on_result=done, on_error=self._error)

    def _set_link(self, link) -> None:
        self.link = link
        self.status_bar.show_text(link_summary_html(link),
                                  "note" if (link.n_dropped or link.notes) else "", rich=True)
        long = link.is_long  # a short link is never long: the offers go away
        self.viewer_button.setVisible(long and self.viewer is not None)
        self.short_button.setDefault(long and self.ws.source.has_state_server)
        self.open_button.setEnabled(link.length <= ngl.BROWSER_URL_LIMIT)
        self.linkReady.emit(link)

    def _to_viewer(self) -> None:
        """The rows in the live viewer (started if needed), tagged as the link would be."""
        from services.connectivity.aggregation import as_root_ids
        from services.links.live_viewer import Selection
        frame, opts = self.frame, self.options()
        ids: list[int] = []
        for c in ngl.root_id_columns(frame):
            ids.extend(int(v) for v in as_root_ids(frame[c], c) if v != 0)
        rows = frame if opts["position_column"] and self.partners_of is None else None
        self.viewer.show_selection(Selection(
            tuple(dict.fromkeys(ids)), rows=rows, rows_resolution=self.resolution,
            tag_column=opts["group_column"], what=f"{len(frame):,} rows"))
        if not self.viewer.running:
            self.viewer.open_viewer()
        self._say("Shown in the live viewer (View > Neuroglancer viewer).")

    def _with_link(self, then) -> None:
        if self.link is None:
            self.build(then)
        else:
            then(self.link)

    def _forget(self, *_a) -> None:
        self.link = None
        self._say("")

    def _shorten(self) -> None:
        def go(link):
            self._say("Uploading the state for a short link…")
            self.runner.run(short_cell_link, self.ws, link,
                            on_result=self._set_link, on_error=self._error)

        self._with_link(go)

    def _open(self, link) -> None:
        if link.length > ngl.BROWSER_URL_LIMIT:
            self._error(CavernError(
                f"This link is {link.length:,} characters: browsers refuse links over "
                f"{ngl.BROWSER_URL_LIMIT // 1_000_000} MB.",
                hint="Use Short link (CAVE) or Live viewer instead, or select fewer rows."))
            return
        if not QDesktopServices.openUrl(QUrl(link.url, QUrl.ParsingMode.TolerantMode)):
            err = CavernError("No web browser could be started.",
                              hint="Use Copy link and paste it into a browser.")
            self._error(err)
            status_sink.report_error(self, err)

    def _copy(self, link) -> None:
        QGuiApplication.clipboard().setText(link.url)
        self.message.emit(f"Neuroglancer link copied ({link.length:,} characters).")

    def _say(self, text: str) -> None:
        self.status_bar.show_text(text)

    def _error(self, err: CavernError) -> None:
        if isinstance(err, CancelledError):
            self._say("Cancelled.")
            return
        self.status_bar.show_text(str(err), "error")
        self.message.emit(str(err))


def link_summary_html(link) -> str:
    """Length, annotation counts and why anything was left out, for a status label."""
    text = f"Link ready: {link.length:,} characters, {link.n_annotations:,} annotations"
    if link.n_dropped:
        text += f", <b>{link.n_dropped:,} left out</b>"
    text += "."
    if link.notes:
        text += "<br>" + "<br>".join(html.escape(n) for n in link.notes)
    return text

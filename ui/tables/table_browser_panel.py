"""The table browser: the tables and views of a version, filterable, with their details."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHeaderView, QLabel, QLineEdit, QPushButton, QSplitter,
                               QTextBrowser, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from models.datastack import TableInfo
from ui.common import styles

ROLE_INFO = Qt.ItemDataRole.UserRole
ROLE_COUNT = Qt.ItemDataRole.UserRole + 1  # the row count as a number (sorting)
MIN_WIDTH = 260  # names and descriptions stay readable when the window shrinks


class _TableItem(QTreeWidgetItem):
    """Sorts the Rows column by number (text would put 456 before 1,981 after 29)."""

    def __lt__(self, other) -> bool:
        tree = self.treeWidget()
        col = tree.sortColumn() if tree is not None else 0
        if col == 1:
            a, b = self.data(1, ROLE_COUNT), other.data(1, ROLE_COUNT)
            if a is not None and b is not None and a != b:
                return a < b
            col = 0
        # (QTreeWidgetItem.__lt__ would call this override again from PySide6)
        return self.text(col).lower() < other.text(col).lower()


class TableBrowserPanel(QWidget):
    tableSelected = Signal(object)  # TableInfo
    tableActivated = Signal(object)  # TableInfo, double-click: query it now
    countRequested = Signal(str)  # table name

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(MIN_WIDTH)
        self.filter_edit = QLineEdit(placeholderText="Filter tables (name or description)")
        self.filter_edit.setToolTip("Show only tables whose name, description, schema or "
                                    "columns contain this text (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Table", "Rows", "Schema"])
        self.tree.setToolTip("Tables of this version: click for details, double-click to "
                             "query it")
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        hdr = self.tree.header()
        # whole table names first (they are what a researcher reads); the schema gets the rest
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hdr.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hdr.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.details = QTextBrowser(openExternalLinks=True)
        self.count_button = QPushButton("Count rows")
        self.count_button.setToolTip("Ask the server how many rows this table has")
        self.count_button.setVisible(False)
        self.empty_label = QLabel("No tables.")
        self.empty_label.setVisible(False)

        split = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.filter_edit)
        tl.addWidget(self.tree)
        tl.addWidget(self.empty_label)
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.details)
        bl.addWidget(self.count_button)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([300, 260])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)

        self.filter_edit.textChanged.connect(self._apply_filter)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemDoubleClicked.connect(
            lambda item, _c: self.tableActivated.emit(item.data(0, ROLE_INFO)))
        self.count_button.clicked.connect(self._request_count)

    # ---- content -------------------------------------------------------------
    def set_tables(self, tables: list[TableInfo], select: str = "") -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        for t in tables:
            item = _TableItem([t.name, "" if t.row_count is None else f"{t.row_count:,}",
                                    t.schema + (" (view)" if t.kind == "view" else "")])
            item.setData(0, ROLE_INFO, t)
            item.setData(1, ROLE_COUNT, -1 if t.row_count is None else int(t.row_count))
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(0, t.description)
            if t.notice_text:
                item.setForeground(0, Qt.GlobalColor.darkRed)
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        self.empty_label.setVisible(not tables)
        self._apply_filter(self.filter_edit.text())
        match = [i for i in self._items() if i.text(0) == select] or self._items()[:1]
        if match:
            self.tree.setCurrentItem(match[0])
        else:
            self.details.clear()

    def update_row_count(self, table: str, count: int) -> None:
        for item in self._items():
            info: TableInfo = item.data(0, ROLE_INFO)
            if info.name == table:
                from dataclasses import replace
                info = replace(info, row_count=count)
                item.setData(0, ROLE_INFO, info)
                item.setText(1, f"{count:,}")
                item.setData(1, ROLE_COUNT, int(count))
                if item is self.tree.currentItem():
                    self._show(info)

    def reset_count_button(self) -> None:
        """Offer "Count rows" again (after showing a table, or after a failed count)."""
        self.count_button.setEnabled(True)
        self.count_button.setText("Count rows")

    def current_table(self) -> TableInfo | None:
        item = self.tree.currentItem()
        return item.data(0, ROLE_INFO) if item else None

    def select_table(self, name: str) -> bool:
        for item in self._items():
            if item.text(0) == name:
                self.tree.setCurrentItem(item)
                return True
        return False

    def _items(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]

    # ---- behaviour -------------------------------------------------------------
    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for item in self._items():
            info: TableInfo = item.data(0, ROLE_INFO)
            cols = " ".join(c.name for c in info.columns)
            hay = f"{info.name} {info.description} {info.schema} {cols}".lower()
            hay += " " + hay.replace("_", " ")  # "cell type" finds cell_type tables
            item.setHidden(bool(needle) and needle not in hay)

    def _on_current(self, item, _prev) -> None:
        if item is None:
            return
        info = item.data(0, ROLE_INFO)
        self._show(info)
        self.tableSelected.emit(info)

    def _request_count(self) -> None:
        info = self.current_table()
        if info:
            self.count_button.setEnabled(False)
            self.count_button.setText("Counting…")
            self.countRequested.emit(info.name)

    def _show(self, t: TableInfo) -> None:
        self.count_button.setVisible(t.row_count is None)
        self.reset_count_button()
        self.details.setHtml(table_details_html(t))


def table_details_html(t: TableInfo) -> str:
    e = html.escape
    rows = "unknown (press Count rows)" if t.row_count is None else f"{t.row_count:,}"
    res = " × ".join(f"{v:g}" for v in t.voxel_resolution)
    parts = [f"<h3 style='margin:0'>{e(t.name)}</h3>"]
    if t.notice_text:
        parts.append(f"<p style='color:{styles.ERROR}'><b>Notice:</b> {e(t.notice_text)}</p>")
    parts.append(f"<p>{e(t.description) or '<i>No description.</i>'}</p>")
    facts = [("Kind", t.kind), ("Schema", t.schema or "—"), ("Rows", rows),
             ("Voxel resolution", f"{res} nm")]
    if t.reference_table:
        facts.append(("Reference table", t.reference_table))
    if t.extra.get("classification_system"):
        facts.append(("Classification", t.extra["classification_system"]))
    if t.provenance:
        facts.append(("Source", t.provenance))
    parts.append("<table cellspacing=2>" + "".join(
        f"<tr><td style='color:{styles.MUTED}'>{e(k)}</td><td>{e(str(v))}</td></tr>" for k, v in facts)
        + "</table>")
    if t.columns:
        parts.append("<p style='margin-bottom:2px'><b>Columns</b></p><table cellspacing=1>"
                     + "".join(f"<tr><td><code>{e(c.name)}</code></td><td style='color:{styles.MUTED}'>"
                               f"{e(c.kind)}{' (' + e(c.units) + ')' if c.units else ''}</td></tr>"
                               for c in t.columns) + "</table>")
    return "".join(parts)

"""The query builder: columns, filters and a limit for the selected table.

It edits a QuerySpec. Every filter row (ui/tables/filter_row.py) is checked as the user
types (models.filters); a bad value marks its field red with the reason and the Run button
waits.

The value field of a string column completes from the column's distinct values
(services.results.distinct_values), fetched in a worker and cached; a source that cannot
list them (DataSource.distinct_values answers None) gets no completer.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFrame, QGroupBox, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QMenu, QPushButton, QScrollArea,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from models.datastack import TableInfo
from models.errors import CancelledError, CavernError, InvalidInputError
from models.filters import STRING, Op
from models.query_spec import QuerySpec
from services.results.distinct_values import DistinctValueCache, supports_distinct_values
from ui.common import styles
from ui.tables.filter_row import FilterRow


class QueryBuilderPanel(QWidget):
    runRequested = Signal(object)  # QuerySpec
    cancelRequested = Signal()
    copyCodeRequested = Signal(object)  # QuerySpec
    message = Signal(str)
    recentRestored = Signal(dict)  # a recent query was put back into the builder

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table: TableInfo | None = None
        self.recent = None  # a ui.common.recent_queries.RecentQueries (set_recent_store)
        self.rows: list[FilterRow] = []
        self.source = None  # where filter values are completed from (set_context)
        self.datastack: str = ""
        self.version: int | None = None
        self.distinct_cache = DistinctValueCache()
        self.setMinimumWidth(280)
        self.title = QLabel("<i>Pick a table on the left.</i>")
        self.title.setWordWrap(True)
        self.columns_list = QListWidget()
        self.columns_list.setMaximumHeight(150)
        self.all_columns = QCheckBox("All columns", checked=True)
        self.all_columns.setToolTip("Untick to choose the columns of the result")
        self.filters_box = QVBoxLayout()
        self.filters_box.setSpacing(2)
        self.add_filter_button = QPushButton("+ Add filter")
        self.add_filter_button.setToolTip("Add a condition on a column (all must match)")
        self.limit_spin = QSpinBox(minimum=0, maximum=100_000_000, singleStep=1000)
        self.limit_spin.setSpecialValueText("no limit")
        self.limit_spin.setGroupSeparatorShown(True)
        self.limit_spin.setToolTip("At most this many rows (0: no limit)")
        self.run_button = QPushButton("Run query")
        self.run_button.setDefault(True)
        self.run_button.setToolTip("Run the query (Ctrl+Return)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop the running query (the previous result is kept)")
        self.code_button = QPushButton("Copy as Python")
        self.code_button.setToolTip("Copy the same query as caveclient code")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.recent_button = QToolButton(text="Recent")
        self.recent_button.setToolTip("The last queries run on this table: pick one to put "
                                      "its columns, filters, limit and units back, then Run")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self.recent_button)
        self.recent_button.setMenu(self.recent_menu)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)

        cols = QGroupBox("Columns")
        cl = QVBoxLayout(cols)
        cl.addWidget(self.all_columns)
        cl.addWidget(self.columns_list)
        filt = QGroupBox("Filters (all must match)")
        fl = QVBoxLayout(filt)
        inner = QWidget()
        inner.setLayout(self.filters_box)
        self.filters_box.addStretch(1)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        fl.addWidget(scroll)
        fl.addWidget(self.add_filter_button, alignment=Qt.AlignmentFlag.AlignLeft)
        self.resolution_combo = QComboBox()
        self.resolution_combo.addItem("voxels", None)  # of the table (tooltip)
        self.resolution_combo.addItem("nm", (1.0, 1.0, 1.0))
        self.resolution_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.resolution_combo.setMinimumContentsLength(8)  # the dock stays narrow
        self.resolution_combo.setToolTip("Units of position columns in the result: voxels of "
                                         "the table's resolution, or nm (caveclient's "
                                         "desired_resolution)")
        limit_row = QHBoxLayout()
        limit_row.addWidget(QLabel("Row limit"))
        limit_row.addWidget(self.limit_spin, 1)
        limit_row.addWidget(QLabel("Positions in"))
        limit_row.addWidget(self.resolution_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.code_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        title_row = QHBoxLayout()
        title_row.addWidget(self.title, 1)
        title_row.addWidget(self.recent_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(title_row)
        lay.addWidget(cols)
        lay.addWidget(filt, 1)
        lay.addLayout(limit_row)
        lay.addLayout(buttons)
        lay.addWidget(self.status)

        self.all_columns.toggled.connect(self._all_toggled)
        self.add_filter_button.clicked.connect(lambda: self.add_filter())
        self.run_button.clicked.connect(self._run)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.code_button.clicked.connect(self._copy_code)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self._run)
        self.set_table(None)

    # ---- table ---------------------------------------------------------------
    def set_table(self, table: TableInfo | None) -> None:
        """Show a table's columns; keep filters whose column still exists."""
        old = [(r.column_combo.currentText(), r.op(), r.value_edit.text(),
                r.units_combo.currentText()) for r in self.rows]
        for r in list(self.rows):
            self._remove_row(r)
        self.table = table
        self.columns_list.clear()
        enabled = table is not None and bool(table.columns)
        for w in (self.add_filter_button, self.run_button, self.code_button, self.all_columns):
            w.setEnabled(enabled)
        self._update_recent_button()
        if table is None:
            self.title.setText("<i>Pick a table on the left.</i>")
            return
        self.title.setText(f"<b>{table.name}</b> · {len(table.columns)} columns")
        for c in table.columns:
            item = QListWidgetItem(f"{c.name}  ({c.kind})")
            item.setData(Qt.ItemDataRole.UserRole, c.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.columns_list.addItem(item)
        self.all_columns.setChecked(True)
        self.columns_list.setEnabled(False)
        for col, op, text, units in old:
            if table.column(col) is not None:
                self.add_filter(col).set_values(col, op, text, units)

    def set_context(self, source, datastack: str = "", version: int | None = None) -> None:
        """The source, datastack and version whose distinct values complete the filter
        fields (None: no completion). Rows already shown ask again."""
        self.source, self.datastack, self.version = source, datastack, version
        self._update_recent_button()
        for row in self.rows:
            row.set_completion(None)
            self._want_values(row)

    # ---- recent queries ----------------------------------------------------------
    def set_recent_store(self, store) -> None:
        """Where the recent queries of each table are kept (a RecentQueries)."""
        self.recent = store
        self._update_recent_button()

    def recent_entries(self) -> list[dict]:
        if self.recent is None or self.table is None:
            return []
        return self.recent.entries(self.datastack, self.table.name)

    def _update_recent_button(self) -> None:
        n = len(self.recent_entries())
        self.recent_button.setEnabled(n > 0)
        self.recent_button.setText(f"Recent ({n})" if n else "Recent")

    def _fill_recent_menu(self) -> None:
        from ui.common.recent_queries import describe
        self.recent_menu.clear()
        for i, entry in enumerate(self.recent_entries()):
            action = self.recent_menu.addAction(describe(entry))
            action.setData(i)
            action.triggered.connect(lambda _c=False, i=i: self.restore_recent(i))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("No recent queries of this table").setEnabled(False)

    def restore_recent(self, index: int) -> dict | None:
        """Put the index-th recent query (0: newest) back into the builder."""
        entries = self.recent_entries()
        if not 0 <= index < len(entries):
            return None
        from ui.common.session import apply_query_state
        entry = entries[index]
        apply_query_state(self, entry)
        self._update_run_enabled()
        self.recentRestored.emit(entry)
        return entry

    def _remember(self) -> None:
        if self.recent is None or self.table is None:
            return
        from ui.common.session import query_state
        state = query_state(self)
        if state is not None:
            self.recent.add(self.datastack, self.table.name, state)
            self._update_recent_button()

    def set_workspace(self, workspace) -> None:
        """For the window's contextChanged(Workspace)."""
        if workspace is None:
            self.set_context(None)
        else:
            self.set_context(workspace.source, workspace.datastack, workspace.version)

    def _want_values(self, row: FilterRow) -> None:
        """Fetch (in a worker, once per column) the values of the row's string column."""
        src, table, column = self.source, self.table, row.column_combo.currentText()
        if (src is None or table is None or row.kind() != STRING or row.op() is Op.REGEX
                or not supports_distinct_values(src)):
            return
        ds, v, cache = self.datastack, self.version, self.distinct_cache
        try:
            row.set_completion(cache.cached(src, ds, table.name, column, v), column)
            return
        except KeyError:
            pass

        def work(cancel):
            try:
                return cache.values(src, ds, table.name, column, v, cancel=cancel)
            except CancelledError:
                raise
            except CavernError:  # no suggestions is no error: the user can still type
                return None

        def done(values):
            if row in self.rows and row.column_combo.currentText() == column:
                row.set_completion(values, column)
        row.values_runner.run(work, on_result=done)

    def add_filter(self, column: str = "") -> FilterRow:
        row = FilterRow(self.table, column)
        row.valuesWanted.connect(self._want_values)
        row.removeRequested.connect(self._remove_row)
        row.changed.connect(self._update_run_enabled)
        row.value_edit.returnPressed.connect(self._run)  # Return in a value field runs
        self.filters_box.insertWidget(self.filters_box.count() - 1, row)
        self.rows.append(row)
        row.value_edit.setFocus()
        self._want_values(row)
        return row

    def _remove_row(self, row: FilterRow) -> None:
        row.values_runner.cancel(quiet=True)
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self._update_run_enabled()

    def _all_toggled(self, on: bool) -> None:
        self.columns_list.setEnabled(not on)
        if on:
            for i in range(self.columns_list.count()):
                self.columns_list.item(i).setCheckState(Qt.CheckState.Checked)

    def _update_run_enabled(self) -> None:
        bad = any(r.error_label.text() for r in self.rows)
        self.run_button.setEnabled(self.table is not None and not bad and not self.cancel_button.isEnabled())

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.run_button.setText("Running…" if busy else "Run query")
        self._update_run_enabled()

    # ---- spec ------------------------------------------------------------------
    def spec(self, datastack: str = "", version: int | None = None, timestamp=None) -> QuerySpec:
        """The query the panel shows; InvalidInputError names the field at fault."""
        if self.table is None:
            raise InvalidInputError("Pick a table first.", field="table")
        filters = []
        for r in self.rows:
            if not r.value_edit.text().strip():
                raise InvalidInputError(
                    f"The filter on '{r.column_combo.currentText()}' has no value.",
                    field=r.column_combo.currentText(), hint="Type a value or remove it.")
            filters.append(r.filter())
        cols: tuple[str, ...] = ()
        if not self.all_columns.isChecked():
            cols = tuple(self.columns_list.item(i).data(Qt.ItemDataRole.UserRole)
                         for i in range(self.columns_list.count())
                         if self.columns_list.item(i).checkState() == Qt.CheckState.Checked)
            if not cols:
                raise InvalidInputError("Choose at least one column.", field="columns")
        limit = self.limit_spin.value() or None
        res = self.resolution_combo.currentData() if self.table.position_columns else None
        spec = QuerySpec(self.table.name, datastack, version, timestamp, tuple(filters), cols,
                         limit, desired_resolution=tuple(res) if res else None,
                         is_view=self.table.kind == "view")
        spec.check()
        return spec

    def _checked_spec(self) -> QuerySpec | None:
        try:
            spec = self.spec()
        except InvalidInputError as exc:
            self.status.setText(styles.html_span(html.escape(str(exc)), "error"))
            self.message.emit(str(exc))
            return None
        self.status.clear()
        return spec

    def _run(self) -> None:
        if not self.run_button.isEnabled():
            return
        spec = self._checked_spec()
        if spec is not None:
            self._remember()
            self.runRequested.emit(spec)

    def _copy_code(self) -> None:
        spec = self._checked_spec()
        if spec is not None:
            self.copyCodeRequested.emit(spec)

"""The query builder: columns, filters and a limit for the selected table.

It edits a QuerySpec. Every filter row is checked as the user types (models.filters);
a bad value marks its field red with the reason and the Run button waits.

The value field of a string column completes from the column's distinct values
(services.results.distinct_values), fetched in a worker and cached; a source that cannot
list them (DataSource.distinct_values answers None) gets no completer.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QFrame, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QMenu, QPushButton,
                               QScrollArea, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from models.datastack import TableInfo
from models.errors import CancelledError, CavernError, InvalidInputError
from models.filters import OPS_FOR_KIND, STRING, Filter, Op, build_filter
from models.query_spec import QuerySpec
from services.results.distinct_values import (DistinctValueCache, join_last, split_last,
                                              supports_distinct_values)
from ui.common import styles
from ui.common.workers import RequestRunner

BAD_STYLE = styles.BAD_FIELD_STYLE
VALUE_TIP = ("The value; a list for 'in' (commas, spaces or lines: a pasted column with "
             "its header is fine). Text columns suggest their values as you type. "
             "Return runs.")
PLACEHOLDER = {Op.IN: "ids or values, comma/space separated", Op.NOT_IN: "values to exclude",
               Op.BETWEEN: "low, high", Op.WITHIN: "x0, y0, z0, x1, y1, z1",
               Op.REGEX: "regular expression, e.g. ^23P"}


LIST_OPS = (Op.IN, Op.NOT_IN)


class ValueCompleter(QCompleter):
    """Completes a filter value; for an 'in' list, only the item being typed."""

    def __init__(self, values: list[str], parent=None):
        super().__init__(parent)
        self.setModel(QStringListModel(values, self))  # owned by the completer
        self.list_mode = False
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setMaxVisibleItems(12)

    def values(self) -> list[str]:
        return self.model().stringList()

    def splitPath(self, path: str) -> list[str]:
        return [split_last(path)[1] if self.list_mode else path]

    def pathFromIndex(self, index) -> str:
        value = super().pathFromIndex(index)
        edit = self.widget()
        if not self.list_mode or edit is None:
            return value
        return join_last(edit.text(), value)


class FilterRow(QWidget):
    changed = Signal()
    removeRequested = Signal(object)
    valuesWanted = Signal(object)  # this row: its column may have values to complete
    completionReady = Signal()  # a completer was set (or removed) on the value field

    def __init__(self, table: TableInfo, column: str = "", parent=None):
        super().__init__(parent)
        self.table = table
        self.column_combo = QComboBox()
        self.column_combo.addItems([c.name for c in table.columns])
        self.op_combo = QComboBox(toolTip="How the column is compared with the value")
        self.value_edit = QLineEdit()
        self.value_edit.setToolTip(VALUE_TIP)
        self.values_runner = RequestRunner(self)  # the column's distinct values
        self.completion_column = ""  # the column the completer's values belong to
        self.column_combo.setToolTip("Column to filter")
        for combo in (self.column_combo, self.op_combo):  # the row fits a narrow dock
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        self.units_combo = QComboBox()
        self.units_combo.addItems(["vx", "nm"])
        self.units_combo.setToolTip("Box corners in voxels of the table's resolution, or in nm")
        self.remove_button = QToolButton(text="✕", toolTip="Remove this filter")
        self.error_label = QLabel()
        self.error_label.setStyleSheet(styles.ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        # Two lines, so the value field stays wide in a narrow dock.
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.column_combo, 3)
        top.addWidget(self.op_combo, 2)
        top.addWidget(self.remove_button)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.value_edit, 1)
        bottom.addWidget(self.units_combo)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 6)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addLayout(bottom)
        lay.addWidget(self.error_label)
        self.column_combo.currentTextChanged.connect(self._column_changed)
        self.op_combo.currentIndexChanged.connect(self._op_changed)
        self.value_edit.textChanged.connect(self._validate)
        self.units_combo.currentIndexChanged.connect(self._validate)
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        if column:
            self.column_combo.setCurrentText(column)
        self._column_changed(self.column_combo.currentText())

    def kind(self) -> str:
        col = self.table.column(self.column_combo.currentText())
        return col.kind if col else STRING

    def op(self) -> Op:
        data = self.op_combo.currentData()  # Qt hands a str-Enum back as a plain str
        return Op(data) if data is not None else Op.EQ

    def _column_changed(self, _name: str) -> None:
        if self.completion_column != self.column_combo.currentText():
            self.set_completion(None)
        self.op_combo.blockSignals(True)
        self.op_combo.clear()
        for op in OPS_FOR_KIND.get(self.kind(), OPS_FOR_KIND[STRING]):
            self.op_combo.addItem(op.label, op)
        self.op_combo.blockSignals(False)
        self._op_changed()

    def _op_changed(self) -> None:
        op = self.op()
        self.units_combo.setVisible(op is Op.WITHIN)
        self.value_edit.setPlaceholderText(PLACEHOLDER.get(op, "value"))
        completer = self.value_edit.completer()
        if isinstance(completer, ValueCompleter):
            completer.list_mode = op in LIST_OPS
        self._validate()
        if self.kind() == STRING and op is not Op.REGEX and completer is None:
            self.valuesWanted.emit(self)

    def set_completion(self, values: list[str] | None, column: str = "") -> None:
        """Offer ``values`` for the value field (None or empty: no completer)."""
        old = self.value_edit.completer()
        if values:
            completer = ValueCompleter(values, self.value_edit)
            completer.list_mode = self.op() in LIST_OPS
            self.value_edit.setCompleter(completer)
            self.completion_column = column or self.column_combo.currentText()
        else:
            self.value_edit.setCompleter(None)
            self.completion_column = ""
        if old is not None and old is not self.value_edit.completer():
            old.deleteLater()
        self.completionReady.emit()

    def set_values(self, column: str, op: Op, text: str, units: str = "vx") -> None:
        self.column_combo.setCurrentText(column)
        idx = self.op_combo.findData(op)
        if idx >= 0:
            self.op_combo.setCurrentIndex(idx)
        self.units_combo.setCurrentText(units)
        self.value_edit.setText(text)

    def filter(self) -> Filter:
        """The filter this row describes; raises InvalidInputError if it is not valid."""
        return build_filter(self.column_combo.currentText(), self.op(), self.value_edit.text(),
                            self.kind(), self.units_combo.currentText())

    def _validate(self) -> None:
        error = ""
        if self.value_edit.text().strip():
            try:
                self.filter()
            except InvalidInputError as exc:
                error = str(exc)
        self.value_edit.setStyleSheet(BAD_STYLE if error else "")
        self.value_edit.setToolTip(error or VALUE_TIP)
        self.error_label.setText(error)
        self.error_label.setVisible(bool(error))
        self.changed.emit()


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

"""One filter row of the query builder: column, operator and value, checked as the user
types (models.filters): a bad value marks its field red with the reason. A text column's
value field completes from its distinct values (ValueCompleter; the builder fetches them).
"""
from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QCompleter, QHBoxLayout, QLabel, QLineEdit,
                               QToolButton, QVBoxLayout, QWidget)

from models.datastack import TableInfo
from models.errors import InvalidInputError
from models.filters import OPS_FOR_KIND, STRING, Filter, Op, build_filter
from services.results.distinct_values import join_last, split_last
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

"""Choosing a cell set for the matrix: rows of a cell table with filters, or pasted root ids."""
from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QComboBox, QGroupBox, QHBoxLayout, QPlainTextEdit,
                               QRadioButton, QStackedWidget, QVBoxLayout)

from models.ids import parse_id_array


class CellSetEditor(QGroupBox):
    """A set description for services.connectivity.matrix_queries.cell_set_spec.

    Filters are checked against the table's columns in the worker (that needs the table's
    schema, which on a CAVE server is a request); pasted ids are checked here at once
    (models.ids.parse_id_array: a pasted column with its header line is fine). Two lines
    high, so the matrix keeps the room: the filters and the ids share one place.
    """

    def __init__(self, title: str, parent=None):
        super().__init__(title, parent)
        self.from_table = QRadioButton("Cells of the table")
        self.from_table.setToolTip("The set is the rows of a cell-type table (with filters)")
        self.from_ids = QRadioButton("Pasted root ids")
        self.from_ids.setToolTip("The set is the root ids pasted below (a copied column, "
                                 "with or without its header)")
        self.from_table.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.from_table)
        group.addButton(self.from_ids)
        self.table_combo = QComboBox()
        self.table_combo.setToolTip("Cell-type table: its rows form the set, and it gives every "
                                    "cell its type and soma depth")
        self.table_combo.setMinimumContentsLength(12)
        self.filters_edit = QPlainTextEdit()
        self.filters_edit.setPlaceholderText("filters, one per line, e.g. cell_type=e")
        self.filters_edit.setToolTip("One filter per line: column=value, column in a,b, "
                                     "column>=value …")
        self.ids_edit = QPlainTextEdit()
        self.ids_edit.setPlaceholderText("root ids separated by commas, spaces or new lines")
        self.ids_edit.setToolTip("Paste root ids: a column copied from a table (its header "
                                 "line is skipped), or ids separated by commas or spaces")
        self.edits = QStackedWidget()
        for edit in (self.filters_edit, self.ids_edit):
            edit.setMinimumHeight(34)
            self.edits.addWidget(edit)
        self.edits.setMaximumHeight(52)
        mode = QHBoxLayout()
        mode.addWidget(self.from_table)
        mode.addWidget(self.table_combo, 1)
        mode.addWidget(self.from_ids)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(mode)
        lay.addWidget(self.edits)
        self.from_table.toggled.connect(self._mode_changed)
        self._mode_changed()
        self._wanted = ""  # a table asked for before the tables were listed (a session)

    def _mode_changed(self, *_args) -> None:
        by_table = self.from_table.isChecked()
        self.filters_edit.setEnabled(by_table)
        self.ids_edit.setEnabled(not by_table)
        self.edits.setCurrentWidget(self.filters_edit if by_table else self.ids_edit)

    def set_tables(self, tables: list[str]) -> None:
        current = self._wanted or self.table_combo.currentText()
        self.table_combo.clear()
        self.table_combo.addItems(tables)
        if current in tables:
            self.table_combo.setCurrentText(current)
        self._wanted = ""

    def select_table(self, name: str) -> None:
        """Pick the cell table ``name``: now if it is listed, else when the tables are."""
        if self.table_combo.findText(name) >= 0:
            self.table_combo.setCurrentText(name)
            self._wanted = ""
        else:
            self._wanted = name

    def draft(self) -> dict:
        """Keyword arguments of cell_set_spec (minus source/datastack/version).

        Raises InvalidInputError for pasted text that is not a list of root ids."""
        table = self.table_combo.currentText() or None
        if self.from_ids.isChecked():
            return {"table": table, "root_ids": parse_id_array(self.ids_edit.toPlainText())}
        return {"table": table, "filter_lines": self.filters_edit.toPlainText().splitlines()}

"""Merge two tables on a key (services.tables.joins): inner or left, duplicated keys
(multi-soma objects) reported and optionally dropped. The result opens in the result
table (``joinReady``) and "Copy as Python" gives the caveclient + pandas code."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QVBoxLayout, QWidget)

from models.filters import parse_filter_expr
from services.tables.joins import HOWS, JoinSpec, run_join
from services.workspace import Workspace
from ui.common.styles import ERROR_STYLE, MUTED_STYLE
from ui.common.workers import RequestRunner

KEYS = ("pt_root_id", "target_id", "nucleus_id", "id")


def _tables(ws: Workspace, cancel=None):
    return {n: list(t.kinds) for n, t in sorted(ws.tables().items())}


def join_spec_of(result) -> JoinSpec | None:
    """The JoinSpec a result was made by (None: not a join)."""
    frame = getattr(result, "frame", None)
    attrs = getattr(frame, "attrs", None) or {}
    spec = attrs.get("join_spec")
    return spec if isinstance(spec, JoinSpec) else None


def join_python_code(result, ws: Workspace) -> str:
    """caveclient + pandas code of the join that made ``result`` (its datastack and
    version), with the server on CAVE; on a local sample, the CAVE datastack it mirrors."""
    spec = join_spec_of(result)
    ds = getattr(ws.info, "cave_datastack", "") or ws.datastack
    local = getattr(ws.source, "kind", "") == "local"
    server = "" if local else getattr(ws.source, "server", "") or ""
    code = spec.to_python(ds, result.spec.version, server)
    if local:
        code = "# Local sample datastack: on a CAVE server the same join reads:\n" + code
    return code


class JoinView(QWidget):
    joinReady = Signal(object)  # QueryResult of the join

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ws: Workspace | None = None
        self.result = None
        self.report = None
        self._columns: dict[str, list[str]] = {}
        self.runner = RequestRunner(self)
        self.left = QComboBox(toolTip="The first table: every row of it is kept by a left join")
        self.right = QComboBox(toolTip="The table merged onto the first one")
        self.left_key = QComboBox(editable=True, toolTip="The first table's key column, e.g. "
                                                          "pt_root_id, or target_id of a reference table")
        self.right_key = QComboBox(editable=True, toolTip="The second table's key column, e.g. "
                                                           "pt_root_id or id of a nucleus table")
        self.left_filter = QLineEdit(placeholderText="filter, e.g. status_axon=t",
                                     toolTip="Filters on the first table, one expression per "
                                             "';' (CLI syntax: column=value, size>=300, ...)")
        self.right_filter = QLineEdit(placeholderText="filter, e.g. cell_type=23P",
                                      toolTip="Filters on the second table (CLI syntax)")
        self.how = QComboBox(toolTip="inner: keys in both tables; left: every row of the first "
                                     "table, with the second's columns where its key matches")
        self.how.addItems(HOWS)
        self.drop = QCheckBox("drop keys on more than one row (multi-soma objects)",
                              toolTip="A root id with two somas matches two rows: drop such "
                                      "keys instead of repeating rows (the count is reported)")
        self.run_button = QPushButton("Join", toolTip="Merge the two tables; the result opens "
                                                      "in the Results tab")
        self.code_button = QPushButton("Copy as Python", enabled=False,
                                       toolTip="The same join as caveclient + pandas code")
        self.status = QLabel(wordWrap=True)
        form = QFormLayout()
        for label, table, key, flt in (("Left table", self.left, self.left_key,
                                        self.left_filter),
                                       ("Right table", self.right, self.right_key,
                                        self.right_filter)):
            row = QHBoxLayout()
            row.addWidget(table, 2)
            row.addWidget(QLabel("key"))
            row.addWidget(key, 1)
            row.addWidget(flt, 2)
            form.addRow(label, row)
        form.addRow("Join", self.how)
        form.addRow("", self.drop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.code_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        lay.addStretch(1)
        self.left.currentIndexChanged.connect(lambda _i: self._keys(self.left, self.left_key))
        self.right.currentIndexChanged.connect(lambda _i: self._keys(self.right,
                                                                     self.right_key))
        self.run_button.clicked.connect(self.run)
        self.code_button.clicked.connect(self.copy_python)

    def set_workspace(self, ws: Workspace | None) -> None:
        self.ws, self.result = ws, None
        self.code_button.setEnabled(False)
        if ws is not None:
            self.runner.run(_tables, ws, on_result=self._listed, on_error=self._failed)

    def _listed(self, tables) -> None:
        self._columns = tables
        for combo in (self.left, self.right):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(tables))
            combo.blockSignals(False)
        if self.ws is not None:  # default: the proofreading table x a cell-type table
            proof, types = self.ws.info.proofreading_table, self.ws.info.cell_type_tables
            if proof in tables:
                self.left.setCurrentText(proof)
            if types and types[0] in tables:
                self.right.setCurrentText(types[0])
        self._keys(self.left, self.left_key)
        self._keys(self.right, self.right_key)

    def _keys(self, table: QComboBox, key: QComboBox) -> None:
        cols = self._columns.get(table.currentText(), [])
        key.clear()
        key.addItems([c for c in KEYS if c in cols] + [c for c in cols if c not in KEYS])

    def spec(self) -> JoinSpec:
        def flt(edit, table):
            text = edit.text().strip()
            if not text:
                return ()
            info = self.ws.table(table).info
            return tuple(parse_filter_expr(t.strip(), info.kinds) for t in text.split(";")
                         if t.strip())
        return JoinSpec(self.left.currentText(), self.right.currentText(),
                        self.left_key.currentText(), self.right_key.currentText(),
                        self.how.currentText(), self.drop.isChecked(),
                        flt(self.left_filter, self.left.currentText()),
                        flt(self.right_filter, self.right.currentText()))

    def run(self) -> None:
        if self.ws is None:
            return
        try:
            spec = self.spec()
        except Exception as err:  # a typed filter that does not parse
            self._say(str(err), True)
            return
        self._say(f"Running {spec.describe()}…")
        self.runner.run(run_join, self.ws, spec, on_result=self._done, on_error=self._failed)

    def _done(self, value) -> None:
        self.result, self.report = value
        self.code_button.setEnabled(True)
        self._say(" ".join(self.result.notes))
        self.joinReady.emit(self.result)

    def python_code(self) -> str:
        return join_python_code(self.result, self.ws)

    def copy_python(self) -> None:
        if self.result is not None:
            QGuiApplication.clipboard().setText(self.python_code())
            self._say("Copied the caveclient + pandas code of the join.")

    def _failed(self, err) -> None:
        self._say(str(err), True)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else MUTED_STYLE)

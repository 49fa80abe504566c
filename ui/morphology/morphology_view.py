"""The Morphology view: one cell's skeleton with its synapses (tutorial part II, fig. 8-12).

Integration:
  - ``view.set_context(ws)``, then ``view.show_cell(root_id)``.
  - ``view.partnerActivated`` (int root id): a synapse was clicked; open the partner.
  - ``view.synapsesSelected`` (DataFrame): Shift+drag selected these synapse rows; the
    selection bar under the plot sends them to Results (``view.resultReady``, a
    QueryResult), a Neuroglancer link or an export.
  - ``view.message`` (str): one-line messages for the window's status bar.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout,
                               QWidget)

from models.errors import CancelledError, CavernError
from services.morphology import synapse_colouring as sc
from services.morphology.morphology_data import (load_morphology, partner_cell_types,
                                                 target_compartments, target_table)
from ui.common.request_status_bar import RequestStatusBar
from ui.common.styles import NOTE_STYLE
from ui.common.workers import RequestRunner
from ui.common.workspace_view import WorkspaceView
from ui.morphology.morphology_plot import MorphologyPlot
from ui.morphology.synapse_selection_bar import SynapseSelectionBar

PROJECTION_CHOICES = (("xy", "x – y"), ("zy", "z – y"), ("xz", "x – z"))
SYNAPSE_CHOICES = (("both", "Inputs and outputs"), ("in", "Inputs"), ("out", "Outputs"),
                   ("none", "No synapses"))
COLOUR_CHOICES = (("direction", "Input / output"), ("known", "Known cells only"),
                  ("cell_type", "Partner cell type"), ("target", "Target compartment"),
                  ("distance", "Path distance to soma"))


def _load(ws, root_id, cancel=None):
    data = load_morphology(ws, root_id, cancel)
    return data, target_table(ws)


class MorphologyView(WorkspaceView, QWidget):
    message = Signal(str)
    loaded = Signal(object)  # MorphologyData now shown
    redrawn = Signal()  # the plot was drawn again (projection, colouring, labels arrived)
    partnerActivated = Signal("qint64")
    synapsesSelected = Signal(object)  # pandas DataFrame of synapse rows
    resultReady = Signal(object)  # QueryResult of selected synapses, for the results table

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.data = None
        self.target_table = None
        self.counts: dict[str, int] = {}
        self._labels: dict[tuple, object] = {}  # (kind, table) -> pandas Series
        self.runner = RequestRunner(self)
        self.label_runner = RequestRunner(self)
        for r in (self.runner, self.label_runner):  # a Cancel reaches no on_error: say it
            r.failed.connect(lambda err: self._error(err) if isinstance(
                err, CancelledError) else None)
        self._build()

    def _build(self) -> None:
        def combo(choices, tip):
            c = QComboBox(toolTip=tip)
            for key, label in choices:
                c.addItem(label, key)
            c.currentIndexChanged.connect(self._controls_changed)
            return c
        self.projection_combo = combo(PROJECTION_CHOICES, "Which plane the skeleton is "
                                      "projected onto (y is cortical depth, drawn downwards)")
        self.synapse_combo = combo(SYNAPSE_CHOICES, "Which synapses are drawn")
        self.colour_combo = combo(COLOUR_CHOICES, "How synapses are coloured")
        self.table_combo = QComboBox(toolTip="The cell table whose cells are 'known' and "
                                             "whose cell types colour the partners")
        self.table_combo.currentIndexChanged.connect(self._controls_changed)
        self.dendrite_check = QCheckBox("Dendrite only")
        self.dendrite_check.setToolTip("Hide the axon and the synapses mapped onto it")
        self.dendrite_check.toggled.connect(self._controls_changed)
        row = QHBoxLayout()
        for label, w in (("Projection:", self.projection_combo), ("Synapses:",
                         self.synapse_combo), ("Colour by:", self.colour_combo),
                         ("Cell table:", self.table_combo)):
            row.addWidget(QLabel(label))
            row.addWidget(w)
        row.addWidget(self.dendrite_check)
        row.addStretch(1)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold;")
        self.title.setWordWrap(True)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        self.notes_label.setStyleSheet(NOTE_STYLE)
        self.plot = MorphologyPlot(self)
        self.plot.tip = self._tip
        self.plot.synapseClicked.connect(self._clicked)
        self.plot.boxSelected.connect(self._boxed)
        self.selection_bar = SynapseSelectionBar(self)
        self.selection_bar.resultRequested.connect(self.resultReady)
        self.status_bar = RequestStatusBar(self.runner, self.label_runner,
                                           self.selection_bar.export_runner)
        self.selection_bar.message.connect(self.status_bar.show_text)
        self.status_bar.show_text("Hover a synapse for its partner; click it to inspect the "
                                  "partner; Shift+drag selects synapses.")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.title)
        lay.addLayout(row)
        lay.addWidget(self.counts_label)
        lay.addWidget(self.notes_label)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.selection_bar)
        lay.addWidget(self.status_bar)

    # ---- public API ------------------------------------------------------------------
    def set_context(self, ws) -> None:
        if ws is not None and ws.same_context(self.ws):
            return
        self.ws = ws
        self.runner.cancel(quiet=True)
        self.label_runner.cancel(quiet=True)
        self.data, self._labels = None, {}
        self.selection_bar.clear()
        self.plot.clear()
        self.table_combo.blockSignals(True)
        self.table_combo.clear()
        if ws is not None:
            try:
                names = ws.cell_type_table_names()
            except CavernError as exc:
                names = []
                self.status_bar.show_text(str(exc), "error")
            for n in names:
                self.table_combo.addItem(n, n)
        self.table_combo.blockSignals(False)

    def show_cell(self, root_id) -> None:
        if self.ws is None:
            self._error(CavernError("No datastack is open.", hint="Pick a datastack first."))
            return
        self.status_bar.show_text(f"Loading the skeleton and synapses of {root_id}…")
        self.runner.run(_load, self.ws, root_id, on_result=self._loaded, on_error=self._error)

    def set_choice(self, combo: QComboBox, key) -> None:
        """Pick a combo entry by its key (tests, and callers that open a given figure)."""
        combo.setCurrentIndex(max(0, combo.findData(key)))

    # ---- loading ---------------------------------------------------------------------
    def _loaded(self, result) -> None:
        self.data, self.target_table = result
        self._labels = {}
        self.selection_bar.clear()
        d = self.data
        sk = d.skeleton
        comps = ", ".join(f"{k} {v:,}" for k, v in sk.compartment_counts().items())
        self.title.setText(f"Cell {d.root_id} · {sk.n_vertices:,} skeleton vertices "
                           f"({comps or 'no compartment labels'}) · {sk.cable_length_um():,.0f}"
                           f" µm of cable · {sk.source} · axes: {d.axis_note}")
        self.dendrite_check.setEnabled(sk.has_compartments)
        i = self.colour_combo.findData("target")
        self.colour_combo.setItemText(i, "Target compartment" if self.target_table else
                                      "Target compartment (needs synapse_target_predictions_"
                                      "ssa_v2)")
        self.status_bar.show_text(f"Cell {d.root_id}: skeleton and {len(d.synapses):,} "
                                  f"synapses from {d.synapse_table}.")
        self._redraw()
        self.loaded.emit(d)

    def _controls_changed(self, *_a) -> None:
        if self.data is not None:
            self._redraw()

    def _need_labels(self, kind: str):
        """The labels a colouring needs: the cached Series, or None after asking for them."""
        if kind in ("known", "cell_type"):
            table = self.table_combo.currentData()
            if not table:
                return None
            key = ("cell_type", table)
            if key not in self._labels:
                self._labels[key] = None  # asked
                self.status_bar.show_text(f"Looking the partners up in {table}…")
                self.label_runner.run(partner_cell_types, self.ws, table,
                                      self.data.synapses["partner_root_id"].to_numpy(),
                                      on_result=lambda s: self._labels_in(key, s),
                                      on_error=self._error)
            return self._labels[key]
        if kind == "target":
            key = ("target", self.target_table)
            if key not in self._labels:
                self._labels[key] = None
                self.label_runner.run(lambda ws, ids, cancel=None: target_compartments(
                    ws, ids, cancel)[1], self.ws, self.data.synapses["id"].to_numpy(),
                    on_result=lambda s: self._labels_in(key, s), on_error=self._error)
            return self._labels[key]
        return None

    def _labels_in(self, key, series) -> None:
        self._labels[key] = series
        what = "synapses with a target prediction" if key[0] == "target" else \
            "partner cells (of inputs and outputs)"
        self.status_bar.show_text(f"{len(series):,} {what} found in {key[1]}.")
        self._redraw()

    # ---- drawing ---------------------------------------------------------------------
    def _shown_rows(self, dendrite: bool = True) -> np.ndarray:
        syn = self.data.synapses
        which = self.synapse_combo.currentData()
        mask = {"both": np.ones(len(syn), bool), "in": syn["is_input"].to_numpy(),
                "out": syn["is_output"].to_numpy(), "none": np.zeros(len(syn), bool)}[which]
        if dendrite and self.dendrite_check.isChecked() and self.data.skeleton.has_compartments:
            mask = mask & (syn["compartment"].to_numpy() != 2)
        return np.flatnonzero(mask)

    def _groups(self, rows):
        syn = self.data.synapses
        kind = self.colour_combo.currentData()
        out_first = self.synapse_combo.currentData() == "out"
        notes = []
        if kind == "distance":
            return (*sc.distance_bins(syn["path_to_soma_um"].to_numpy(), rows=rows),
                    "Path distance to the soma along the skeleton (Dijkstra from the root).")
        if kind == "target" and not self.target_table:
            notes.append(f"{self.datastack} has no synapse target table: colouring by target "
                         "compartment needs a reference table on the synapse table with "
                         "spine/shaft/soma tags (synapse_target_predictions_ssa_v2 on "
                         "minnie65). Shown by input/output instead.")
            kind = "direction"
        labels = self._need_labels(kind) if kind in ("known", "cell_type", "target") else None
        if kind in ("known", "cell_type", "target") and labels is None:
            kind = "direction"  # until the labels arrive (or when no table is chosen)
            notes.append("Waiting for the partner labels…" if self.table_combo.count() else
                         "This datastack has no cell table to look partners up in.")
        if kind == "known":
            labels_, groups = sc.known_groups(syn, labels.index, out_first)
            return labels_, groups, " ".join(notes)
        if kind == "cell_type":
            types = syn["partner_root_id"].map(labels)
            return (*sc.category_groups(types), " ".join(notes))
        if kind == "target":
            return (*sc.target_groups(syn["id"].map(labels)),
                    f"Target compartment from {self.target_table}.")
        return (*sc.direction_groups(syn, out_first), " ".join(notes))

    def _redraw(self) -> None:
        d = self.data
        sk = d.skeleton
        rows = self._shown_rows()
        labels, groups, note = self._groups(rows)
        vmask = sk.dendrite_mask() if self.dendrite_check.isChecked() else None
        self.plot.draw(d.coords, sk.edges, sk.compartment, sk.root, d.syn_coords, groups,
                       labels, self.projection_combo.currentData(), d.aligned, vmask, rows)
        self._update_counts(rows, labels, groups)
        self.notes_label.setText(" ".join([*d.notes, note]).strip())
        self.notes_label.setVisible(bool(self.notes_label.text()))
        self.redrawn.emit()

    def _update_counts(self, rows, labels, groups) -> None:
        syn = self.data.synapses
        n_in = int(syn["is_input"].to_numpy()[rows].sum())
        n_out = int(syn["is_output"].to_numpy()[rows].sum())
        c = {"drawn": len(rows), "inputs": n_in, "outputs": n_out}
        which = self.synapse_combo.currentData()
        both = int((syn["is_input"] & syn["is_output"]).sum())
        if which == "in":
            parts = [f"Drawn: {n_in:,} input synapses"]
        elif which == "out":
            parts = [f"Drawn: {n_out:,} output synapses"]
        else:
            parts = [f"Drawn: {len(rows):,} synapses ({n_in:,} inputs, {n_out:,} outputs"
                     + (f"; {both:,} autapses are both)" if both and which == "both" else ")")]
        if self.dendrite_check.isChecked():
            hidden = len(self._shown_rows(dendrite=False)) - len(rows)
            parts.append(f"axon masked ({hidden:,} synapses on the axon hidden)")
        shown = labels[rows]
        if any(name.startswith("known") for name, _ in groups):
            known = int(np.char.startswith(shown.astype(str), "known").sum())
            c.update(known=known, grey=len(rows) - known)
            parts.append(f"{known:,} with partners in {self.table_combo.currentData()} "
                         f"(highlighted), {len(rows) - known:,} with partners not in it (grey)")
        else:
            c.update({name: int((shown == name).sum()) for name, _ in groups})
        self.counts = c
        self.counts_label.setText(" · ".join(parts))

    # ---- interaction -----------------------------------------------------------------
    def _tip(self, row: int) -> str:
        r = self.data.synapses.iloc[row]
        side = "input from" if r["is_input"] else "output onto"
        size = f"size {int(r['size']):,}" if "size" in r and r["size"] == r["size"] else ""
        return (f"synapse {int(r['id'])}: {side} {int(r['partner_root_id'])}\n{size}\n"
                f"{r['path_to_soma_um']:.1f} µm from the soma along the skeleton\n"
                f"on {sc.compartment_name(r['compartment'])}\nclick: inspect the partner")

    def _clicked(self, row: int) -> None:
        pid = int(self.data.synapses["partner_root_id"].iloc[row])
        self.status_bar.show_text(f"Inspecting partner {pid}.")
        self.partnerActivated.emit(pid)

    def _boxed(self, rows) -> None:
        frame = self.data.synapses.iloc[np.asarray(rows, dtype=np.int64)]
        self.status_bar.show_text(f"{len(frame):,} synapses selected.")
        self.selection_bar.set_selection(self.ws, frame, self.data.root_id,
                                         self.ws.synapse_table().name if len(frame) else "")
        self.synapsesSelected.emit(frame)

    def _error(self, err: CavernError) -> None:
        if isinstance(err, CancelledError):
            self.status_bar.show_text("Cancelled.")
            return
        self.status_bar.show_text(str(err), "error")
        self.message.emit(str(err))

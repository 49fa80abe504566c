"""The "Synapse compartment" row of the Connections figures: count only the synapses a
reference table on the synapse table tags (e.g. spine), and list the population's
synapses per tag (services.connectivity.synapse_compartments). Where the datastack has no
such table the row says which table it needs."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit

from services.connectivity import synapse_compartments as sc
from ui.common.styles import MUTED_STYLE

EVERY = "(every synapse)"


def list_compartments(ws) -> dict:
    """For the worker that lists the tables: the compartment tables, or why there are none."""
    tables = sc.compartment_tables(ws)
    return {"tables": [(t.name, t.tag_column) for t in tables],
            "missing": "" if tables else sc.missing_compartments_text(ws)}


def compartment_population(ws, table: str, tags, root_id=None, direction: str = "in",
                           pre_type_col=None, type_table=None, cancel=None):
    """Connections of the tagged synapses, with the population's synapses per tag."""
    conns = sc.compartment_connections(ws, table, tags, root_id=root_id, direction=direction,
                                       pre_type_col=pre_type_col, type_table=type_table,
                                       cancel=cancel)
    tagged = sc.tagged_synapses(ws, table, root_id=root_id, direction=direction,
                                cancel=cancel)
    counts = sc.compartment_counts(tagged)
    conns.attrs["compartment_counts"] = counts
    conns.attrs["notes"] = list(conns.attrs.get("notes", [])) + [
        "Synapses per tag: " + ", ".join(f"{r.tag} {int(r.n_synapses):,} ({r.fraction:.0%})"
                                         for r in counts.itertuples())]
    return conns


class CompartmentControls:
    def __init__(self):
        self.table_combo = QComboBox(toolTip=(
            "A reference table on the synapse table that tags each synapse (e.g. "
            f"{sc.EXAMPLE_TABLE}: spine / shaft / soma); the histograms count only the "
            "synapses with the tags typed beside it"))
        self.table_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.table_combo.setMinimumContentsLength(14)
        self.tag_edit = QLineEdit(placeholderText="tags, e.g. spine or shaft, soma", toolTip=(
            "Count only synapses with these tags (comma-separated)"))
        self.tag_edit.setMinimumWidth(200)
        self.note = QLabel("")
        self.note.setStyleSheet(MUTED_STYLE)
        self.note.setWordWrap(True)
        self.row = QHBoxLayout()
        for w in (QLabel("Synapse compartment:"), self.table_combo, QLabel("tags"),
                  self.tag_edit):
            self.row.addWidget(w)
        self.row.addWidget(self.note, 1)
        self.table_combo.currentIndexChanged.connect(lambda _i: self._enable())
        self.set_listing({"tables": [], "missing": ""})

    def set_listing(self, listing: dict) -> None:
        self.table_combo.clear()
        self.table_combo.addItem(EVERY, None)
        for name, tag in listing.get("tables", []):
            self.table_combo.addItem(f"{name} ({tag})", name)
        self.table_combo.setEnabled(self.table_combo.count() > 1)
        self.note.setText(listing.get("missing", ""))
        self._enable()

    def _enable(self) -> None:
        self.tag_edit.setEnabled(self.table() is not None)

    def table(self) -> str | None:
        return self.table_combo.currentData()

    def tags(self) -> list[str]:
        return [t.strip() for t in self.tag_edit.text().split(",") if t.strip()]

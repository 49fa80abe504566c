"""What Cavern knows about one cell: the values the cell inspector shows.

A record is filled by :func:`services.cells.cell_facts.gather_cell_facts` from the datastack's
soma, cell-type, proofreading and synapse tables; anything a table could not say stays
``None`` and ``notes`` tells the user why (table missing, cell not in it, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CellTypeLabel:
    """One cell-type row: which table said it, under which classification system."""

    table: str
    classification_system: str
    cell_type: str


@dataclass(frozen=True)
class ProofreadingStatus:
    """A proofreading table's verdict on the cell; ``None`` where the table is silent."""

    table: str
    status: str | None = None  # a whole-cell status column (pinky100: "complete")
    axon_status: str | None = None  # e.g. "extended", "clean", "non", "complete"
    dendrite_status: str | None = None
    strategy_axon: str | None = None
    strategy_dendrite: str | None = None
    raw: dict = field(default_factory=dict, compare=False, hash=False)  # the row as read

    def summary(self) -> str:
        parts = [self.status] if self.status is not None else []
        if self.axon_status is not None:
            s = f"axon {self.axon_status}"
            parts.append(s + (f" ({self.strategy_axon})" if self.strategy_axon else ""))
        if self.dendrite_status is not None:
            s = f"dendrite {self.dendrite_status}"
            parts.append(s + (f" ({self.strategy_dendrite})" if self.strategy_dendrite else ""))
        return ", ".join(parts) or "listed as proofread"


@dataclass
class CellRecord:
    root_id: int
    nucleus_id: int | None = None
    datastack: str = ""
    version: int | None = None
    cell_types: list[CellTypeLabel] = field(default_factory=list)
    proofreading: list[ProofreadingStatus] = field(default_factory=list)
    soma_position_vx: tuple[float, float, float] | None = None
    soma_position_nm: tuple[float, float, float] | None = None
    voxel_resolution: tuple[float, float, float] = (4.0, 4.0, 40.0)
    depth_um: float | None = None
    n_input_synapses: int | None = None
    n_output_synapses: int | None = None
    n_input_partners: int | None = None
    n_output_partners: int | None = None
    synapse_table: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def cell_type(self) -> str | None:
        """The first label found (tables are read in the manifest's order)."""
        return self.cell_types[0].cell_type if self.cell_types else None

    @property
    def is_proofread(self) -> bool:
        return bool(self.proofreading)

    def as_rows(self) -> list[tuple[str, str]]:
        """(field, value) pairs for a facts table or ``cavern cell`` output; ids as text."""
        def opt(v, fmt="{}"):
            return "unknown" if v is None else fmt.format(v)

        rows = [("root id", str(self.root_id)),
                ("nucleus id", opt(self.nucleus_id)),
                ("datastack", self.datastack or "unknown"),
                ("version", opt(self.version))]
        for lab in self.cell_types:
            system = f" / {lab.classification_system}" if lab.classification_system else ""
            rows.append((f"cell type ({lab.table}{system})", lab.cell_type))
        if not self.cell_types:
            rows.append(("cell type", "unknown"))
        for p in self.proofreading:
            rows.append((f"proofreading ({p.table})", p.summary()))
        if not self.proofreading:
            rows.append(("proofreading", "not in a proofreading table"))
        pos = self.soma_position_vx
        rows.append(("soma position (vx)", "unknown" if pos is None else
                     ", ".join(f"{v:g}" for v in pos)))
        nm = self.soma_position_nm
        rows.append(("soma position (nm)", "unknown" if nm is None else
                     ", ".join(f"{v:g}" for v in nm)))
        rows.append(("depth (um below pia)", opt(self.depth_um, "{:.1f}")))
        rows.append(("input synapses", opt(self.n_input_synapses, "{:,}")))
        rows.append(("output synapses", opt(self.n_output_synapses, "{:,}")))
        rows.append(("input partners", opt(self.n_input_partners, "{:,}")))
        rows.append(("output partners", opt(self.n_output_partners, "{:,}")))
        return rows


@dataclass(frozen=True)
class RootIdStatus:
    """Whether a root id is the current one for its cell, and what to use instead."""

    root_id: int
    is_latest: bool | None  # None: could not tell (e.g. a local datastack)
    suggested_id: int | None = None  # the current id that overlaps most, when stale
    versions: tuple[int, ...] = ()  # local datastacks: versions whose tables hold the id
    message: str = ""
    # current at the version read but edited since: the id it has now (live data and
    # Neuroglancer use that one; this version's tables still use ``root_id``)
    edited_since: int | None = None

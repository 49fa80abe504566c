"""Exports of the Partners view: the partner rows (the selected ones, else all shown) and
the "Partners by cell type" table of the shown partners. Both go through the same atomic
writer (services.results.export) with their provenance (services.connectivity
.partners_provenance: context, cell, direction, tables, counts, filters and, for the
groups, the type table and the labelling rule that grouped them) in Parquet metadata or a
``<file>.provenance.json`` sidecar. A mixin of PartnersView: it uses the view's ``result``,
``ws``, ``direction``, ``partners()``, ``selected_ids()``, toggles, ``runner``, ``status``
and ``message``."""
from __future__ import annotations

import pandas as pd
from PySide6.QtWidgets import QApplication, QFileDialog

from services.connectivity.connectivity_partners import partners_by_type
from services.connectivity.partners_provenance import partners_provenance
from services.results.export import export_frame

FILE_TYPES = "CSV (*.csv);;Parquet (*.parquet)"


class PartnerExports:
    def _direction_name(self) -> str:
        return "inputs" if self.direction == "in" else "outputs"

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export partners", f"{self.result.root_id}_{self._direction_name()}.csv",
            FILE_TYPES)
        if path:
            self.export_partners(path)

    def _ask_group_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export partners by cell type",
            f"{self.result.root_id}_{self._direction_name()}_by_type.csv", FILE_TYPES)
        if path:
            self.export_groups(path)

    def export_partners(self, path: str) -> None:
        """Write the selected partners (all shown partners if none is selected)."""
        df = self.partners(self.direction)
        ids = self.selected_ids()
        n_shown = len(df)
        if ids:
            df = df[df["partner_root_id"].isin(ids)]
        self._write(df, path, f"{len(df):,} partners",
                    self._provenance_of(df, selected_of=n_shown if ids else None))

    def export_groups(self, path: str) -> None:
        """Write the "Partners by cell type" table of the shown partners (a selection of
        partners does not change it: it groups every partner shown)."""
        df = self.partners(self.direction)
        groups = partners_by_type(df)
        self._write(groups, path, f"{len(groups):,} cell types of {len(df):,} partners",
                    self._provenance_of(groups, partners=df, group_by="cell_type"))

    def _write(self, frame: pd.DataFrame, path: str, what: str, describe) -> None:
        def work(cancel=None):
            return export_frame(frame, path, cancel=cancel, provenance=describe())
        self.status.show_text(f"Exporting {what}…")
        self.runner.run(work, await_outcome=True,  # a file written is reported as written
                        on_result=lambda p: self._exported(p, what))

    def _provenance_of(self, frame: pd.DataFrame, *, partners: pd.DataFrame | None = None,
                       selected_of: int | None = None, group_by: str | None = None):
        """A function giving the provenance of ``frame`` (the partners written, or their
        groups by ``group_by`` of ``partners``); it reads the workspace (maybe the
        server), so the worker calls it. What it describes (the result, direction and
        toggles) is taken now, in the GUI thread."""
        ws, result, direction = self.ws, self.result, self.direction
        raw = result.inputs if direction == "in" else result.outputs
        no_segment = int(raw.loc[raw["partner_root_id"] == 0, "n_synapses"].sum())
        toggles = {"known_only": self.known_only.isChecked() and self.known_only.isEnabled(),
                   "proofread_only": (self.proofread_only.isChecked()
                                      and self.proofread_only.isEnabled())}
        app = QApplication.applicationVersion()

        def describe() -> dict | None:
            if ws is None:
                return None
            return partners_provenance(ws, result, direction, frame, partners=partners,
                                       group_by=group_by, selected_of=selected_of,
                                       without_no_segment=no_segment, app_version=app,
                                       **toggles)
        return describe

    def _exported(self, path, what: str) -> None:
        text = f"Exported {what} to {path}."
        self.status.show_text(text)
        self.message.emit(text)

"""Exports of the connectivity matrix view: the pairs (long CSV/Parquet), the matrix
(wide), and the figure (PNG/SVG/PDF). A mixin of ConnectivityMatrixView: it uses the
view's ``result``, ``cell_specs``, ``ws``, ``weight``, ``runner``, ``status``, ``plot``,
export buttons, ``message`` and ``_input_error``."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QFileDialog

from models.errors import ExportError
from services.connectivity.matrix_queries import matrix_long_frame, matrix_wide_frame
from services.connectivity.matrix_provenance import matrix_provenance
from services.results.export import export_frame


class MatrixExports:
    def _enable_exports(self) -> None:
        ok = self.result is not None
        # a matrix aggregated on disk holds only each pixel's pair: no list of every pair
        whole = ok and not self.result.matrix.pixel_pairs_only
        for b in (self.export_long, self.export_wide):
            b.setEnabled(whole)
            b.setToolTip(self.export_long_tip if b is self.export_long else
                         "Presynaptic cells × postsynaptic cells, zeros included")
            if ok and not whole:
                b.setToolTip("Not for a matrix aggregated on disk (too many pairs to hold): "
                             "its summary and type blocks are exact; export a smaller set")
        self.export_fig.setEnabled(ok)

    def _ask_export(self, layout: str) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export connectivity matrix", f"matrix_{self.weight}_{layout}.csv",
            "CSV (*.csv);;Parquet (*.parquet)")
        if path:
            self.export_matrix(path, layout)

    def export_matrix(self, path: str, layout: str = "long") -> None:
        """Long: one row per connected pair; wide: pre cells x post cells (zeros included).
        The file carries its provenance (matrix_provenance: context, cell sets, weight and
        formula, summary with the densities' formulas) in Parquet metadata or a sidecar."""
        m, weight = self.result.matrix, self.weight
        describe = self._provenance_of(layout)

        def work(cancel=None):
            frame = matrix_long_frame(m, weight) if layout == "long" else matrix_wide_frame(
                m, weight)
            export_frame(frame, path, cancel=cancel, provenance=describe(len(frame)))
            return len(frame)
        self.status.show_text("Exporting the matrix…")
        self.runner.run(work, await_outcome=True,  # a file written is reported as written
                        on_result=lambda n: self._exported(path, f"{n:,} rows"))

    def _provenance_of(self, layout: str):
        """A function of the rows written giving the shown matrix's provenance; it reads
        the workspace (maybe the server), so the worker calls it. What it describes is
        taken now, in the GUI thread: a new matrix or weight cannot change it."""
        ws, result, weight = self.ws, self.result, self.weight
        pre, post, order = self.cell_specs or (None, None, None)
        app = QApplication.applicationVersion()

        def describe(n_rows: int) -> dict | None:
            if ws is None:
                return None
            return matrix_provenance(ws, result, pre, post, weight, layout, n_rows, app,
                                     order=order)
        return describe

    def _ask_figure(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export figure", "matrix.png",
                                              "PNG image (*.png);;SVG drawing (*.svg);;"
                                              "PDF document (*.pdf)")
        if path:
            self.export_figure(path)

    def export_figure(self, path: str) -> None:
        try:
            self.plot.export_figure(path)
        except (ExportError, RuntimeError, ValueError) as exc:
            return self._input_error(ExportError(f"Could not write the figure '{path}': {exc}"))
        self._exported(path, "figure")

    def _exported(self, path: str, what: str) -> None:
        text = f"Exported {what} to {path}."
        self.status.show_text(text)
        self.message.emit(text)

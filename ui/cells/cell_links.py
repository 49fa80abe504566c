"""The cell inspector's Neuroglancer links: the shown cell's link (built in a worker,
opened, copied or shortened on the CAVE state server) and a link of result rows."""
from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

from models.errors import CavernError
from services.cells.cell_inspection import cell_link, short_cell_link
from ui.cells.link_dialog import link_summary_html
from ui.common.styles import NOTE_STYLE


class CellLinks:
    """Link actions of CellInspectorPanel (its widgets, runner and signals)."""

    def link_for_rows(self, frame, group_by: str | None = None):
        """Open a dialog that builds a Neuroglancer link of result rows; returns it."""
        from ui.cells.link_dialog import LinkDialog
        if self.source is None or not self.datastack:
            self._input_error(CavernError("No datastack is open.",
                                          hint="Pick a datastack first, then select rows."))
            return None
        dlg = LinkDialog(self.ws, frame, group_by=group_by,
                         site=self.site_combo.currentData(), parent=self)
        dlg.message.connect(self.message)
        self._link_dialogs = [d for d in self._link_dialogs if d.isVisible()] + [dlg]
        dlg.show()
        return dlg

    def _forget_link(self, *_a) -> None:
        self.link = None
        self.link_label.setText("")
        self.link_label.setVisible(False)
        self.short_button.setEnabled(self.record is not None)

    def _with_link(self, then) -> None:
        """Build the link for the shown cell (in a worker), then open or copy it."""
        if self.record is None:
            self._input_error(CavernError("Inspect a cell first."))
            return
        if self.link is not None:
            then(self.link)
            return
        kind = self.link_kind_combo.currentData()
        site = self.site_combo.currentData()
        self._set_status("Building the Neuroglancer link…")

        def done(link):
            self._set_link(link)
            then(link)

        self.link_runner.run(cell_link, self.ws, self.record, kind, site,
                             on_result=done, on_error=self._error)

    def _set_link(self, link) -> None:
        self.link = link
        self.link_label.setText(link_summary_html(link))
        self.link_label.setVisible(True)
        self.link_label.setStyleSheet(NOTE_STYLE if (link.n_dropped or link.notes) else "")
        self.linkReady.emit(link)

    def _shorten(self) -> None:
        """Upload the state to the CAVE state server for a short link (CAVE only)."""
        def go(link):
            self._set_status("Uploading the state for a short link…")
            self.link_runner.run(short_cell_link, self.ws, link,
                                 on_result=self._short_done, on_error=self._error)

        self._with_link(go)

    def _short_done(self, link) -> None:
        self._set_link(link)
        self.short_button.setEnabled(False)
        self._copy_url(link)

    def _open_url(self, link) -> None:
        if QDesktopServices.openUrl(QUrl(link.url, QUrl.ParsingMode.TolerantMode)):
            self._set_status("Opened the link in your web browser.")
        else:
            self._input_error(CavernError("No web browser could be started.",
                                    hint="Use Copy link and paste it into a browser."))

    def _copy_url(self, link) -> None:
        QGuiApplication.clipboard().setText(link.url)
        self._set_status(f"Link copied ({link.length:,} characters).")
        self.message.emit("Neuroglancer link copied to the clipboard.")

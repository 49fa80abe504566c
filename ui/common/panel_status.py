"""How a panel with a RequestStatusBar (``self.status``) and a ``message`` signal reports
a failure: in its own status line, and errors found before any request also in the
window's status line (ui.common.status_sink), like a request's."""
from __future__ import annotations

from models.errors import CancelledError, CavernError
from ui.common import status_sink


class PanelStatus:
    """Mixin for views that own ``status`` (RequestStatusBar) and ``message`` (Signal)."""

    def _failed(self, err: CavernError) -> None:
        self.status.show_text(str(err), error=not isinstance(err, CancelledError))
        self.message.emit(str(err))

    def _input_error(self, err: CavernError) -> None:
        """An error found before any request: here, and in the window's status line."""
        self._failed(err)
        status_sink.report_error(self, err)

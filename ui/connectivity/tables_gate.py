"""What a Connectivity view does until its panel has listed the context's tables.

The panel (ui/connectivity/connectivity_panel.py) lists the cell-type and synapse tables
of a new context in a worker. Until they arrive, the view's actions that need them are
disabled and say why (tooltip and status line). A ``request()`` made meanwhile, by a
caller that has just built the tab and asks at once, is kept (the newest one) and runs
when the tables arrive, reading them as a click would then. A failed listing keeps the
actions disabled with its message; the next context (another datastack or version)
lists again.
"""
from __future__ import annotations

from models.errors import CavernError


class TablesGate:
    """Mixin of the partners and matrix views: they call :meth:`gate` once with their
    actions, :meth:`held` first thing in ``request()``, :meth:`open_gate` when their
    context and tables are set. Uses the view's ``source``, ``status``, ``request`` and
    ``_input_error``."""

    _gated: dict = {}
    _waiting: str | None = None  # why the actions are off; None: the tables are listed
    _listing_failed = False
    _queued = False  # a request() waits for the tables

    def gate(self, *widgets) -> None:
        """The widgets that need the tables (their own tooltips are kept to restore)."""
        self._gated = {w: w.toolTip() for w in widgets}

    @property
    def tables_ready(self) -> bool:
        return self._waiting is None

    def wait_for_tables(self, text: str) -> None:
        """The context's tables are being listed (``text`` says so): actions off."""
        self._close_gate(text, failed=False)
        self.status.show_text(text)

    def tables_failed(self, err: CavernError) -> None:
        """The listing failed: the actions stay off with its message; a request that was
        waiting for it is dropped (said)."""
        dropped, self._queued = self._queued, False
        text = str(err)
        self._close_gate(text, failed=True)
        if dropped:
            text += " Your request was not started."
        self.status.show_text(text, error=True)

    def open_gate(self) -> None:
        """The tables are listed: actions on, and a request that waited runs now."""
        self._waiting, self._listing_failed = None, False
        for w, tip in self._gated.items():
            w.setEnabled(True)
            w.setToolTip(tip)
        queued, self._queued = self._queued, False
        if queued:
            self.request()

    def held(self) -> bool:
        """For ``request()``: True when it must not run now, because no datastack is open
        or the tables could not be listed (both said), or they are being listed (it runs
        once they are)."""
        if self.source is None:
            self._input_error(CavernError("Open a datastack first."))
            return True
        if self._waiting is None:
            return False
        if self._listing_failed:
            self._input_error(CavernError(self._waiting))
            return True
        self._queued = True
        self.status.show_text(f"{self._waiting} Your request starts once they are listed.")
        return True

    def _close_gate(self, text: str, failed: bool) -> None:
        self._waiting, self._listing_failed = text, failed
        if not failed:
            self._queued = False  # a request of the previous context does not carry over
        for w in self._gated:
            w.setEnabled(False)
            w.setToolTip(text)

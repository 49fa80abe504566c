"""Opening the Morphology view from the cell inspector: one window per inspector, reused,
following the inspector's workspace; a clicked synapse inspects its partner there, and
synapses selected on it open in the main window's Results."""
from __future__ import annotations

from PySide6.QtCore import Qt

from ui.morphology.morphology_view import MorphologyView


def open_morphology(panel, ws, root_id: int) -> MorphologyView:
    view = getattr(panel, "_morphology_view", None)
    if view is None:
        view = MorphologyView(panel)
        view.setWindowFlag(Qt.WindowType.Window, True)
        view.resize(1280, 800)
        view.partnerActivated.connect(panel.inspect)
        view.message.connect(panel.message)
        show = getattr(panel.window(), "show_result", None)  # the main window's Results
        if show is not None:
            view.resultReady.connect(show)
        panel._morphology_view = view
    view.setWindowTitle(f"Morphology of {root_id} · {ws.datastack}")
    view.set_context(ws)
    view.show_cell(root_id)
    view.show()
    view.raise_()
    return view

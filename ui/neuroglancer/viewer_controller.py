"""The live Neuroglancer viewer on the Qt side: start it, push Cavern's selection, hear back.

``services.links.live_viewer.LiveViewer`` calls back on the viewer's server thread; the
controller only emits a signal there, connected queued, so every Qt call happens on the GUI
thread. Selection states are built in a worker (nglui, up to thousands of points), applied
on the GUI thread; a newer selection makes an older one stale (one runner). The viewer stops
at quit (a lifecycle hook) and when the window goes away.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from dataclasses import replace

from models.errors import CancelledError, CavernError
from services.links.live_viewer import LiveViewer, Selection, selection_state
from services.links.partners_link import soma_positions
from ui.common import lifecycle
from ui.common.workers import RequestRunner

PUSH_DELAY_MS = 150  # a drag across table rows pushes one selection, not one per row
MAX_SOMA_LOOKUP = 300  # cells whose soma is looked up for one selection


class NeuroglancerController(QObject):
    inspectRequested = Signal("qint64")  # i over a segment, or a segment selected there
    segmentsSelected = Signal(list)  # root ids the user selected in the viewer
    selectionShown = Signal(dict)  # the state pushed to the viewer
    started = Signal(str)  # the viewer's URL
    labelsShown = Signal(object)  # services.links.segment_labels.SegmentLabels
    message = Signal(str)
    _event = Signal(object)  # a ViewerEvent, emitted on the viewer's server thread

    def __init__(self, parent: QObject | None = None, open_browser: bool = True):
        super().__init__(parent)
        self.open_browser = open_browser
        self.ws = None
        self.live = LiveViewer(self._event.emit)  # the only thing done on its thread
        self._event.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.runner = RequestRunner(self)
        self.labels_runner = RequestRunner(self)  # cell-type labels of the segments
        self.labels = None
        self._labels_for = None  # the workspace whose labels are shown (or loading)
        self._pending: Selection | None = None
        self._timer = QTimer(self, singleShot=True, interval=PUSH_DELAY_MS)
        self._timer.timeout.connect(self._push)
        live = self.live
        lifecycle.at_shutdown(live.stop)
        self.destroyed.connect(lambda *_a: live.stop())

    @property
    def running(self) -> bool:
        return self.live.running

    # ---- Cavern -> viewer ------------------------------------------------------------
    def set_context(self, ws) -> None:
        """A new datastack or version: the viewer shows its layers, the old selection goes."""
        self.ws = ws
        self._pending = None
        self.runner.cancel(quiet=True)
        if self.running and ws is not None:
            self._guard(lambda: self.live.start(ws.info))
            self._load_labels()

    def open_viewer(self) -> str | None:
        """Start (or reuse) the viewer, open it in the browser; returns its URL."""
        if self.ws is None:
            self.message.emit("Pick a datastack first: the viewer shows its layers.")
            return None
        url = self._guard(lambda: self.live.start(self.ws.info))
        if url is None:
            return None
        if self._pending is not None:
            self._timer.start()
        self._load_labels()
        self.started.emit(url)
        self.message.emit(f"Neuroglancer viewer at {url} (this computer only). Select cells "
                          "in Cavern to show them; press i over a cell there to inspect it.")
        if self.open_browser and not QDesktopServices.openUrl(QUrl(url)):
            self.message.emit(f"No web browser could be started: open {url} yourself.")
        return url

    def show_selection(self, sel: Selection) -> None:
        """Show this selection in the viewer (soon, once, if it is running)."""
        self._pending = sel
        if self.running:
            self._timer.start()

    def _push(self) -> None:
        sel, ws = self._pending, self.ws
        if sel is None or ws is None or not self.running:
            return
        ds = ws.info

        def build(cancel=None):
            chosen = sel
            if sel.soma_positions_vx is None and sel.root_ids:
                try:  # soma points and the view's centre, where the soma table knows them
                    somas = soma_positions(ws, sel.root_ids[:MAX_SOMA_LOOKUP], cancel)
                except CancelledError:
                    raise
                except CavernError:
                    somas = {}
                chosen = replace(sel, soma_positions_vx=somas)
            return selection_state(ds, chosen)

        def done(result):
            state, notes = result
            if not self.running or self.ws is not ws:
                return  # stopped, or another context since
            if self._guard(lambda: self.live.apply(ds, state) or True):
                self.live.notes = notes
                if notes:
                    self.message.emit("Neuroglancer viewer: " + " ".join(notes))
                self.selectionShown.emit(state)

        self.runner.run(build, on_result=done, on_error=self._error)

    def _load_labels(self) -> None:
        """Label the viewer's segments with their cell types (a worker reads the table)."""
        ws = self.ws
        if ws is None or not self.running or self._labels_for is ws:
            return
        self._labels_for, self.labels = ws, None

        def done(labels):
            if not self.running or self.ws is not ws:
                return
            if self._guard(lambda: self.live.set_labels(ws.info, labels.document)) is None:
                return
            self.labels = labels
            self.message.emit(
                f"Neuroglancer viewer: {labels.n_segments:,} cells labelled with their types "
                f"from {labels.table} (these labels are in this viewer only, not in links).")
            self.labelsShown.emit(labels)

        def failed(err):
            if not isinstance(err, CancelledError):
                self.message.emit(f"Neuroglancer viewer: no cell-type labels ({err})")

        from services.links.segment_labels import cell_type_labels
        self.labels_runner.run(cell_type_labels, ws, on_result=done, on_error=failed)

    def stop(self) -> None:
        self._timer.stop()
        self.runner.cancel(quiet=True)
        self.labels_runner.cancel(quiet=True)
        self._labels_for = self.labels = None
        self.live.stop()

    # ---- viewer -> Cavern (GUI thread) -------------------------------------------------
    def _deliver(self, event) -> None:
        ids = [int(i) for i in event.root_ids]
        if not ids:
            return
        if event.kind == "selected":
            self.segmentsSelected.emit(ids)
            self.inspectRequested.emit(ids[-1])
        elif event.kind == "inspect":
            self.inspectRequested.emit(ids[0])

    def _guard(self, fn):
        try:
            return fn()
        except CavernError as exc:
            self._error(exc)
            return None

    def _error(self, err) -> None:
        if not isinstance(err, CancelledError):
            self.message.emit(f"Neuroglancer viewer: {err}")

"""The "Figures" tab: the MICrONS tutorial's figures and data steps, point and click.
Soma map (figure 1), population histograms (3–5) and joins; the matrix figures (2, 6, 7)
live in the Connectivity tab's matrix view."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from services.workspace import Workspace
from ui.figures.join_view import JoinView
from ui.figures.population_view import PopulationView
from ui.figures.soma_map_view import SomaMapView


class FiguresPanel(QWidget):
    joinReady = Signal(object)  # a join's QueryResult, for the result table

    def __init__(self, parent=None):
        super().__init__(parent)
        self.soma_map = SomaMapView()
        self.populations = PopulationView()
        self.joins = JoinView()
        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(self.soma_map, "Soma map")
        self.tabs.addTab(self.populations, "Connections: synapses and sizes")
        self.tabs.addTab(self.joins, "Join tables")
        QVBoxLayout(self).addWidget(self.tabs)
        self.joins.joinReady.connect(self.joinReady)

    def set_context(self, ws: Workspace | None) -> None:
        for view in (self.soma_map, self.populations, self.joins):
            view.set_workspace(ws)

    def find_field(self):
        """Ctrl+F (the main window's Find): the field to type in on the figure shown (a
        join's filters, first then second; the cell of a population of a cell's partners),
        else a sentence saying this figure has nothing to search."""
        view = self.tabs.currentWidget()
        if view is self.joins:
            j = self.joins
            return j.right_filter if j.left_filter.hasFocus() else j.left_filter
        if view is self.populations:
            if not self.populations.root_edit.isHidden():
                return self.populations.root_edit
            return ("Nothing to search on this figure: choose the population \"a cell's "
                    "partners\" to type a root id.")
        return ("Nothing to search on the soma map: pick cells on it with Box select or "
                "Lasso.")

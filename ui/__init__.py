"""PySide6 + pyqtgraph: windows, panels, Qt item models, workers, dialogs."""

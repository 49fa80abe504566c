"""PySide6 + pyqtgraph: windows, panels, Qt item models, workers, dialogs."""
import pyqtgraph

# pyqtgraph's exit clean-up walks every object at interpreter exit and, with PySide6
# 6.12, crashes there ("bool_dealloc") after windows with plots were created and closed.
# Windows are deleted while Qt is up instead (ui.app.run_gui), so the clean-up is not needed.
pyqtgraph.setConfigOption("exitCleanup", False)

"""PySide6 + pyqtgraph: windows, panels, Qt item models, workers, dialogs.

pyqtgraph is not imported here: it loads with the first plot (the Cell, Connectivity and
Figures tabs are built when first shown), not at start-up. Its exit clean-up is switched
off where the app quits (ui.app.run_gui) and where the tests end (tests/conftest.py).
"""

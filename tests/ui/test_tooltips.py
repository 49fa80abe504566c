"""Every control of the main window that Cavern makes tells what it does (issue 16):
buttons, check boxes, drop-downs and text fields carry a tooltip. Qt's own parts (tab
scroll arrows, dock buttons, a table's corner button, a field's clear button) are not
ours to explain."""
from PySide6.QtWidgets import (QAbstractButton, QAbstractScrollArea, QAbstractSpinBox,
                               QComboBox, QDockWidget, QLineEdit, QMenuBar, QPlainTextEdit,
                               QTabBar, QToolBar)

from ui.main_window import MainWindow

CONTROLS = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox, QPlainTextEdit)
QT_PARTS = (QTabBar, QDockWidget, QToolBar, QMenuBar, QAbstractScrollArea, QLineEdit,
            QComboBox, QAbstractSpinBox)


def _ours(widget) -> bool:
    parent = widget.parent()
    if isinstance(parent, QT_PARTS) and not isinstance(widget, QPlainTextEdit):
        return False  # a part Qt builds inside another widget
    return True


def test_every_control_has_a_tooltip(qtbot, ini_settings, sample_source):
    w = MainWindow(sample_source, ini_settings, "pinky100_sample", "test")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.browser.tree.topLevelItemCount() > 0, timeout=10000)
    silent = sorted({f"{type(c).__name__} '{getattr(c, 'text', lambda: '')()}' in "
                     f"{type(c.parent()).__name__}"
                     for cls in CONTROLS for c in w.findChildren(cls)
                     if _ours(c) and not c.toolTip().strip()})
    assert silent == [], "\n".join(silent)


def _silent(widget):
    return sorted({f"{type(c).__name__} '{getattr(c, 'text', lambda: '')()}' in "
                   f"{type(c.parent()).__name__}"
                   for cls in CONTROLS for c in widget.findChildren(cls)
                   if _ours(c) and not c.toolTip().strip()})


def test_dialogs_and_views_explain_their_controls(qtbot, sample_source):
    import pandas as pd

    from services.workspace import Workspace
    from ui.cells.link_dialog import LinkDialog
    from ui.morphology.morphology_view import MorphologyView
    ws = Workspace(sample_source, "pinky100_sample")
    rows = pd.DataFrame({"pt_root_id": [648518346349539437], "cell_type": ["e"]})
    for widget in (LinkDialog(ws, rows), MorphologyView()):
        qtbot.addWidget(widget)
        assert _silent(widget) == [], type(widget).__name__ + ": " + "\n".join(_silent(widget))

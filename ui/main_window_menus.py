"""The main window's menu bar: File, View and Help, and the Cells menu with the hooks that
add to it (link import, tutorial links, the Neuroglancer viewer). Kept apart from
ui/main_window.py, which builds the window and routes its requests."""
from __future__ import annotations

from functools import cached_property

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu


class WindowMenus:
    """Mixin of MainWindow (the menus' actions call the window's slots and panels)."""

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.open_action = QAction("&Open datastack folder…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_datastack_folder)
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        self.save_session_action = QAction("&Save session…", self, shortcut="Ctrl+Shift+S")
        self.save_session_action.triggered.connect(lambda: self.save_session())
        self.open_session_action = QAction("Open sess&ion…", self, shortcut="Ctrl+Shift+O")
        self.open_session_action.triggered.connect(lambda: self.open_session())
        file_menu.addAction(self.save_session_action)
        file_menu.addAction(self.open_session_action)
        from ui.common.session import reopen_enabled
        self.reopen_action = QAction("&Reopen last session at start", self, checkable=True)
        self.reopen_action.setToolTip("Save the session when Cavern quits and open it "
                                      "again at the next start")
        self.reopen_action.setChecked(reopen_enabled(self.settings))
        self.reopen_action.toggled.connect(self._reopen_toggled)
        file_menu.addAction(self.reopen_action)
        file_menu.addSeparator()
        for action in self.results.export_actions():
            file_menu.addAction(action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.file_menu = file_menu
        self.view_menu = mb.addMenu("&View")
        self.view_menu.addAction(self.browser_dock.toggleViewAction())
        self.view_menu.addAction(self.builder_dock.toggleViewAction())
        help_menu = mb.addMenu("&Help")
        self.help_action = QAction("Cavern &user guide", self,
                                   shortcut=QKeySequence.StandardKey.HelpContents)
        self.help_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.help_action.triggered.connect(lambda: self.show_help())
        help_menu.addAction(self.help_action)
        self.find_action = QAction("&Find (focus the filter)", self,
                                   shortcut=QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self.focus_filter)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.find_action)
        about = QAction("&About Cavern", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self.help_menu = help_menu

    def _build_cells_menu(self) -> None:
        """Cells, before Help: inspect a cell, link the selected result rows (also in the
        Results table's right-click menu), and what the link, tutorial and viewer hooks add."""
        self.link_action = QAction("Neuroglancer link of selected rows…", self)
        self.link_action.triggered.connect(self._link_selection)
        self.results.view.addAction(self.link_action)
        self.results.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        cells = self.menuBar().insertMenu(self.help_menu.menuAction(), QMenu("&Cells", self))
        cells_menu = cells.menu()
        inspect = QAction("&Inspect a cell…", self, shortcut="Ctrl+I")
        inspect.triggered.connect(lambda: (self.tabs.setCurrentIndex(1),
                                           self.inspector.id_edit.setFocus()))
        cells_menu.addAction(inspect)
        cells_menu.addAction(self.link_action)
        from ui.neuroglancer.link_import_dialog import install_link_import  # paste a link
        self.import_link_action = install_link_import(self, cells_menu)
        from ui.figures.tutorial_hooks import install_tutorial_links  # Copy as Python, selection
        install_tutorial_links(self)
        self.viewer_action = QAction("&Neuroglancer viewer", self)  # opens self.neuroglancer
        self.viewer_action.setToolTip("A live Neuroglancer viewer on this computer, in sync "
                                      "with Cavern")
        self.viewer_action.triggered.connect(lambda: self.neuroglancer.open_viewer())
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.viewer_action)

    @cached_property
    def neuroglancer(self):
        """The live viewer's controller, made when first used (View > Neuroglancer viewer, a
        test, a link import): it follows the context and self.cell_selection from then on."""
        from ui.neuroglancer.window_hooks import install_viewer
        return install_viewer(self, self.viewer_action)

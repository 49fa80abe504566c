"""The main window's CAVE actions: connect, replace a rejected token, save a version offline.

Kept out of main_window.py so the window only knows (source, datastack) entries; a CAVE
connection is one more entry whose source is a CaveSource.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QLabel, QListWidget,
                               QListWidgetItem, QMessageBox, QVBoxLayout)

from models.errors import AuthError, CavernError
from ui.cave.cave_connect_dialog import CaveConnectDialog, TokenDialog
from ui.common.workers import RequestRunner

MAX_RECENT = 8


def default_source_factory(server: str, token: str | None):
    from services.cave.cave_source import CaveSource
    return CaveSource.with_disk_cache(server, token)


class CaveController(QObject):
    def __init__(self, window, token_store=None, source_factory=default_source_factory):
        super().__init__(window)
        if token_store is None:
            from services.cave.token_store import TokenStore
            token_store = TokenStore()
        self.window = window
        self.tokens = token_store
        self.source_factory = source_factory
        self.save_runner = RequestRunner(self)
        self.connect_action = QAction("&Connect to CAVE server…", window)
        self.connect_action.setShortcut("Ctrl+Shift+O")
        self.connect_action.triggered.connect(self.connect_dialog)
        self.save_action = QAction("&Save version for offline use…", window)
        self.save_action.setToolTip("Copy tables of this CAVE version into a local datastack folder")
        self.save_action.triggered.connect(self.save_offline_dialog)
        self.token_action = QAction("Replace CAVE &token…", window)
        self.token_action.triggered.connect(lambda: self.replace_token())
        menu = window.file_menu
        first = menu.actions()[0]
        menu.insertAction(first, self.connect_action)
        menu.insertAction(first, self.save_action)
        menu.insertAction(first, self.token_action)
        menu.insertSeparator(first)
        window.contextChanged.connect(self._context_changed)
        # Every request of the window reports to its sink; a rejected token, from whichever
        # panel, comes here (terms of service: the sink's own dialog).
        window.sink.auth_handler = self.offer_token
        window.request_status.track(self.save_runner)  # the offline copy's progress
        self._context_changed(window.workspace)

    # ---- connect -------------------------------------------------------------------
    def recent_servers(self) -> list[str]:
        value = self.window.settings.value("recent_servers", [], list) or []
        return [str(v) for v in value if v]

    def connect_dialog(self) -> CaveConnectDialog:
        dlg = CaveConnectDialog(self.tokens, self.source_factory, self.recent_servers(), self.window)
        dlg.accepted.connect(lambda: self.add_connection(dlg.result_source, dlg.result_datastack))
        dlg.open()
        return dlg

    def add_connection(self, source, datastack: str) -> None:
        server = source.server
        recent = [server] + [s for s in self.recent_servers() if s != server]
        self.window.settings.setValue("recent_servers", recent[:MAX_RECENT])  # addresses only
        host = urlparse(server).netloc or server
        self.window.add_datastack(source, datastack, label=f"{datastack} @ {host}")

    # ---- tokens ----------------------------------------------------------------------
    def offer_token(self, err: AuthError) -> bool:
        """The server rejected the token (any request of the window): offer a new one.
        Returns whether a new token was stored."""
        src = self.window.source
        if getattr(src, "kind", "") != "cave":
            return False
        answer = QMessageBox.question(
            self.window, "Token rejected", f"{err}\n\nPaste a new token for {src.server}?")
        return answer == QMessageBox.StandardButton.Yes and self.replace_token()

    def replace_token(self, token: str | None = None) -> bool:
        """Store a new token for the current server and rebuild its connections."""
        src = self.window.source
        if getattr(src, "kind", "") != "cave":
            self.window.show_error("Pick a CAVE datastack first (File > Connect to CAVE server).")
            return False
        if token is None:
            dlg = TokenDialog(src.server, self.window)
            if dlg.exec() != QDialog.DialogCode.Accepted or not dlg.token():
                return False
            token = dlg.token()
        try:
            in_keyring = self.tokens.set_token(src.server, token)
        except CavernError as exc:
            self.window.show_error(exc)
            return False
        new = self.source_factory(src.server, self.tokens.get_token(src.server))
        combo = self.window.datastack_combo
        for i in range(combo.count()):
            s, ds = combo.itemData(i)
            if s is src:
                combo.setItemData(i, (new, ds))
        self.window.source = new
        self.window.select_datastack(self.window.datastack, source=new)
        src.close()  # its sessions used the old token
        where = "in the system keyring" if in_keyring else "for this session only"
        self.window.show_message(f"New token stored {where}.")
        return True

    # ---- offline copy ------------------------------------------------------------------
    def _context_changed(self, ws) -> None:
        is_cave = ws is not None and ws.source.kind == "cave"
        self.save_action.setEnabled(is_cave)
        self.token_action.setEnabled(is_cave)

    def save_offline_dialog(self) -> None:
        w = self.window
        tables = [w.browser.tree.topLevelItem(i).text(0)
                  for i in range(w.browser.tree.topLevelItemCount())]
        dlg = QDialog(w)
        dlg.setWindowTitle("Save version for offline use")
        lst = QListWidget()
        for name in tables:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            lst.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dlg.accept)
        buttons.rejected.connect(dlg.reject)
        lay = QVBoxLayout(dlg)
        lay.addWidget(QLabel(f"Tables of {w.datastack} version {w.version} to copy into a "
                             "local datastack folder (each table is fetched whole, page by "
                             "page past the server's row limit; a table that could not be "
                             "fetched whole says what is missing in its notice):"))
        lay.addWidget(lst)
        lay.addWidget(buttons)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        chosen = [lst.item(i).text() for i in range(lst.count())
                  if lst.item(i).checkState() == Qt.CheckState.Checked]
        folder = QFileDialog.getExistingDirectory(w, "Folder for the offline datastack")
        if folder:
            self.save_offline(chosen, Path(folder) / f"{w.datastack}_v{w.version}")

    def save_offline(self, tables: list[str], folder: Path):
        from services.local.offline_copy import save_version_offline
        w = self.window
        src, ds, v = w.source, w.datastack, w.version
        w.show_message(f"Saving {len(tables)} tables of {ds} v{v}…")

        def work(cancel):
            # the copy's per-table progress goes through the token, like a query's pages
            def progress(done: int, total: int, name: str) -> None:
                cancel.report(done, total, 0, f"saving {name}")
            return save_version_offline(src, ds, v, tables, folder, cancel=cancel,
                                        progress=progress)

        return self.save_runner.run(work, on_result=self._saved)

    def _saved(self, folder) -> None:
        w = self.window
        w.open_datastack_folder(str(folder))
        w.show_message(f"Saved for offline use in {folder}; opened as a local datastack.")

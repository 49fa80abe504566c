"""Connect to a CAVE server: server address, token (OS keyring), datastack.

The dialog never shows or stores a token anywhere but the token store (OS keyring, or
memory for this session when the keyring is unsafe). Talking to the server happens in a
worker with progress and Cancel.
"""
from __future__ import annotations

import html
from typing import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QMessageBox, QPushButton, QVBoxLayout, QWidget)

from models.errors import AuthError, CavernError, InvalidInputError, PermissionDeniedError
from services.cave.token_store import normalise_server
from ui.common import status_sink, styles
from ui.common.request_status_bar import RequestStatusBar
from ui.common.workers import RequestRunner

DEFAULT_SERVER = "https://global.daf-apis.com"


class TokenDialog(QDialog):
    """Paste a CAVE token; links to the server's token pages."""

    def __init__(self, server: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("CAVE token")
        self.edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText("paste your token here")
        info = QLabel(
            f"Cavern keeps the token for <b>{server}</b> in your system keyring, nowhere else."
            f"<br>Get one: <a href='{server}/auth/api/v1/create_token'>create a new token</a> "
            f"or <a href='{server}/auth/api/v1/user/token'>see your existing tokens</a> "
            "(sign in with your institution's account).")
        info.setOpenExternalLinks(True)
        info.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(info)
        lay.addWidget(self.edit)
        lay.addWidget(buttons)

    def token(self) -> str:
        return self.edit.text().strip()


class CaveConnectDialog(QDialog):
    """Pick a server and datastack; ``result_source``/``result_datastack`` after accept."""

    def __init__(self, token_store, make_source: Callable[[str, str | None], object],
                 recent: list[str] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Connect to a CAVE server")
        self.setMinimumWidth(560)
        self.tokens = token_store
        self.make_source = make_source
        self.result_source = None
        self.result_datastack = ""
        self._source = None
        self.runner = RequestRunner(self)

        self.server_combo = QComboBox(editable=True)
        servers = list(dict.fromkeys((recent or []) + [DEFAULT_SERVER]))
        self.server_combo.addItems(servers)
        self.token_label = QLabel()
        self.keyring_label = QLabel()  # a warning when tokens cannot be kept safely
        self.keyring_label.setWordWrap(True)
        self.keyring_label.setStyleSheet(styles.WARNING_STYLE)
        self.keyring_label.setVisible(False)
        self.set_token_button = QPushButton("Set token…")
        self.forget_token_button = QPushButton("Forget token")
        self.fetch_button = QPushButton("List datastacks")
        self.datastack_combo = QComboBox(minimumContentsLength=28)
        self.datastack_combo.setEnabled(False)
        # One status line (message, progress, Cancel); the dialog's requests report to it
        # through its own sink, so a rejected token is offered here, for this server.
        self.status = RequestStatusBar(self.runner, stacked=True)
        self.status.label.setOpenExternalLinks(True)
        self.status.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.progress, self.cancel_button = self.status.progress, self.status.cancel_button
        self.cancel_button.setText("Cancel request")
        self.sink = status_sink.install(self, status_sink.StatusSink(self._sink_show, self))
        self.sink.auth_handler = self._offer_token
        self.sink.terms_handler = None  # the status line links to the terms page
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Connect")
        self.ok_button.setEnabled(False)

        token_row = QHBoxLayout()
        token_row.addWidget(self.token_label, 1)
        token_row.addWidget(self.set_token_button)
        token_row.addWidget(self.forget_token_button)
        ds_row = QHBoxLayout()
        ds_row.addWidget(self.datastack_combo, 1)
        ds_row.addWidget(self.fetch_button)
        form = QFormLayout()
        form.addRow("Server", self.server_combo)
        form.addRow("Token", token_row)
        form.addRow("", self.keyring_label)
        form.addRow("Datastack", ds_row)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)

        self.server_combo.currentTextChanged.connect(self._server_changed)
        self.set_token_button.clicked.connect(self.ask_token)
        self.forget_token_button.clicked.connect(self._forget_token)
        self.fetch_button.clicked.connect(self.fetch_datastacks)
        self.runner.busyChanged.connect(self._busy)
        self.runner.failed.connect(self._failed)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.datastack_combo.currentIndexChanged.connect(
            lambda i: self.ok_button.setEnabled(i >= 0 and self._source is not None))
        self._server_changed(self.server_combo.currentText())

    # ---- token -------------------------------------------------------------------
    def server(self) -> str:
        return normalise_server(self.server_combo.currentText())

    def _server_changed(self, _text: str) -> None:
        self._source = None
        self.datastack_combo.clear()
        self.datastack_combo.setEnabled(False)
        try:
            server = self.server()
        except InvalidInputError as exc:
            self.token_label.setText("")
            self._say(str(exc), error=True)
            return
        self._say("")
        has = bool(self.tokens.get_token(server))
        warning = self.tokens.insecure_reason()
        self.token_label.setText("a token is stored for this server" if has
                                 else "no token yet: public datastacks may still need one")
        self.keyring_label.setText(warning)
        self.keyring_label.setVisible(bool(warning))
        self.forget_token_button.setEnabled(has)

    def ask_token(self) -> bool:
        try:
            server = self.server()
        except InvalidInputError as exc:
            self._say(str(exc), error=True)
            return False
        dlg = TokenDialog(server, self)
        if dlg.exec() != QDialog.DialogCode.Accepted or not dlg.token():
            return False
        try:
            self.tokens.set_token(server, dlg.token())
        except CavernError as exc:
            self._say(str(exc), error=True)
            return False
        self._server_changed(server)
        return True

    def _forget_token(self) -> None:
        try:
            self.tokens.forget_token(self.server())
        except CavernError as exc:
            # the token may still be stored: say so and leave "Forget token" to try again
            self._server_changed(self.server_combo.currentText())
            self._say(str(exc), error=True)
            self.forget_token_button.setEnabled(True)
            return
        self._server_changed(self.server_combo.currentText())
        self._say("The token for this server is forgotten.")

    # ---- datastacks --------------------------------------------------------------
    def fetch_datastacks(self) -> None:
        try:
            server = self.server()
        except InvalidInputError as exc:
            self._say(str(exc), error=True)
            return
        token = self.tokens.get_token(server)
        self._say(f"Asking {server} for its datastacks…")

        def work(cancel):
            source = self.make_source(server, token)
            cancel.raise_if_cancelled()
            return source, sorted(source.datastacks())

        self.runner.run(work, on_result=self._datastacks_loaded)

    def _datastacks_loaded(self, result) -> None:
        self._source, names = result
        self.datastack_combo.clear()
        self.datastack_combo.addItems(names)
        self.datastack_combo.setEnabled(bool(names))
        idx = self.datastack_combo.findText("minnie65_public")
        self.datastack_combo.setCurrentIndex(max(idx, 0))
        self.ok_button.setEnabled(bool(names))
        self._say(f"{len(names)} datastacks on this server." if names
                  else "This server lists no datastacks you can read.")

    def _sink_show(self, text: str, kind: str, _ms: int) -> None:
        """Where the sink shows this dialog's request errors (after _failed, so it only
        adds the words that help: a link to the terms, the Set token hint)."""
        self._failed_text(text, kind)

    def _failed(self, err: CavernError) -> None:
        self._last_error = err  # the sink shows it right after (see _failed_text)

    def _failed_text(self, text: str, kind: str) -> None:
        err = getattr(self, "_last_error", None)
        self._last_error = None
        text = html.escape(text)
        if isinstance(err, PermissionDeniedError) and err.tos_url:
            text += (f" <a href='{html.escape(err.tos_url, quote=True)}'>Open the terms of "
                     "service</a>")
        if isinstance(err, AuthError):
            text += " Use “Set token…” to replace it."
        self.status.show_text(text, kind, rich=True)

    def _offer_token(self, err: AuthError) -> bool:
        answer = QMessageBox.question(
            self, "Token rejected", f"{err}\n\nPaste a new token for {self.server()}?")
        return answer == QMessageBox.StandardButton.Yes and self.ask_token()

    def _busy(self, busy: bool) -> None:
        self.fetch_button.setEnabled(not busy)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.show_text(text, "error" if error else "")

    def _accept(self) -> None:
        if self._source is None or self.datastack_combo.currentIndex() < 0:
            return
        self.result_source = self._source
        self.result_datastack = self.datastack_combo.currentText()
        self.accept()


def open_url(url: str) -> None:
    QDesktopServices.openUrl(QUrl(url))

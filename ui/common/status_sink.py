"""The one channel every request reports through: errors, progress and results' notes.

A window (or a dialog with its own status line) installs a :class:`StatusSink` on itself;
every RequestRunner below it in the QObject tree reports there (``route_*``, called by the
runner on the GUI thread), and so can any widget (``report_error``/``report_note``). The
sink shows the text in one place, in the colour of its kind (ui.common.styles), and asks
the user what to do where an answer helps:

- AuthError: the sink's ``auth_handler`` (the main window's: offer a new CAVE token);
- PermissionDeniedError with ``tos_url``: offer to open the terms of service page.

Only one such question is open at a time; errors that arrive meanwhile are only shown.
A runner with no sink above it (a panel tested on its own) reports nowhere else.
"""
from __future__ import annotations

import weakref
from typing import Callable

import shiboken6
from PySide6.QtCore import QObject, Signal

from models.errors import AuthError, CancelledError, CavernError, PermissionDeniedError
from ui.common import styles

ERROR_MS, NOTE_MS = 15000, 10000

_sinks: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # owner QObject -> sink


class StatusSink(QObject):
    shown = Signal(str, str)  # text, kind ("", "note", "warning", "error")
    errorReported = Signal(object)  # CavernError (never CancelledError)
    progressReported = Signal(object, object)  # runner, services.source.Progress
    tokenOffered = Signal(object)  # the AuthError the user was asked about
    termsOffered = Signal(object)  # the PermissionDeniedError with a tos_url

    def __init__(self, show: Callable[[str, str, int], None], parent: QObject | None = None):
        """``show(text, kind, timeout_ms)`` puts a message where the user sees it."""
        super().__init__(parent)
        self._show = show
        self.kind = ""
        self.text = ""
        self.auth_handler: Callable[[AuthError], None] | None = None
        self.terms_handler: Callable[[PermissionDeniedError], None] | None = ask_open_terms
        self._asking = False

    # ---- what is shown -----------------------------------------------------------------
    def show(self, text: str, kind: str = "", timeout_ms: int = NOTE_MS) -> None:
        self.text, self.kind = str(text), kind
        self._show(self.text, kind, timeout_ms)
        self.shown.emit(self.text, kind)

    def note(self, text: str, timeout_ms: int = NOTE_MS) -> None:
        self.show(text, "", timeout_ms)

    def warn(self, text: str, timeout_ms: int = NOTE_MS) -> None:
        self.show(text, "warning", timeout_ms)

    def error(self, err) -> None:
        """Show an error (a CavernError or text) and ask what helps, if anything does."""
        if isinstance(err, CancelledError):
            self.note(str(err), 5000)
            return
        self.show(str(err), "error", ERROR_MS)
        if not isinstance(err, CavernError):
            return
        self.errorReported.emit(err)
        if isinstance(err, AuthError) and self.auth_handler is not None:
            self._ask(self.auth_handler, err, self.tokenOffered)
        elif (isinstance(err, PermissionDeniedError) and err.tos_url
              and self.terms_handler is not None):
            self._ask(self.terms_handler, err, self.termsOffered)

    def _ask(self, handler, err, signal) -> None:
        if self._asking:
            return  # one question at a time: a burst of failures asks once
        self._asking = True
        try:
            signal.emit(err)
            handler(err)
        finally:
            self._asking = False

    def result(self, value) -> None:
        """A request succeeded: its notes (missing rows, nearest version...) are worth a
        line. (An older error stays as it is, red, until the next message: every message
        sets its own colour, so a success is never shown red.)"""
        notes = [str(n) for n in (getattr(value, "notes", None) or ()) if n]
        if notes:
            self.warn(" ".join(dict.fromkeys(notes)))

    def progress(self, runner, progress) -> None:
        self.progressReported.emit(runner, progress)


# ---- where a sink is found ----------------------------------------------------------------
def install(owner: QObject, sink: StatusSink) -> StatusSink:
    """Everything under ``owner`` (its QObject children, recursively) reports to ``sink``."""
    _sinks[owner] = sink
    return sink


def sink_for(obj) -> StatusSink | None:
    """The sink of the nearest owner above ``obj`` (``obj`` included), or None."""
    while obj is not None:
        if not shiboken6.isValid(obj):
            return None
        sink = _sinks.get(obj)
        if sink is not None and shiboken6.isValid(sink):
            return sink
        obj = obj.parent()
    return None


def route_error(runner, err) -> None:
    sink = sink_for(runner)
    if sink is not None:
        sink.error(err)


def route_result(runner, value) -> None:
    sink = sink_for(runner)
    if sink is not None:
        sink.result(value)


def route_progress(runner, progress) -> None:
    sink = sink_for(runner)
    if sink is not None:
        sink.progress(runner, progress)


def report_error(origin, err) -> None:
    """An error found without a request (a mistyped id): shown like a request's."""
    route_error(origin, err)


def report_note(origin, text: str, kind: str = "") -> None:
    sink = sink_for(origin)
    if sink is not None:
        sink.show(text, kind)


# ---- the standard places to show a message ------------------------------------------------
def status_bar_sink(bar, parent: QObject | None = None) -> StatusSink:
    """A sink showing in a QStatusBar. A message put there by anyone else (``showMessage``)
    takes the plain colour, so a success never stays red after an error."""
    state = {"text": None}

    def show(text: str, kind: str, timeout_ms: int) -> None:
        state["text"] = text
        bar.setStyleSheet(styles.status_bar_style(kind))
        bar.showMessage(text, timeout_ms)

    def changed(text: str) -> None:
        if text != state["text"]:
            state["text"] = None
            bar.setStyleSheet("")

    bar.messageChanged.connect(changed)
    return StatusSink(show, parent)


def label_sink(status, parent: QObject | None = None) -> StatusSink:
    """A sink showing in a RequestStatusBar (a dialog's own status line)."""
    return StatusSink(lambda text, kind, _ms: status.show_text(text, kind), parent)


def ask_open_terms(err: PermissionDeniedError) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QApplication, QMessageBox
    answer = QMessageBox.question(QApplication.activeWindow(), "Terms of service",
                                  f"{err}\n\nOpen the terms of service page in your browser?")
    if answer == QMessageBox.StandardButton.Yes:
        QDesktopServices.openUrl(QUrl(err.tos_url))

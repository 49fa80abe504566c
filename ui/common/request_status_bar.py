"""A status line for one panel's requests: message, progress and Cancel, tied to runners.

The message keeps the colour of its kind (ui.common.styles) until the next message, which
always sets its own: a success after an error is never red. While a request runs, the bar
is determinate when the service reports a total ("page 3 of 11 · 412,000 rows ·
61,000 rows/s · about 20 s left") and busy otherwise.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from ui.common import styles
from ui.common.workers import RequestRunner


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{max(s, 1)} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s" if s < 600 else f"{round(s / 60)} min"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def progress_text(p) -> str:
    """One line for a services.source.Progress."""
    parts = []
    what = (p.what or "").strip()
    if what:
        parts.append(what)
    if p.total:  # services that say nothing else count pages (CAVE answers)
        parts.append(f"{p.done:,} of {p.total:,} done" if what
                     else f"page {p.done:,} of {p.total:,}")
    if p.rows:
        parts.append(f"{p.rows:,} rows")
    if p.rate and p.elapsed_s >= 1.0:  # a rate from the first milliseconds is noise
        parts.append(f"{p.rate:,.0f} rows/s")
    if p.remaining_s is not None:
        parts.append(f"about {_duration(p.remaining_s)} left")
    return " · ".join(parts)


class RequestStatusBar(QWidget):
    """Shows what the runners are doing; a message stays until the next one.

    ``runners``: the first is ``runner``; Cancel cancels whichever is busy. ``compact``
    hides the message label (the main window's status bar shows messages itself);
    ``stacked`` puts the progress under the message (narrow dialogs).
    """

    def __init__(self, runner: RequestRunner, *more: RequestRunner,
                 parent: QWidget | None = None, compact: bool = False,
                 stacked: bool = False):
        super().__init__(parent)
        self.runner = runner
        self.runners: list[RequestRunner] = []
        self.kind = ""
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setVisible(not compact)
        self.detail = QLabel("")  # what the running request reported last
        self.detail.setStyleSheet(styles.MUTED_STYLE)
        self.detail.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy until a total is reported
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        self.progress.setMaximumHeight(16)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel", toolTip="Stop this request (what was already "
                                                           "shown stays)")
        self.cancel_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.cancel_button.setVisible(False)
        if compact:  # in a status bar: only as wide as what it shows
            self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        if stacked:
            self.progress.setMaximumWidth(16777215)
            lay = QVBoxLayout(self)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(self.label)
            row = QHBoxLayout()
            row.addWidget(self.progress, 1)
            row.addWidget(self.detail)
            row.addWidget(self.cancel_button)
            lay.addLayout(row)
        else:
            lay = QHBoxLayout(self)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(self.label, 1)
            lay.addWidget(self.detail)
            lay.addWidget(self.progress)
            lay.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(self.cancel)
        for r in (runner, *more):
            self.track(r)

    def track(self, runner: RequestRunner) -> None:
        """Show this runner's busy state and progress too."""
        self.runners.append(runner)
        runner.busyChanged.connect(self._busy)
        runner.progressed.connect(self.show_progress)

    def cancel(self) -> None:
        for r in self.runners:
            if r.busy:
                r.cancel()

    @property
    def busy(self) -> bool:
        return any(r.busy for r in self.runners)

    def _busy(self, started: bool) -> None:
        busy = self.busy
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy and not started:
            return  # another tracked request still runs: keep its progress
        # a new request starts busy (no total yet); an ended one leaves no progress behind
        self.progress.setRange(0, 0)
        self.detail.clear()
        self.detail.setVisible(False)

    def show_progress(self, p) -> None:
        if not self.busy:
            return
        if p.total:
            self.progress.setRange(0, int(p.total))
            self.progress.setValue(min(int(p.done), int(p.total)))
        else:
            self.progress.setRange(0, 0)
        text = progress_text(p)
        self.detail.setText(text)
        self.detail.setVisible(bool(text))

    # ---- messages --------------------------------------------------------------------
    def show_text(self, text: str, kind="", error: bool = False, rich: bool = False) -> None:
        """``kind``: "", "note", "warning" or "error" (``error=True`` or ``kind=True`` is
        "error"). ``rich``: the text is HTML (e.g. a link)."""
        if kind is True or error:
            kind = "error"
        elif kind is False or kind is None:
            kind = ""
        self.kind = kind
        self.label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        self.label.setText(text)
        self.label.setStyleSheet(styles.label_style(kind))

    def text(self) -> str:
        return self.label.text()

    @property
    def is_error(self) -> bool:
        return self.kind == "error"

"""A status line for one panel's requests: message, busy bar and Cancel, tied to a RequestRunner."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ui.common.workers import RequestRunner


class RequestStatusBar(QWidget):
    """Shows what the runner is doing; errors stay visible (red) until the next request."""

    def __init__(self, runner: RequestRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator: the services report no fraction
        self.progress.setMaximumWidth(140)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.progress)
        lay.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(lambda: runner.cancel())
        runner.busyChanged.connect(self._busy)

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)

    def show_text(self, text: str, error: bool = False) -> None:
        self.label.setText(text)
        self.label.setStyleSheet("color: #b03a2e;" if error else "")

    @property
    def is_error(self) -> bool:
        return bool(self.label.styleSheet())

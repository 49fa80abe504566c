"""The user guide inside the app (F1): HTML pages of resources/help, one per panel, read
with importlib.resources (so they work from a PyInstaller bundle too)."""
from __future__ import annotations

from importlib.resources import files

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget

PAGES = ("index", "tables", "query", "results", "cell", "connectivity", "figures")


def help_html(page: str) -> str:
    """The page's HTML ("index" when there is no such page)."""
    name = page if page in PAGES else "index"
    return (files("resources") / "help" / f"{name}.html").read_text(encoding="utf-8")


class HelpBrowser(QDialog):
    """A small non-modal window; links between pages stay inside it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Cavern user guide")
        self.setObjectName("CavernHelp")
        self.browser = QTextBrowser(openLinks=False)
        self.browser.anchorClicked.connect(self._follow)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.browser)
        self.resize(560, 520)
        self.page = ""

    def show_page(self, page: str) -> None:
        self.page = page if page in PAGES else "index"
        self.browser.setHtml(help_html(self.page))
        self.show()
        self.raise_()

    def _follow(self, url: QUrl) -> None:
        target = url.toString()
        if target.startswith(("http://", "https://")):
            from PySide6.QtGui import QDesktopServices
            QDesktopServices.openUrl(url)
            return
        self.show_page(target.rsplit("/", 1)[-1].removesuffix(".html"))

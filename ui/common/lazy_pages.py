"""Tab pages built when first needed: the main window's Cell, Connectivity and Figures
tabs import pandas, pyqtgraph and their plots, which a start on the Results tab never uses.

A page starts as a light placeholder in its tab. It is built (and swapped into the same
tab index, the current index kept) when the tab is first shown or the page is first asked
for (``window.inspector`` etc. are :class:`LazyPage` attributes, so callers and tests read
them as before). What the page needs wiring to is connected in hooks, run once it exists:

    pages = LazyPages(tabs)
    pages.add("connectivity", "Connectivity", make_wired_panel)  # a placeholder tab for now
    pages.when_built("connectivity", lambda panel: ...)  # now if built, else after its build
    pages.built("connectivity")                         # the panel, or None: builds nothing

Code that only looks (which page is current, what a session saves) uses ``built`` and
``built_pages``; :func:`when_built` and :func:`built_page` also take a window without lazy
pages (a test's fake), whose panels are plain attributes.

A page is handed over as soon as it is built and wired; nothing here waits for it. A page
that reads its first context in a worker says so itself: the Connectivity tab keeps its
actions disabled until its tables are listed and runs a request made meanwhile once they
are (ui/connectivity/tables_gate.py).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget


class Placeholder(QWidget):
    """What a tab shows until its page is built (a moment: it is built when shown)."""

    def __init__(self, name: str, title: str):
        super().__init__()
        self.page_name = name
        self.setObjectName(f"lazy_{name}")
        label = QLabel(f"Opening {title}…", alignment=Qt.AlignmentFlag.AlignCenter)
        QVBoxLayout(self).addWidget(label)


class LazyPages(QObject):
    """The lazily built pages of one QTabWidget, by name."""

    pageBuilt = Signal(str, object)  # name, the page (after its hooks have run)

    def __init__(self, tabs: QTabWidget):
        super().__init__(tabs)
        self.tabs = tabs
        self._factories: dict[str, Callable[[], QWidget]] = {}
        self._pages: dict[str, QWidget] = {}
        self._hooks: dict[str, list[Callable[[QWidget], None]]] = {}
        self._building: set[str] = set()
        tabs.currentChanged.connect(self._shown)

    def add(self, name: str, title: str, factory: Callable[[], QWidget]) -> int:
        """A tab ``title`` whose page ``factory()`` makes (and wires) on first need; it must
        not ask for its own page. Returns the tab's index."""
        self._factories[name] = factory
        self._hooks[name] = []
        return self.tabs.addTab(Placeholder(name, title), title)

    # ---- looking, without building ------------------------------------------------
    def __contains__(self, name: str) -> bool:
        return name in self._factories

    def built(self, name: str) -> QWidget | None:
        return self._pages.get(name)

    def built_pages(self) -> dict[str, QWidget]:
        return dict(self._pages)

    def index_of(self, name: str) -> int:
        """The tab index of the page (built or not), -1 when unknown."""
        for i in range(self.tabs.count()):
            w = self.tabs.widget(i)
            if getattr(w, "page_name", None) == name or w is self._pages.get(name):
                return i
        return -1

    # ---- building -----------------------------------------------------------------
    def when_built(self, name: str, hook: Callable[[QWidget], None]) -> None:
        """Call ``hook(page)`` now if the page exists, else right after it is built."""
        page = self._pages.get(name)
        if page is not None:
            hook(page)
        else:
            self._hooks[name].append(hook)

    def page(self, name: str) -> QWidget:
        """The page, built (and wired) now if it was not yet."""
        page = self._pages.get(name)
        if page is not None:
            return page
        if name in self._building:
            raise RuntimeError(f"the {name} page was asked for while it is being built")
        self._building.add(name)
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            try:
                page = self._factories[name]()
                self._swap_in(name, page)
                self._pages[name] = page
            finally:
                self._building.discard(name)
            for hook in self._hooks.pop(name):
                hook(page)
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.pageBuilt.emit(name, page)
        return page

    def _swap_in(self, name: str, page: QWidget) -> None:
        """Put ``page`` where the placeholder is: same index, title and tooltip; the
        current index stays and no currentChanged is emitted for the swap."""
        tabs = self.tabs
        index, current = self.index_of(name), tabs.currentIndex()
        holder = tabs.widget(index)
        title, tip = tabs.tabText(index), tabs.tabToolTip(index)
        blocked = tabs.blockSignals(True)
        try:
            tabs.removeTab(index)
            tabs.insertTab(index, page, title)
            tabs.setTabToolTip(index, tip)
            tabs.setCurrentIndex(current)
        finally:
            tabs.blockSignals(blocked)
        holder.deleteLater()
        tabs.updateGeometry()  # CurrentPageTabs sizes itself on the current page

    def _shown(self, index: int) -> None:
        name = getattr(self.tabs.widget(index), "page_name", None)
        if name is not None and name not in self._building:
            self.page(name)


class LazyPage:
    """A window attribute that is the page of ``window.pages`` (built on first access)."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, window, owner=None):
        if window is None:
            return self
        return window.pages.page(self.name)

    def __set__(self, window, value):
        raise AttributeError(f"{self.name} is built by the window's lazy pages")


def when_built(window, name: str, hook: Callable[[QWidget], None]) -> None:
    """``hook(window.<name>)`` once that page exists; at once for a window without lazy
    pages (skipped when it has no such panel)."""
    pages = getattr(window, "pages", None)
    if isinstance(pages, LazyPages) and name in pages:
        pages.when_built(name, hook)
        return
    panel = getattr(window, name, None)
    if panel is not None:
        hook(panel)


def built_page(window, name: str):
    """``window.<name>`` if it has been built (None if not), without building it."""
    pages = getattr(window, "pages", None)
    if isinstance(pages, LazyPages) and name in pages:
        return pages.built(name)
    return getattr(window, name, None)


"""The main window's help, find, about and session actions, and its tab widget: kept
apart from ui/main_window.py, which builds the window and routes its requests."""
from __future__ import annotations

from PySide6.QtWidgets import (QApplication, QFileDialog, QLineEdit, QMessageBox, QTabWidget,
                               QWidget)

from models.errors import CavernError


class WindowActions:
    """Mixin of MainWindow (it uses the window's docks, tabs, panels and sink)."""

    # ---- sessions ------------------------------------------------------------------------
    def save_session(self, path: str | None = None) -> None:
        from ui.common.session import save_session
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Save session", "cavern-session.json",
                                                  "Cavern session (*.json)")
            if not path:
                return
        try:
            save_session(self, path)
        except OSError as exc:
            self.show_error(f"Could not save the session to {path}: {exc}")
            return
        self.show_message(f"Session saved to {path} (no tokens are stored in it).")

    def open_session(self, path: str | None = None) -> None:
        from ui.common.session import apply_session, read_session
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Open session", "",
                                                  "Cavern session (*.json)")
            if not path:
                return
        try:
            notes = apply_session(self, read_session(path))
        except CavernError as err:
            self.show_error(err)
            return
        self.show_message(" · ".join([f"Session {path} opened."] + notes))

    # ---- the last session --------------------------------------------------------------
    def _reopen_toggled(self, on: bool) -> None:
        from ui.common.session import REOPEN_KEY
        self.settings.setValue(REOPEN_KEY, bool(on))
        self.settings.sync()

    def save_last_session(self) -> str | None:
        """At quit, when "Reopen last session at start" is on: the session, saved to the
        app's data folder (a failure is said, the quit goes on)."""
        from ui.common.session import last_session_path, reopen_enabled, save_session
        if not reopen_enabled(self.settings):
            return None
        path = last_session_path(self.settings)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_session(self, str(path))
        except (OSError, ValueError) as exc:
            self.show_error(f"Could not save the session to {path}: {exc}")
            return None
        return str(path)

    def _startup_error(self, text: str) -> None:
        """Said now, and again once the first tables are listed (their note would hide it)."""
        self.show_error(text)
        self.startup_notice = text

    def reopen_last_session(self) -> bool:
        """At start, when the setting is on and the last session's file is there: open it.
        A damaged file is said in the status bar and the window starts as usual."""
        from ui.common.session import apply_session, last_session_path, read_session, reopen_enabled
        if not reopen_enabled(self.settings):
            return False
        path = last_session_path(self.settings)
        if not path.is_file():
            return False
        try:
            state = read_session(str(path))
            notes = apply_session(self, state)
        except CavernError as err:
            self._startup_error(f"The last session was not reopened: {err}")
            return False
        except Exception as exc:  # noqa: BLE001 - a damaged file never stops the start
            self._startup_error(f"The last session was not reopened ({path} is damaged: {exc}).")
            return False
        self.show_message(" · ".join(["Last session reopened."] + notes))
        return True

    # ---- help, find ----------------------------------------------------------------------
    def current_help_page(self) -> str:
        """The guide page of the panel the user is in (the focused dock, else the tab)."""
        focus = QApplication.focusWidget()
        for dock, page in ((self.browser_dock, "tables"), (self.builder_dock, "query")):
            if focus is not None and dock.isAncestorOf(focus):
                return page
        guide = {"inspector": "cell", "connectivity": "connectivity", "figures": "figures"}
        pages = {self.results: "results"}  # and the lazy tabs built so far (looking builds none)
        pages.update({w: guide.get(name, "index") for name, w in self.pages.built_pages().items()})
        current = self.tabs.currentWidget()
        return next((page for w, page in pages.items()
                     if current is w or (current is not None and current.isAncestorOf(w))),
                    "index")

    def show_help(self, page: str | None = None) -> None:
        from ui.common.help_browser import HelpBrowser
        if getattr(self, "help_browser", None) is None:
            self.help_browser = HelpBrowser(self)
        self.help_browser.show_page(page or self.current_help_page())

    def focus_filter(self) -> QWidget | None:
        """Ctrl+F: the filter or id field of the panel the user is in (the table list's
        filter when the Tables dock has focus, the Results filter, the cell id of the
        inspector, the field the Connectivity and Figures tabs name by ``find_field()``).
        Where there is none, the status bar says so. Only the shown tab is looked at, so
        no page is built. Returns the focused field, or None."""
        focus = QApplication.focusWidget()
        page = self.tabs.currentWidget()
        if focus is not None and self.browser_dock.isAncestorOf(focus):
            target = self.browser.filter_edit
        elif page is self.results:
            target = self.results.filter_edit
        elif page is not None and page is self.pages.built("inspector"):
            target = page.id_edit
        elif hasattr(page, "find_field"):
            target = page.find_field()  # a field, or a sentence saying there is none
        else:
            target = "Nothing to search here."
        if isinstance(target, str):
            self.show_message(target)
            return None
        target.setFocus()
        if isinstance(target, QLineEdit):
            target.selectAll()
        return target

    # ---- about ---------------------------------------------------------------------------
    def about_html(self) -> str:
        """Each credit once: manifests repeat each other's (pinky100's names minnie65's)."""
        import html
        seen: list[str] = []
        for i in range(self.datastack_combo.count()):
            src, ds = self.datastack_combo.itemData(i)
            if src.kind == "local":
                try:
                    c = src.datastack_info(ds).credits
                except CavernError:
                    continue
                for part in (c or "").replace(";", ".").split(". "):
                    part = part.strip().rstrip(".")
                    if part and part not in seen:
                        seen.append(part)
        items = "".join(f"<li>{html.escape(p)}.</li>" for p in seen)
        return (f"<h3>Cavern {html.escape(self.app_version)}</h3><p>Browse CAVE connectome "
                "data: tables, queries, cells, connectivity and Neuroglancer links.</p>"
                + (f"<p><b>Sample data</b></p><ul>{items}</ul>" if items else ""))

    def show_about(self) -> None:
        QMessageBox.about(self, "About Cavern", self.about_html())


def elide(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


class CurrentPageTabs(QTabWidget):
    """Tabs as small as their current page allows: the wide Connectivity tab does not make
    the Results tab (with both docks beside it) wider than a 1024-px screen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currentChanged.connect(lambda _i: self.updateGeometry())

    def minimumSizeHint(self):
        page = self.currentWidget()
        hint = super().minimumSizeHint()
        if page is None:
            return hint
        own = page.minimumSizeHint().expandedTo(page.minimumSize())
        hint.setWidth(own.width() + 4)
        hint.setHeight(own.height() + self.tabBar().sizeHint().height() + 4)
        return hint

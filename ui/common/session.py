"""Sessions: File > Save session / Open session. A small JSON file with the open datastacks
(local folders and CAVE server addresses, never tokens), the datastack and version shown,
the query of the builder, the matrix's cell sets and settings and the window layout.
A Connectivity tab not built yet (ui/common/lazy_pages.py) has nothing to save: saving
never builds it; opening a session with matrix or partner state builds it to restore that.

Opening one selects the datastack and version, then fills the query builder when that
version's tables have been listed (the main window calls ``apply_pending_query``).
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt

from ui.common.lazy_pages import built_page

FORMAT = "cavern-session/1"


def _b64(data) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _unb64(text: str) -> QByteArray:
    return QByteArray(base64.b64decode(text.encode("ascii")))


def _cell_set(editor) -> dict:
    return {"mode": "ids" if editor.from_ids.isChecked() else "table",
            "table": editor.table_combo.currentText(),
            "filters": editor.filters_edit.toPlainText(), "ids": editor.ids_edit.toPlainText()}


def _set_cell_set(editor, state: dict) -> None:
    (editor.from_ids if state.get("mode") == "ids" else editor.from_table).setChecked(True)
    if state.get("table"):
        editor.select_table(state["table"])  # kept until the tables are listed
    editor.filters_edit.setPlainText(state.get("filters", ""))
    editor.ids_edit.setPlainText(state.get("ids", ""))


def query_state(builder) -> dict | None:
    if builder.table is None:
        return None
    cols = None
    if not builder.all_columns.isChecked():
        lst = builder.columns_list
        cols = [lst.item(i).data(Qt.ItemDataRole.UserRole) for i in range(lst.count())
                if lst.item(i).checkState() == Qt.CheckState.Checked]
    return {"table": builder.table.name,
            "filters": [{"column": r.column_combo.currentText(), "op": r.op().value,
                         "value": r.value_edit.text(), "units": r.units_combo.currentText()}
                        for r in builder.rows],
            "columns": cols, "limit": builder.limit_spin.value(),
            "positions": builder.resolution_combo.currentIndex()}


def apply_query_state(builder, state: dict) -> None:
    """Fill the builder (its table must be set already)."""
    from models.filters import Op
    for r in list(builder.rows):
        builder._remove_row(r)
    for f in state.get("filters", []):
        if builder.table.column(f["column"]) is None:
            continue  # a column the table no longer has
        builder.add_filter(f["column"]).set_values(f["column"], Op(f["op"]), f["value"],
                                                  f.get("units", "vx"))
    cols = state.get("columns")
    builder.all_columns.setChecked(cols is None)
    if cols is not None:
        lst = builder.columns_list
        for i in range(lst.count()):
            on = lst.item(i).data(Qt.ItemDataRole.UserRole) in cols
            lst.item(i).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
    builder.limit_spin.setValue(int(state.get("limit", builder.limit_spin.value())))
    builder.resolution_combo.setCurrentIndex(int(state.get("positions", 0)))


def _matrix_state(m) -> dict:
    return {"pre": _cell_set(m.pre_editor), "post": _cell_set(m.post_editor),
            "same_sets": m.same_sets.isChecked(), "weight": m.weight,
            "order": m.order, "hide_unconnected": m.hide_unconnected.isChecked()}


def session_state(window) -> dict:
    combo = window.datastack_combo
    stacks = []
    for i in range(combo.count()):
        src, name = combo.itemData(i)
        entry = {"name": name, "kind": src.kind}
        if src.kind == "cave":
            entry["server"] = src.server  # the address only: tokens stay in the keyring
        else:
            try:
                entry["folder"] = str(src._stack(name).folder)
            except Exception:  # noqa: BLE001 - a source without folders (tests)
                pass
        stacks.append(entry)
    conn = built_page(window, "connectivity")
    return {
        "format": FORMAT,
        "datastacks": stacks,
        "current": {"datastack": window.datastack, "kind": window.source.kind,
                    "server": getattr(window.source, "server", ""),
                    "version": None if window.live else window.version, "live": window.live},
        "query": query_state(window.builder),
        "matrix": None if conn is None else _matrix_state(conn.matrix),
        "partners_of": "" if conn is None else conn.partners.root_edit.text(),
        "tab": window.tabs.currentIndex(),
        "layout": {"geometry": _b64(window.saveGeometry()), "state": _b64(window.layout_state())},
    }


def save_session(window, path: str) -> None:
    text = json.dumps(session_state(window), indent=1)
    tmp = Path(path).with_suffix(Path(path).suffix + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_session(path: str) -> dict:
    from models.errors import InvalidInputError
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"Could not read the session '{path}': {exc}",
                                hint="Pick a file saved with File > Save session.") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InvalidInputError(f"'{path}' is not a Cavern session file.",
                                hint="Pick a file saved with File > Save session.")
    return state


def apply_session(window, state: dict) -> list[str]:
    """Restore what can be restored now; returns notes on what could not be."""
    notes = []
    layout = state.get("layout") or {}
    if layout.get("geometry"):
        window.restoreGeometry(_unb64(layout["geometry"]))
    if layout.get("state"):
        window.restoreState(_unb64(layout["state"]))
    ms = state.get("matrix") or {}
    if ms:  # builds the Connectivity tab if it was not yet
        m = window.connectivity.matrix
        _set_cell_set(m.pre_editor, ms.get("pre", {}))
        _set_cell_set(m.post_editor, ms.get("post", {}))
        m.same_sets.setChecked(bool(ms.get("same_sets", True)))
        for combo, key in ((m.weight_combo, "weight"), (m.order_combo, "order")):
            i = combo.findData(ms.get(key))
            if i >= 0:
                combo.setCurrentIndex(i)
        m.hide_unconnected.setChecked(bool(ms.get("hide_unconnected", True)))
    for entry in state.get("datastacks", []):
        if entry.get("kind") == "local" and entry.get("folder") and \
                entry["name"] not in window.local_source.datastacks():
            try:
                window.local_source.add_folder(entry["folder"], name=entry["name"])
                window.add_datastack(window.local_source, entry["name"], select=False)
            except Exception as exc:  # noqa: BLE001 - say it, restore the rest
                notes.append(f"{entry['name']}: {exc}")
        elif entry.get("kind") == "cave":
            notes.append(f"{entry['name']} on {entry.get('server')}: connect with File > "
                         "Connect to CAVE server (tokens are not stored in sessions)")
    cur = state.get("current") or {}
    window.pending_session = {"version": cur.get("version"), "query": state.get("query"),
                              "partners_of": state.get("partners_of", "")}
    found = [i for i in range(window.datastack_combo.count())
             if window.datastack_combo.itemData(i)[1] == cur.get("datastack")
             and window.datastack_combo.itemData(i)[0].kind == cur.get("kind", "local")]
    if found:
        window.select_datastack(cur["datastack"], window.datastack_combo.itemData(found[0])[0])
    else:
        notes.append(f"Datastack {cur.get('datastack')} is not open.")
    window.tabs.setCurrentIndex(int(state.get("tab", 0)))
    return notes


# ---- the last session, reopened at start ---------------------------------------------
REOPEN_KEY = "reopen_last_session"
LAST_SESSION_NAME = "last-session.json"


def last_session_path(settings) -> Path:
    """Where the session is saved at quit: next to an INI settings file (tests, portable
    set-ups), else in the app's data folder (platformdirs' user_data_dir)."""
    from PySide6.QtCore import QSettings
    if settings.format() == QSettings.Format.IniFormat and settings.fileName():
        return Path(settings.fileName()).resolve().parent / LAST_SESSION_NAME
    import platformdirs
    return Path(platformdirs.user_data_dir("Cavern", "Cavern")) / LAST_SESSION_NAME


def reopen_enabled(settings) -> bool:
    return settings.value(REOPEN_KEY, False, bool)

"""What the tutorial's views need from the main window, wired in one place (the window
calls :func:`install_tutorial_links` once): the Results tab's "Copy as Python" of a join,
and the one cell selection shared by the result table, the soma map, the partner tables
and the matrix (ui.common.cell_selection). The Connectivity and Figures tabs' links are
made when those tabs are built (ui/common/lazy_pages.py)."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication

from ui.common.lazy_pages import when_built


def copy_result_code(window, result) -> str:
    """The code of the result shown: a join's caveclient + pandas code, else the query's
    caveclient code (the window's own Copy as Python). Returns what was copied."""
    from ui.figures.join_view import join_python_code, join_spec_of  # pandas: not at start
    if join_spec_of(result) is None:
        window._copy_code(result.spec)
        return QApplication.clipboard().text()
    ws = window.workspace
    code = join_python_code(result, ws)
    QApplication.clipboard().setText(code)
    window.show_message("caveclient + pandas code of the join copied to the clipboard.")
    return code


def open_matrix_of(window, ids) -> None:
    """The connectivity matrix of these cells (pasted ids, square), computed at once."""
    if not ids:
        return
    m = window.connectivity.matrix
    m.pre_editor.from_ids.setChecked(True)
    m.pre_editor.ids_edit.setPlainText("\n".join(str(int(i)) for i in ids))
    m.same_sets.setChecked(True)
    window.tabs.setCurrentWidget(window.connectivity)
    window.connectivity.tabs.setCurrentWidget(m)
    m.request()


def put_box_filter(window, table: str, box) -> None:
    """The soma-map box as a ``within`` filter (table's voxels) in the query builder."""
    from models.filters import Op
    from services.connectivity.connectivity_queries import cell_columns
    info = window.workspace.table(table).info
    column = cell_columns(info).position_col
    window.tabs.setCurrentWidget(window.results)  # the query builder's tab
    window.browser.select_table(table)
    if window.builder.table is None or window.builder.table.name != table:
        window.builder.set_table(info)
    for row in list(window.builder.rows):  # one box per column: the new one replaces it
        if row.column_combo.currentText() == column and row.op() is Op.WITHIN:
            window.builder._remove_row(row)
    window.builder.add_filter(column).set_values(column, Op.WITHIN, box.text(), "vx")
    window.show_message(f"Box filter on {table}.{column} in voxels: {box.note}")


def install_tutorial_links(window):
    """Connect the Results "Copy as Python" button and the shared cell selection
    (``window.cell_selection``: hook its ``changed(ids, source)`` signal to follow it)."""
    from ui.common.cell_selection import CellSelection
    from ui.common.selection_links import MatrixLink, PartnerTablesLink, ResultTableLink
    window.results.codeRequested.connect(lambda result: copy_result_code(window, result))
    sel = window.cell_selection = CellSelection(window)
    partners, matrix = PartnerTablesLink(sel), MatrixLink(sel)  # attached below
    window.selection_links = [ResultTableLink(window.results, sel), partners, matrix]
    when_built(window, "connectivity", lambda conn: (partners.attach(conn.partners),
                                                      matrix.attach(conn.matrix)))
    when_built(window, "figures", lambda figures: _hook_soma_box(window, figures.soma_map.box))
    window.contextChanged.connect(lambda _ws: sel.clear())  # ids of another datastack
    return window


def _hook_soma_box(window, box) -> None:
    box.bind(window.cell_selection)
    box.matrixRequested.connect(lambda ids: open_matrix_of(window, ids))
    box.linkRequested.connect(lambda ids: ids and window._link_cells(ids))
    box.filterRequested.connect(lambda table, vbox: put_box_filter(window, table, vbox))

"""Issue 16's panel findings, on the bundled samples: set-up commands, the table list's
Rows sort, proofreading facts, partners (double-click, autapses, id 0), context menus,
pasted columns with a header, plots that leave the wheel alone."""
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QWheelEvent

from services.workspace import Workspace
from ui.cells.cell_inspector_panel import CellInspectorPanel
from ui.tables.table_browser_panel import TableBrowserPanel

ROOT = Path(__file__).resolve().parents[2]
BASKET = 864691135101289504  # minnie65_sample v0: 44 synapses onto itself
PINKY_CELL = 648518346349538157


# ---- 1. README's start commands set up a bare Debian/Ubuntu -------------------------------
def _start_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Start it", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_readme_start_installs_qts_libraries_and_names_macos():
    block = _start_block()
    assert block.index("sh .ci/debian-deps") < block.index("python3 main.py")
    section = (ROOT / "README.md").read_text().split("## Start it", 1)[1].split("\n## ", 1)[0]
    assert "macOS" in section
    deps = (ROOT / ".ci" / "debian-deps").read_text()
    packaging = (ROOT / "packaging" / "README.md").read_text()
    listed = re.search(r"sudo apt-get install ([^`]+)`", packaging).group(1).split()
    assert listed and all(p in deps for p in listed), [p for p in listed if p not in deps]
    assert "sh .ci/debian-deps" in (ROOT / ".ci" / "run").read_text()


def test_debian_deps_does_nothing_without_apt_get(tmp_path):
    # a PATH with only the shell tools the script uses, and no apt-get: exit 0, quietly
    for tool in ("sh", "id", "grep"):
        real = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True,
                              text=True).stdout.strip()
        (tmp_path / tool).symlink_to(real)
    out = subprocess.run(["sh", str(ROOT / ".ci" / "debian-deps")], capture_output=True,
                         text=True, env={"PATH": str(tmp_path)}, timeout=30)
    assert out.returncode == 0 and out.stderr == ""


# ---- 5. the table list ----------------------------------------------------------------------
def test_rows_column_sorts_by_number(qtbot, sample_source):
    p = TableBrowserPanel()
    qtbot.addWidget(p)
    p.set_tables(sample_source.tables("pinky100_sample", 185))
    p.tree.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    counts = [int(p.tree.topLevelItem(i).text(1).replace(",", ""))
              for i in range(p.tree.topLevelItemCount())]
    assert counts == sorted(counts, reverse=True)  # 1,981 before 456, not "456" first
    p.filter_edit.setText("cell type")
    shown = [p.tree.topLevelItem(i).text(0) for i in range(p.tree.topLevelItemCount())
             if not p.tree.topLevelItem(i).isHidden()]
    assert "soma_valence" in shown


# ---- 5. proofreading facts --------------------------------------------------------------------
def _inspect(qtbot, source, datastack, version, root):
    p = CellInspectorPanel()
    qtbot.addWidget(p)
    p.set_context(Workspace(source, datastack, version))
    with qtbot.waitSignal(p.cellShown, timeout=20000):
        p.inspect(root)
    return p


def test_proofreading_status_complete_is_shown(qtbot, sample_source):
    complete = pd.read_parquet(ROOT / "resources/samples/pinky100_sample/v185/complete_somas.parquet")
    root = int(complete.pt_root_id.iloc[0])
    p = _inspect(qtbot, sample_source, "pinky100_sample", 185, root)
    text = p.facts.toPlainText()
    proof = text.split("Proofreading", 1)[1].split("Soma", 1)[0]
    assert "complete" in proof and "—" not in proof


def test_proofreading_tables_e_i_label_is_a_cell_type(qtbot, sample_source):
    ei = pd.read_parquet(ROOT / "resources/samples/minnie65_sample/v0/manually_proofread_cells_e_i.parquet")
    root = int(ei.pt_root_id.iloc[0])
    p = _inspect(qtbot, sample_source, "minnie65_sample", 0, root)
    types = p.facts.toPlainText().split("Cell types", 1)[1].split("Proofreading", 1)[0]
    assert "manually_proofread_cells_e_i" in types and ei.cell_type.iloc[0] in types


# ---- 5. partners -------------------------------------------------------------------------
@pytest.fixture
def minnie_panel(connectivity_panel):
    return connectivity_panel("minnie65_sample", 0, size=(1200, 700))


def test_partners_flag_autapses_drop_id_0_and_double_click_inspects(qtbot, minnie_panel):
    view = minnie_panel.partners
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        minnie_panel.show_cell(BASKET)
    out = view.partners("out")
    me = out[out.partner_root_id == BASKET]
    assert len(me) == 1 and bool(me.autapse.iloc[0]) and int(me.n_synapses.iloc[0]) == 44
    assert "44 synapses" in view.autapse_label.text() and not view.autapse_label.isHidden()
    # a partner id 0 (an unassigned synapse side) is not a partner
    zero = view.result.outputs.iloc[:1].assign(partner_root_id=0)
    view.result.outputs = pd.concat([view.result.outputs, zero], ignore_index=True)
    view._refresh()
    assert 0 not in set(view.partners("out").partner_root_id)
    view.tabs.setCurrentIndex(1)
    model = view.models["out"]
    first = int(view._view_ids("out")[0])
    with qtbot.waitSignal(minnie_panel.inspectCell, timeout=2000) as hit:
        view.views["out"].doubleClicked.emit(model.index(0, 2))
    assert hit.args[0] == first


def test_partner_table_context_menu_copies_ids_and_tsv(qtbot, minnie_panel):
    view = minnie_panel.partners
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        minnie_panel.show_cell(BASKET)
    view.tabs.setCurrentIndex(1)
    ids = [int(i) for i in view._view_ids("out")[:3]]
    view.select_ids(ids)
    menu = view.menus["out"].build()
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:3] == ["Copy root ids (3)", "Copy rows as TSV with header",
                         "Copy rows as TSV without header"]
    assert {"Inspect cell", "Neuroglancer link…", "Export…"} <= set(texts)
    menu.actions()[0].trigger()
    assert QGuiApplication.clipboard().text().split() == [str(i) for i in ids]
    menu.actions()[1].trigger()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0].startswith("partner_root_id\t") and len(lines) == 4
    menu.actions()[2].trigger()
    assert len(QGuiApplication.clipboard().text().splitlines()) == 3
    with qtbot.waitSignal(minnie_panel.linkRequested) as link:
        next(a for a in menu.actions() if a.text() == "Neuroglancer link…").trigger()
    assert link.args[0] == [BASKET] + ids


def test_matrix_accepts_a_pasted_column_with_its_header(qtbot, connectivity_panel):
    p = connectivity_panel()
    view = p.partners
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        p.show_cell(PINKY_CELL)
    view.tabs.setCurrentIndex(1)
    view.select_ids([int(i) for i in view._view_ids("out")[:5]])
    view.menus["out"].copy_tsv(True)  # the whole rows, header included
    m = p.matrix
    m.pre_editor.from_ids.setChecked(True)
    m.pre_editor.ids_edit.setPlainText("partner_root_id\n" + "\n".join(
        str(i) for i in view.selected_ids()))
    assert len(m.pre_editor.draft()["root_ids"]) == 5
    with qtbot.waitSignal(m.runner.succeeded, timeout=15000):
        m.request()


def test_histograms_leave_the_wheel_to_their_container(qtbot):
    from ui.connectivity.connectivity_plots import HistogramPlot
    plot = HistogramPlot("size")
    qtbot.addWidget(plot)
    ev = QWheelEvent(QPointF(10, 10), QPointF(10, 10), QPoint(0, 0), QPoint(0, 120),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    plot.wheelEvent(ev)
    assert not ev.isAccepted()


@pytest.mark.skipif(not Path("/usr/bin/ldd").exists() or not Path("/usr/bin/apt-get").exists(),
                    reason="a Debian/Ubuntu check")
def test_qts_window_platform_finds_its_libraries_after_set_up():
    """`.ci/run` runs `.ci/debian-deps` first: after it, Qt's xcb plugin (what `python3
    main.py` loads under X11) must find every library (libxcb-cursor0 was missing)."""
    import PySide6
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.exists():
        pytest.skip("this PySide6 has no xcb plugin")
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    out += subprocess.run(["ldd", str(plugin.parents[2] / "lib" / "libQt6XcbQpa.so.6")],
                          capture_output=True, text=True).stdout
    assert "not found" not in out, [line for line in out.splitlines() if "not found" in line]


def test_an_empty_matrix_says_so(qtbot, connectivity_panel):
    p = connectivity_panel("minnie65_sample", 795)
    m = p.matrix
    m.pre_editor.from_ids.setChecked(True)
    m.pre_editor.ids_edit.setPlainText("864691135101289504 864691136288047555")
    with qtbot.waitSignal(m.runner.succeeded, timeout=15000):
        m.request()
    if 0 in m.result.matrix.shape:
        assert "No synapses" in m.plot.empty_text.textItem.toPlainText()
        assert "nan" not in m.summary_label.text()
        assert m.plot.plot.getAxis("left")._tickLevels == [[]]  # no axis around nothing

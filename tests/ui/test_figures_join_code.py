"""The Results tab's "Copy as Python" of a join: the caveclient + pandas code of the join,
run here against a stand-in caveclient that reads the sample's parquet files."""
import sys
import types
from pathlib import Path

import pandas as pd
from PySide6.QtWidgets import QApplication

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


def stand_in_caveclient(folder: Path, calls: list):
    """A caveclient module whose query_table reads ``folder``/<table>.parquet, filtered
    the way the server filters (equal / in dicts)."""
    class Materialize:
        version = None

        def query_table(self, table, filter_equal_dict=None, filter_in_dict=None):
            calls.append((table, filter_equal_dict, filter_in_dict, self.version))
            df = pd.read_parquet(folder / f"{table}.parquet")
            for col, value in (filter_equal_dict or {}).items():
                df = df[df[col] == value]
            for col, values in (filter_in_dict or {}).items():
                df = df[df[col].isin(values)]
            return df.reset_index(drop=True)

    class CAVEclient:
        def __init__(self, datastack, server_address=None):
            calls.append(("client", datastack, server_address))
            self.materialize = Materialize()
    module = types.ModuleType("caveclient")
    module.CAVEclient = CAVEclient
    return module


def run_code(code: str, folder: Path, monkeypatch) -> tuple[pd.DataFrame, list]:
    calls = []
    monkeypatch.setitem(sys.modules, "caveclient", stand_in_caveclient(folder, calls))
    scope = {}
    exec(compile(code, "<copied code>", "exec"), scope)
    return scope["joined"], calls


def test_results_copy_as_python_gives_the_join_code(qtbot, pinky_window, monkeypatch, screenshot):
    w = pinky_window
    view = w.figures.joins
    qtbot.waitUntil(lambda: view.left.count() > 0, timeout=20000)
    view.left.setCurrentText("soma_valence")
    view.right.setCurrentText("complete_somas")
    view.left_filter.setText("cell_type=e")
    view.drop.setChecked(True)
    with qtbot.waitSignal(w.figures.joinReady, timeout=20000):
        view.run()
    assert w.tabs.currentWidget() is w.results and w.results.code_action.isEnabled()
    assert w.results.code_action in w.results.export_button.menu().actions()
    screenshot(w, "figure_join_results_copy_python")
    QApplication.clipboard().clear()
    w.results.code_action.trigger()
    code = QApplication.clipboard().text()
    assert "client.materialize.query_table('soma_valence', " \
           "filter_equal_dict={'cell_type': 'e'})" in code
    assert "client.materialize.query_table('complete_somas')" in code
    assert ("left.merge(right, how='inner', left_on='pt_root_id', right_on='pt_root_id'"
            in code)
    assert "duplicated(keep=False)" in code and "CAVEclient('pinky100')" in code
    assert "client.materialize.version = 185" in code
    joined, calls = run_code(code, SAMPLES / "pinky100_sample" / "v185", monkeypatch)
    shown = w.results.result.frame
    assert len(joined) == len(shown) > 0
    assert sorted(joined.pt_root_id) == sorted(shown.pt_root_id)
    assert calls[1][3] == 185  # the version was set before the queries
    # a plain query: the button still gives that query's caveclient code
    w.builder.run_button.click()
    qtbot.waitUntil(lambda: "⋈" not in w.results.result.spec.table, timeout=20000)
    w.results.code_action.trigger()
    plain = QApplication.clipboard().text()
    assert "merge(" not in plain and w.results.result.spec.table in plain


def test_left_join_on_nucleus_id_code_runs_to_the_same_rows(qtbot, sample_source,
                                                            monkeypatch):
    from services.workspace import Workspace
    from ui.figures.join_view import JoinView, join_python_code
    view = JoinView()
    qtbot.addWidget(view)
    ws = Workspace(sample_source, "minnie65_sample", 0)
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.set_workspace(ws)
    view.left.setCurrentText("manually_proofread_cells_e_i")
    view.right.setCurrentText("allen_v1_column_types_slanted_ref")
    view.left_key.setCurrentText("nucleus_id")
    view.right_key.setCurrentText("target_id")
    view.how.setCurrentText("left")
    with qtbot.waitSignal(view.joinReady, timeout=20000) as done:
        view.run()
    result = done.args[0]
    code = join_python_code(result, ws)
    assert "how='left', left_on='nucleus_id', right_on='target_id'" in code
    assert code.startswith("# Local sample datastack") and "'minnie65_public'" in code
    joined, _ = run_code(code, SAMPLES / "minnie65_sample" / "v0", monkeypatch)
    a = pd.read_parquet(SAMPLES / "minnie65_sample" / "v0" / "manually_proofread_cells_e_i.parquet")
    assert len(joined) == len(result.frame) >= len(a)  # a left join keeps every left row
    assert joined.nucleus_id.value_counts().sort_index().equals(
        result.frame.nucleus_id.value_counts().sort_index())

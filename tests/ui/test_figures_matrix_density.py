"""Figure 2's density on screen: the tutorial's whole-set density (cells without synapses
count) beside the connected-cells-only variant, each with its formula, on pinky100."""
from pathlib import Path

import pandas as pd
import pytest


PINKY = Path(__file__).resolve().parents[2] / "resources" / "samples" / "pinky100_sample" / "v185"


@pytest.fixture
def panel(connectivity_panel):
    return connectivity_panel(size=(1280, 800), show=True)


def test_whole_set_and_connected_only_density_shown_with_formulas(qtbot, panel, screenshot):
    view = panel.matrix
    panel.tabs.setCurrentWidget(view)
    assert view.pre_editor.draft() == {"table": "soma_valence", "filter_lines": []}
    assert view.hide_unconnected.isChecked()
    with qtbot.waitSignal(view.runner.succeeded, timeout=15000):
        view.request()
    # independent: plain pandas over the sample's parquet files
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    ids = pd.read_parquet(PINKY / "soma_valence.parquet")["pt_root_id"].unique()
    inside = syn[syn.pre_pt_root_id.isin(ids) & syn.post_pt_root_id.isin(ids)]
    edges = len(inside.drop_duplicates(["pre_pt_root_id", "post_pt_root_id"]))
    n_pre, n_post = inside.pre_pt_root_id.nunique(), inside.post_pt_root_id.nunique()
    assert edges == 1736 and view.result.matrix.shape == (334, 334)
    s = view.summary
    assert s["density_whole_set"] == pytest.approx(edges / len(ids) ** 2)
    assert s["density_connected_cells"] == pytest.approx(edges / (n_pre * n_post))
    assert s["density_whole_set"] < s["density_connected_cells"]
    text = view.summary_label.text()
    assert "Density of the whole set" in text and "cells without synapses included" in text
    assert f"1,736 / ({len(ids):,} × {len(ids):,})" in text
    assert f"<b>{edges / len(ids) ** 2:.4f}</b>" in text
    assert "Density over connected cells only" in text
    assert f"1,736 / ({n_pre:,} × {n_post:,})" in text
    assert f"<b>{edges / (n_pre * n_post):.4f}</b>" in text
    # hiding nothing changes the matrix shown, not the whole-set density
    with qtbot.waitSignal(view.runner.succeeded, timeout=15000):
        view.hide_unconnected.setChecked(False)
    assert view.result.matrix.shape == (len(ids), len(ids))
    assert view.summary["density_whole_set"] == pytest.approx(edges / len(ids) ** 2)
    with qtbot.waitSignal(view.runner.succeeded, timeout=15000):
        view.hide_unconnected.setChecked(True)
    screenshot(panel, "figure_2_matrix_density", (1280, 800))

"""The Connectivity panel on a matrix aggregated on disk (a sorted table bigger than the
in-memory budget): exact summary and type blocks, the image, hover, no partial export."""
import numpy as np
import pandas as pd
import pytest

from services.connectivity import matrix_queries as mq
from services.local.local_source import LocalSource
from services.workspace import Workspace
from tests.unit.connectivity.test_streamed_matrix import _stack
from tests.bench.synthetic import synthetic_synapses
from ui.connectivity.connectivity_panel import ConnectivityPanel


@pytest.fixture
def stack_source(tmp_path):
    syn, cells = synthetic_synapses(seed=5, n_synapses=30_000, n_pre=200, n_post=1_500)
    rng = np.random.default_rng(2)
    cells = pd.DataFrame({"pt_root_id": cells.pt_root_id, "cell_type": cells.cell_type,
                          "pt_position": list(rng.integers(0, 50_000, (len(cells), 3)))})
    src = LocalSource([_stack(tmp_path, syn, cells)])
    yield src, syn, cells
    src.close()


def test_panel_shows_a_matrix_made_on_disk(qtbot, stack_source, monkeypatch):
    src, syn, cells = stack_source
    panel = ConnectivityPanel()
    qtbot.addWidget(panel)
    panel.resize(1280, 800)
    with qtbot.waitSignal(panel.contextReady, timeout=10000):
        panel.set_context(Workspace(src, "stack"))
    view = panel.matrix
    view.pre_editor.table_combo.setCurrentText("cells")
    monkeypatch.setattr(mq, "MATRIX_MEMORY_SYNAPSES", 1_000)
    with qtbot.waitSignal(view.runner.succeeded, timeout=20000):
        view.request()
    res = view.result
    assert res.matrix.pixel_pairs_only and res.blocks
    pairs = syn.groupby(["pre_pt_root_id", "post_pt_root_id"]).size()
    text = view.summary_label.text()
    assert f"<b>{len(pairs):,}</b> connected pairs" in text
    assert f"<b>{len(syn):,}</b> synapses" in text
    assert "one pass" in text  # the note says how it was made
    blocks = view.block_model.frame()
    assert int(blocks.n_synapses.sum()) == len(syn) and int(blocks.n_pairs.sum()) == len(pairs)
    assert not view.export_long.isEnabled() and not view.export_wide.isEnabled()
    assert view.export_fig.isEnabled()
    # hover over the brightest pixel names a real pair with its synapse count
    img = view.plot.image
    y, x = np.unravel_index(int(np.argmax(img.image)), img.image.shape)
    k = img.pair_at(int(x), int(y))
    m = res.matrix
    pre, post = int(m.row_ids[m.rows[k]]), int(m.col_ids[m.cols[k]])
    assert m.n_synapses[k] == pairs.loc[(pre, post)] == img.image.max()
    # another weight redraws from the kept pixel pairs, blocks from the exact ones
    view.weight_combo.setCurrentIndex(view.weight_combo.findData("size_sum"))
    sums = syn.groupby(["pre_pt_root_id", "post_pt_root_id"])["size"].sum()
    assert view.plot.image.image.max() == pytest.approx(sums.max())
    assert view.block_model.frame().mean_weight.notna().any()

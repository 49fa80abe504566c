"""The tutorial's weights and density, on pinky100, against plain pandas."""
import numpy as np
import pandas as pd
import pytest

from services.connectivity import matrix_queries as mq
from services.connectivity.connectivity_matrix import WEIGHT_FORMULAS, WEIGHTS
from services.workspace import Workspace
from tests.unit.connectivity.test_connectivity_matrix import PINKY


def test_every_weight_states_its_formula():
    assert set(WEIGHT_FORMULAS) == set(WEIGHTS)
    assert "ln(" in WEIGHT_FORMULAS["ln_size_sum"]
    assert "log10(1 + " in WEIGHT_FORMULAS["log10_1p_size_sum"]


@pytest.fixture(scope="module")
def soma_matrix(sample_source):
    spec = mq.CellSetSpec("soma_valence", type_table="soma_valence")
    return mq.compute_matrix(Workspace(sample_source, "pinky100_sample", 185), spec, order="id")


def test_binary_density_of_the_whole_set_and_of_connected_cells(soma_matrix):
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    somas = pd.read_parquet(PINKY / "soma_valence.parquet")
    ids = somas["pt_root_id"].unique()
    inside = syn[syn.pre_pt_root_id.isin(ids) & syn.post_pt_root_id.isin(ids)]
    edges = len(inside.drop_duplicates(["pre_pt_root_id", "post_pt_root_id"]))
    connected = np.union1d(inside.pre_pt_root_id, inside.post_pt_root_id)
    assert edges == 1736 and len(connected) == 334
    m = soma_matrix.matrix
    s = m.summary(len(soma_matrix.pre.ids), len(soma_matrix.post.ids))
    assert s["connected_pairs"] == 1736 and m.shape == (334, 334)
    assert s["density"] == pytest.approx(1736 / 334 ** 2)
    assert s["density_whole_set"] == pytest.approx(edges / len(ids) ** 2)
    active_pre = inside.pre_pt_root_id.nunique()
    active_post = inside.post_pt_root_id.nunique()
    assert s["density_connected_cells"] == pytest.approx(edges / (active_pre * active_post))


def test_ln_summed_size_of_one_pair_by_hand_and_in_exports(soma_matrix):
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    m = soma_matrix.matrix
    long = mq.matrix_long_frame(m, "ln_size_sum")
    row = long.iloc[0]
    sizes = syn[(syn.pre_pt_root_id == row.pre_pt_root_id)
                & (syn.post_pt_root_id == row.post_pt_root_id)]["size"]
    assert row.weight == pytest.approx(np.log(float(sizes.sum())))
    assert row.weight_formula.startswith("ln_size_sum = ln(sum(size))")
    other = mq.matrix_long_frame(m, "log10_1p_size_sum").iloc[0]
    assert other.weight == pytest.approx(np.log10(1 + float(sizes.sum())))
    wide = mq.matrix_wide_frame(m, "ln_size_sum")
    assert "ln(sum(size))" in wide.columns[0]
    assert wide.iloc[:, 1:].isna().to_numpy().sum() == 334 * 334 - 1736  # unconnected: NaN

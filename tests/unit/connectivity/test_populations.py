"""Population histograms against independent pandas groupby counts, on the bundled samples."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.errors import InvalidInputError
from services.connectivity import populations as pop
from services.connectivity.connectivity_matrix import synapse_matrix

SAMPLES = Path(__file__).resolve().parents[3] / "resources" / "samples"
PINKY = SAMPLES / "pinky100_sample" / "v185"
M1718 = SAMPLES / "minnie65_sample" / "v1718" / "synapses_pni_2_inputs_864691135774053371.parquet"
CORNER = SAMPLES / "minnie65_sample" / "v343" / "synapses_23P_corner_inputs.parquet"


def _pandas_hist(syn):
    per_pair = syn.groupby(["pre_pt_root_id", "post_pt_root_id"]).size()
    return per_pair.value_counts().sort_index()


def test_synapses_per_connection_of_the_pinky_matrix_equals_groupby():
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    m = synapse_matrix(syn.pre_pt_root_id, syn.post_pt_root_id, syn["size"])
    h = pop.synapses_per_connection(pop.matrix_connections(m))
    ref = _pandas_hist(syn)
    assert h["n_connections"].sum() == m.nnz == len(syn.groupby(["pre_pt_root_id",
                                                                 "post_pt_root_id"]))
    got = h.set_index("n_synapses")["n_connections"]
    assert (got.reindex(ref.index) == ref).all()
    assert got.drop(ref.index).eq(0).all()  # discrete bins: empty ones kept, zero
    assert h["n_synapses"].tolist() == list(range(1, ref.index.max() + 1))


def test_broad_type_mapping_and_classification():
    assert pop.broad_types(["23P", "BC", "5P-ET", "MC", "astrocyte", None]).tolist() == [
        "E", "I", "E", "I", "other", "other"]
    got = pop.broad_types(["weird", "23P"], classification=["inhibitory_neuron", None])
    assert got.tolist() == ["I", "E"]
    custom = dict(pop.MICRONS_BROAD_TYPES, astrocyte="glia")
    assert pop.broad_types(["astrocyte"], mapping=custom).tolist() == ["glia"]
    assert "E: 23P" in pop.describe_mapping() and "I: BC" in pop.describe_mapping()


def test_i_to_e_beside_e_to_e_onto_the_tutorial_cell():
    syn = pd.read_parquet(M1718)
    conns = pop.synapse_connections(syn, size_col=None)
    pre_types = pop.types_from_synapses(syn, "cell_type_pre")
    post = pd.Series(["23P"], index=[864691135774053371])
    g = pop.label_groups(conns, pre_types, post)
    split = pop.split_by_group(g, ["E→E", "I→E"])
    # independent pandas: broad type of each synapse's presynaptic type, then per pair
    broad = syn.cell_type_pre.map(lambda t: "E" if t in {"23P", "4P", "5P-IT", "5P-ET",
                                                         "5P-NP", "6P-IT", "6P-CT"} else
                                  "I" if t in {"BC", "MC", "BPC", "NGC"} else "other")
    for b, group in (("E", "E→E"), ("I", "I→E")):
        ref = _pandas_hist(syn[broad == b])
        got = split[split.group == group].set_index("n_synapses")["n_connections"]
        assert (got.reindex(ref.index) == ref).all() and got.sum() == ref.sum()
    assert syn[broad == "I"].shape[0] == 284 + 277 + 9 + 3  # BC, MC, NGC, BPC synapses


def test_corner_inputs_are_e_to_e_only():
    syn = pd.read_parquet(CORNER)
    typed = syn[syn.cell_type_pre != "Unknown"]
    g = pop.label_groups(pop.synapse_connections(typed), pop.types_from_synapses(
        typed, "cell_type_pre"), pd.Series("23P", index=typed.post_pt_root_id.unique()))
    assert set(g.group) == {"E→E"}


def test_summed_size_histogram_linear_and_log_and_ln_by_hand():
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    conns = pop.synapse_connections(syn)
    ref = syn.groupby(["pre_pt_root_id", "post_pt_root_id"])["size"].sum()
    one = conns.iloc[3]
    assert one.size_sum == ref.loc[(one.pre_pt_root_id, one.post_pt_root_id)]
    for log_x in (False, True):
        h = pop.size_histogram(conns, bins=30, log_x=log_x)
        np_counts, _ = np.histogram(ref.to_numpy(dtype=float), h.edges)
        assert (h.counts == np_counts).all() and h.counts.sum() == len(ref)
        x, d = pop.density_curve(conns, log_x=log_x)
        assert len(x) == 200 and (d >= 0).all()
    assert np.allclose(np.diff(np.log(pop.size_histogram(conns, 10, True).edges)),
                       np.log(ref.max() / ref.min()) / 10)


def test_partner_connections_and_missing_types():
    partners = pd.DataFrame({"partner_root_id": [1, 2], "n_synapses": [3, 1],
                             "size_sum": [30.0, 5.0], "cell_type": ["BC", "23P"]})
    c = pop.partner_connections(partners, 99, "in")
    assert c[pop.POST].eq(99).all() and c["pre_type"].tolist() == ["BC", "23P"]
    g = pop.label_groups(c, post_labels=pd.Series(["23P"], index=[99]))
    assert g.group.tolist() == ["I→E", "E→E"]
    with pytest.raises(InvalidInputError):
        pop.label_groups(c.drop(columns="pre_type"), post_labels=pd.Series(["x"], index=[99]))

"""A matrix export says where it came from (services.connectivity.matrix_provenance): the
context, both cell sets, the weight's formula and the summary's densities with theirs, in
Parquet metadata or a CSV sidecar; the densities checked against plain pandas on pinky100."""
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from models.filters import Filter, Op
from services.connectivity import matrix_queries as mq
from services.connectivity.connectivity_matrix import WEIGHT_FORMULAS
from services.connectivity.matrix_provenance import (DENSITY_FORMULAS, density_terms,
                                                     matrix_provenance)
from services.results.export import export_frame
from services.results.provenance import KEY, SIDECAR_SUFFIX
from services.workspace import Workspace
from tests.unit.connectivity.test_connectivity_matrix import PINKY

PRE, POST = "pre_pt_root_id", "post_pt_root_id"


def expected_summary(pre_ids, post_ids) -> dict:
    """The summary by hand: pairs among the sets, over the whole sets and over the cells
    with an outgoing (rows) / incoming (columns) pair."""
    syn = pd.read_parquet(PINKY / "synapses.parquet")
    inside = syn[syn[PRE].isin(pre_ids) & syn[POST].isin(post_ids)]
    pairs = len(inside.drop_duplicates([PRE, POST]))
    n_pre, n_post = inside[PRE].nunique(), inside[POST].nunique()
    return {"pairs": pairs, "synapses": len(inside), "n_pre_all": len(pre_ids),
            "n_post_all": len(post_ids), "n_pre_connected": n_pre, "n_post_connected": n_post,
            "whole": pairs / (len(pre_ids) * len(post_ids)),
            "connected": pairs / (n_pre * n_post)}


def somas(cell_type=None):
    s = pd.read_parquet(PINKY / "soma_valence.parquet")
    return (s if cell_type is None else s[s.cell_type == cell_type])["pt_root_id"].unique()


def read_back(path) -> dict:
    if str(path).endswith(".parquet"):
        return json.loads(pq.read_schema(path).metadata[KEY])
    return json.loads(path.with_name(path.name + SIDECAR_SUFFIX).read_text())


@pytest.fixture(scope="module")
def ws(sample_source):
    return Workspace(sample_source, "pinky100_sample", 185)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_square_matrix_export_states_set_weight_and_densities(ws, tmp_path, suffix):
    spec = mq.CellSetSpec("soma_valence", type_table="soma_valence")
    result = mq.compute_matrix(ws, spec)  # unconnected cells hidden
    ids = somas()
    want = expected_summary(ids, ids)
    assert want["pairs"] == 1736 and want["whole"] < want["connected"]
    for layout, make in (("long", mq.matrix_long_frame), ("wide", mq.matrix_wide_frame)):
        frame = make(result.matrix, "size_sum")
        prov = matrix_provenance(ws, result, spec, None, "size_sum", layout, len(frame),
                                 "9.9", order="type_depth")
        path = export_frame(frame, tmp_path / f"{layout}{suffix}", provenance=prov)
        got = read_back(path)
        assert got["layout"] == layout and got["rows"] == len(frame)
        assert got["rows"] == (1736 if layout == "long" else 334)
        assert got["exported_by"] == "Cavern 9.9" and got["server"] == "local"
        assert got["datastack"] == "pinky100_sample" and got["materialization_version"] == 185
        assert got["live_timestamp"] is None
        assert got["synapse_table"] == "synapses"
        assert got["weight"] == "size_sum"
        assert got["weight_formula"] == WEIGHT_FORMULAS["size_sum"]
        assert got["order"] == "type_depth" and "order_requested" not in got
        pre, post = got["presynaptic_cells"], got["postsynaptic_cells"]
        assert pre["description"] == spec.describe() == "soma_valence"
        assert pre["n_cells"] == post["n_cells"] == len(ids) == 453
        assert pre["n_cells_in_matrix"] == 334 and post["same_as_presynaptic"] is True
        assert got["unconnected_cells_hidden"] == len(ids) - 334
        s = got["summary"]
        assert s["connected_pairs"] == want["pairs"] and s["synapses"] == want["synapses"]
        assert (s["n_pre_all"], s["n_post_all"]) == (want["n_pre_all"], want["n_post_all"])
        assert s["n_pre_connected"] == want["n_pre_connected"]
        assert s["n_post_connected"] == want["n_post_connected"]
        whole, conn = s["density_whole_set"], s["density_connected_cells"]
        assert whole["value"] == pytest.approx(want["whole"])
        assert conn["value"] == pytest.approx(want["connected"])
        assert whole["formula"] == DENSITY_FORMULAS["density_whole_set"][1]
        assert "cells without synapses included" in whole["formula"]
        assert whole["computed"] == f"1,736 / ({len(ids)} × {len(ids)})"
        assert conn["computed"] == (f"1,736 / ({want['n_pre_connected']} × "
                                    f"{want['n_post_connected']})")
        assert got["notes"] == result.notes


def test_two_sets_unconnected_kept_and_order_fallback(ws, tmp_path):
    pre_spec = mq.CellSetSpec("soma_valence", (Filter("cell_type", Op.EQ, "e"),),
                              type_table="soma_valence")
    post_ids = tuple(int(i) for i in somas())  # every soma; the sample's synapses are e->e
    post_spec = mq.CellSetSpec(root_ids=post_ids)  # pasted, no type table: ordered by id
    result = mq.compute_matrix(ws, pre_spec, post_spec, order="type_depth",
                               hide_unconnected=False)
    want = expected_summary(somas("e"), list(post_ids))
    assert want["pairs"] > 0 and want["n_pre_all"] != want["n_post_all"]
    frame = mq.matrix_long_frame(result.matrix, "binary")
    prov = matrix_provenance(ws, result, pre_spec, post_spec, "binary", "long", len(frame),
                             order="type_depth")
    got = read_back(export_frame(frame, tmp_path / "m.csv", provenance=prov))
    pre, post = got["presynaptic_cells"], got["postsynaptic_cells"]
    assert pre["description"] == "soma_valence where cell_type = e"
    assert pre["filters"] == ["cell_type = e"] and pre["n_cells"] == want["n_pre_all"]
    assert post["description"] == f"{len(post_ids)} pasted root ids"
    assert post["root_ids"] == list(post_ids) and post["same_as_presynaptic"] is False
    assert post["n_cells"] == post["n_cells_in_matrix"] == want["n_post_all"]
    assert got["order"] == "id" and got["order_requested"] == "type_depth"
    assert got["weight_formula"] == WEIGHT_FORMULAS["binary"]
    s = got["summary"]
    assert s["density_whole_set"]["value"] == pytest.approx(want["whole"])
    assert s["density_connected_cells"]["value"] == pytest.approx(want["connected"])
    assert s["connected_pairs"] == want["pairs"] == got["rows"]


def test_without_set_sizes_the_density_is_of_the_matrix_shown():
    s = {"connected_pairs": 6, "n_pre": 3, "n_post": 4, "density": 0.5,
         "n_pre_connected": 2, "n_post_connected": 3, "density_connected_cells": 1.0}
    whole, conn = density_terms(s)
    assert whole["name"] == "density" and whole["numbers"] == "6 / (3 × 4)"
    assert conn["name"] == "density_connected_cells" and conn["numbers"] == "6 / (2 × 3)"
    assert whole["formula"] == DENSITY_FORMULAS["density"][1]

"""Synapse compartments: a small, clearly test-only reference table tagging the synapses of
a tiny datastack (spine / shaft / soma, some untagged), counted per tag against pandas."""
import numpy as np
import pandas as pd
import pytest

from models.errors import NotFoundError
from services.connectivity import synapse_compartments as sc
from services.workspace import Workspace
from tests.cave_server.datastack_writer import write_datastack

DS = "compartment_test"
TAGS = "test_only_synapse_compartments"
CELLS = np.array([864691135000000001, 864691135000000002, 864691135000000003,
                  864691135000000004, 864691135000000005], dtype=np.int64)
TARGET = int(CELLS[0])


def make_tables():
    rng = np.random.default_rng(13)
    n = 300
    pre = rng.choice(CELLS, n)
    post = rng.choice(CELLS, n)
    post[:90] = TARGET  # enough inputs onto one cell
    syn = pd.DataFrame({"id": np.arange(1, n + 1, dtype=np.int64), "pre_pt_root_id": pre,
                        "post_pt_root_id": post, "size": rng.integers(50, 5000, n),
                        "ctr_pt_position": [[int(x) for x in rng.integers(0, 9000, 3)]
                                            for _ in range(n)]})
    tagged = syn.sample(frac=0.8, random_state=1).sort_values("id")  # 20% untagged
    tags = pd.DataFrame({"id": np.arange(1, len(tagged) + 1, dtype=np.int64),
                         "valid": True, "target_id": tagged["id"].to_numpy(),
                         "tag": rng.choice(["spine", "shaft", "soma"], len(tagged),
                                           p=[0.6, 0.3, 0.1])})
    return syn, tags


def write_compartment_datastack(folder):
    """The local datastack (the tag table with its target's columns merged in, as
    Cavern's local files have reference tables); cave_shaped_copy makes the server's."""
    syn, tags = make_tables()
    merged = tags.merge(syn[["id", "pre_pt_root_id", "post_pt_root_id", "size"]],
                        left_on="target_id", right_on="id", suffixes=("", "_syn")
                        ).drop(columns=["id_syn"])
    write_datastack(folder, DS, {1: {
        "synapses": (syn, {"schema": "synapse", "description": "test synapses"}),
        TAGS: (merged, {"schema": "reference_tag", "reference_table": "synapses",
                        "target_columns": ["pre_pt_root_id", "post_pt_root_id", "size"],
                        "description": "TEST ONLY: made-up compartment tags on the test "
                                       "synapses (not real data)"}),
    }})
    return syn, tags


def expected_counts(syn, tags, root=None):
    j = tags.merge(syn, left_on="target_id", right_on="id", suffixes=("", "_syn"))
    if root is not None:
        j = j[j.post_pt_root_id == root]
    return j, j.groupby("tag").size()


@pytest.fixture
def ws(tmp_path):
    from services.local.local_source import LocalSource
    syn, tags = write_compartment_datastack(tmp_path / DS)
    src = LocalSource([tmp_path / DS])
    yield Workspace(src, DS, 1), syn, tags
    src.close()


def test_compartment_table_is_found_on_the_synapse_table(ws):
    w, _, _ = ws
    assert sc.compartment_tables(w) == [sc.CompartmentTable(TAGS, "tag", "synapses")]


def test_counts_per_tag_of_a_cells_inputs_equal_pandas(ws):
    w, syn, tags = ws
    tagged = sc.tagged_synapses(w, TAGS, root_id=TARGET, direction="in")
    j, ref = expected_counts(syn, tags, TARGET)
    n_inputs = int((syn.post_pt_root_id == TARGET).sum())
    counts = sc.compartment_counts(tagged, n_synapses=n_inputs).set_index("tag")
    assert counts.loc[ref.index, "n_synapses"].astype(int).to_dict() == ref.to_dict()
    assert counts.loc[sc.UNTAGGED, "n_synapses"] == n_inputs - len(j) > 0
    pairs = j.groupby("tag")["pre_pt_root_id"].nunique()
    assert counts.loc[pairs.index, "n_connections"].astype(int).to_dict() == pairs.to_dict()
    assert counts["fraction"].sum() == pytest.approx(1.0)


def test_spine_connections_count_only_spine_synapses(ws):
    w, syn, tags = ws
    conns = sc.compartment_connections(w, TAGS, ["spine"])
    j, _ = expected_counts(syn, tags)
    ref = j[j.tag == "spine"].groupby(["pre_pt_root_id", "post_pt_root_id"]).agg(
        n=("size", "size"), s=("size", "sum"))
    got = conns.set_index(["pre_pt_root_id", "post_pt_root_id"]).sort_index()
    assert (got["n_synapses"].to_numpy() == ref.sort_index()["n"].to_numpy()).all()
    assert np.allclose(got["size_sum"].to_numpy(), ref.sort_index()["s"].to_numpy())
    assert "tag in spine" in conns.attrs["table"]


def test_a_datastack_without_one_says_which_table_it_needs(sample_source):
    w = Workspace(sample_source, "pinky100_sample", 185)
    assert sc.compartment_tables(w) == []
    text = sc.missing_compartments_text(w)
    assert "reference table on 'synapses'" in text and sc.EXAMPLE_TABLE in text
    with pytest.raises(NotFoundError):
        sc.tagged_synapses(w, "soma_valence")

"""Joins on the bundled samples against plain pandas merges of the Parquet files."""
from pathlib import Path

import pandas as pd
import pytest

from models.errors import InvalidInputError
from models.filters import Filter, Op
from services.tables.joins import JoinSpec, merge_frames, run_join
from services.workspace import Workspace

SAMPLES = Path(__file__).resolve().parents[3] / "resources" / "samples"
PINKY = SAMPLES / "pinky100_sample" / "v185"
V0 = SAMPLES / "minnie65_sample" / "v0"

PROOFREAD_23P = JoinSpec("manually_proofread_cells_e_i", "allen_v1_column_types_slanted_ref",
                         left_key="nucleus_id", right_key="target_id",
                         right_filters=(Filter("cell_type", Op.EQ, "23P"),))


def test_proofread_cells_that_are_also_23p(sample_source):
    result, report = run_join(Workspace(sample_source, "minnie65_sample", 0), PROOFREAD_23P)
    a = pd.read_parquet(V0 / "manually_proofread_cells_e_i.parquet")
    b = pd.read_parquet(V0 / "allen_v1_column_types_slanted_ref.parquet")
    ref = a.merge(b[b.cell_type == "23P"], left_on="nucleus_id", right_on="target_id")
    assert len(result.frame) == len(ref) > 0
    assert sorted(result.frame["nucleus_id"]) == sorted(ref["nucleus_id"])
    assert (result.frame["cell_type_right"] == "23P").all()
    assert result.spec.table.startswith("manually_proofread_cells_e_i")
    code = PROOFREAD_23P.to_python("minnie65_public", 0)
    assert "query_table('allen_v1_column_types_slanted_ref'" in code
    assert "left_on='nucleus_id', right_on='target_id'" in code
    compile(code, "join", "exec")


@pytest.mark.parametrize("how", ["inner", "left"])
@pytest.mark.parametrize("drop", [False, True])
def test_multi_soma_duplicates_reported_and_dropped(sample_source, how, drop):
    spec = JoinSpec("soma_valence", "complete_somas", how=how, drop_duplicates=drop)
    result, report = run_join(Workspace(sample_source, "pinky100_sample", 185), spec)
    a = pd.read_parquet(PINKY / "soma_valence.parquet")
    b = pd.read_parquet(PINKY / "complete_somas.parquet")
    dup = a.pt_root_id[a.pt_root_id.duplicated(keep=False)].unique()
    assert sorted(report.duplicated_left) == sorted(dup) and len(dup) == 3
    if drop:
        a = a[~a.pt_root_id.isin(dup)]
    ref = a.merge(b, how=how, on="pt_root_id")
    assert len(result.frame) == len(ref)
    assert result.frame["status"].notna().sum() == ref["status"].notna().sum()
    assert any("more than one row" in n for n in result.notes)


def test_bad_key_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="no column 'nope'"):
        merge_frames(pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]}),
                     JoinSpec("x", "y", left_key="a", right_key="nope"))
    with pytest.raises(InvalidInputError):
        merge_frames(pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1]}),
                     JoinSpec("x", "y", "a", "a", how="outer"))

"""LocalSource on the bundled samples and on folders a user might open."""

import numpy as np
import pandas as pd
import pytest

from models.errors import CancelledError, DataSourceError, InvalidInputError, NotFoundError
from models.filters import parse_filter_expr
from models.query_spec import QuerySpec
from services.source import CancelToken
from services.local.local_source import LocalSource, sample_folders

PINKY = "pinky100_sample"


@pytest.fixture(scope="module")
def src():
    s = LocalSource(sample_folders())
    yield s
    s.close()


def _filters(src, table, *exprs, ds=PINKY, version=None):
    kinds = src.table_info(ds, table, version).kinds
    return tuple(parse_filter_expr(e, kinds) for e in exprs)


def test_samples_are_listed_with_metadata(src):
    assert {"pinky100_sample", "minnie65_sample"} <= set(src.datastacks())
    tables = {t.name: t for t in src.tables(PINKY)}
    syn = tables["synapses"]
    assert syn.row_count == 1961 and syn.schema == "synapse"
    assert "soma_subgraph_synapses_spines_v185.csv" in syn.provenance
    assert syn.kinds["ctr_pt_position"] == "position"
    assert syn.kinds["pre_pt_root_id"] == "int"
    info = src.datastack_info("minnie65_sample")
    assert "MICrONS Consortium" in info.credits and info.synapse_table == "synapses_pni_2"
    assert [v.version for v in src.versions("minnie65_sample")] == [0, 343, 795, 1718]


def test_complete_subgraph_figures(src):
    df = src.query(QuerySpec("synapses", PINKY)).frame
    cells = set(df.pre_pt_root_id) | set(df.post_pt_root_id)
    assert len(df) == 1961 and len(cells) == 334
    assert df.pre_pt_root_id.dtype == np.int64


def test_filters_match_pandas(src):
    full = src.query(QuerySpec("synapses", PINKY)).frame
    fs = _filters(src, "synapses", "size>=300", "size<2000",
                  "ctr_pt_position within 70000,50000,0,95000,70000,2000")
    got = src.query(QuerySpec("synapses", PINKY, filters=fs)).frame
    pos = np.stack(full.ctr_pt_position.to_numpy())
    mask = ((full["size"] >= 300) & (full["size"] < 2000)
            & (pos[:, 0] >= 70000) & (pos[:, 0] <= 95000) & (pos[:, 1] >= 50000)
            & (pos[:, 1] <= 70000) & (pos[:, 2] <= 2000))
    assert sorted(got.id) == sorted(full.id[mask])
    assert 0 < len(got) < len(full)


def test_box_in_nm_equals_box_in_voxels(src):
    vx = _filters(src, "synapses", "ctr_pt_position within 70000,50000,0,95000,70000,2000")
    nm = _filters(src, "synapses", "ctr_pt_position within 280000,200000,0,380000,280000,80000 nm")
    assert src.row_count(PINKY, "synapses", filters=vx) == src.row_count(PINKY, "synapses", filters=nm)


def test_in_list_regex_and_columns(src):
    ids = [648518346349539437, 648518346349537978]
    fs = _filters(src, "synapses", "pre_pt_root_id in " + ",".join(map(str, ids)))
    r = src.query(QuerySpec("synapses", PINKY, filters=fs, columns=("id", "pre_pt_root_id")))
    assert list(r.frame.columns) == ["id", "pre_pt_root_id"]
    assert set(r.frame.pre_pt_root_id) == set(ids)
    fs = _filters(src, "soma_valence", "cell_type regex ^(i|g)$")
    types = src.query(QuerySpec("soma_valence", PINKY, filters=fs)).frame.cell_type
    assert set(types) == {"i", "g"}


def test_limit_reports_total(src):
    r = src.query(QuerySpec("synapses", PINKY, limit=10))
    assert r.n_rows == 10 and r.total_rows == 1961
    assert "10 of 1,961 rows" in r.summary()


def test_bad_queries_raise_typed_errors(src):
    with pytest.raises(NotFoundError, match="not in"):
        src.query(QuerySpec("nope", PINKY))
    with pytest.raises(InvalidInputError, match="not in table"):
        src.query(QuerySpec("synapses", PINKY, columns=("gone",)))
    with pytest.raises(NotFoundError, match="Version 7"):
        src.query(QuerySpec("synapses", PINKY, version=7))
    with pytest.raises(NotFoundError):
        src.datastack_info("nothing")


def test_cancelled_query(src):
    tok = CancelToken()
    tok.cancel()
    with pytest.raises(CancelledError):
        src.query(QuerySpec("synapses", PINKY), cancel=tok)


def test_plain_folder_of_files_opens(tmp_path):
    df = pd.DataFrame({"pt_root_id": [864691135101289504, 864691136362774498],
                       "cell_type": ["BC", "5P-PT"]})
    df.to_csv(tmp_path / "types.csv", index=False)
    df.to_feather(tmp_path / "types_f.feather")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    s = LocalSource([tmp_path])
    name = tmp_path.name
    tables = {t.name: t for t in s.tables(name)}
    assert tables["types"].kinds == {"pt_root_id": "int", "cell_type": "string"}
    assert "Unreadable" in tables["broken"].notice_text
    fs = _filters(s, "types", "cell_type=BC", ds=name)
    got = s.query(QuerySpec("types", name, filters=fs)).frame
    assert got.pt_root_id.tolist() == [864691135101289504]
    got = s.query(QuerySpec("types_f", name)).frame
    assert got.pt_root_id.tolist() == df.pt_root_id.tolist()
    with pytest.raises(DataSourceError, match="cannot be read"):
        s.query(QuerySpec("broken", name))


def test_corrupt_manifest_is_reported(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DataSourceError, match="manifest"):
        LocalSource([tmp_path])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataSourceError, match="no manifest.json"):
        LocalSource([empty])


def test_desired_resolution_gives_positions_in_nm(src):
    r = src.query(QuerySpec("synapses", PINKY, desired_resolution=(1, 1, 1),
                            filters=_filters(src, "synapses", "id=1484")))
    # the source CSV's ctr_pt_*_nm columns for synapse 1484
    assert list(r.frame.ctr_pt_position[0]) == [365476.0, 231192.0, 63280.0]
    assert "desired_resolution=[1, 1, 1]" in r.spec.to_caveclient_code()


def test_regex_dot_matches_a_newline_as_on_postgresql(tmp_path):
    """CAVE runs PostgreSQL's ~, where '.' matches a newline; the local source must agree."""
    import pandas as pd
    from models.filters import Filter, Op
    from models.query_spec import QuerySpec
    from services.local.local_source import LocalSource
    folder = tmp_path / "ds"
    (folder).mkdir()
    pd.DataFrame({"id": [1, 2], "note": ["a\nb", "ab"]}).to_parquet(folder / "t.parquet")
    src = LocalSource([folder])
    try:
        ds = src.datastacks()[0]
        got = src.query(QuerySpec("t", ds, filters=(Filter("note", Op.REGEX, "a.b"),))).frame
    finally:
        src.close()
    assert sorted(got["id"]) == [1]

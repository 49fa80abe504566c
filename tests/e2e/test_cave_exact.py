"""CaveSource gives SQL's answer on a server that ignores != / not in and cuts at its limit.

The loopback server behaves as the real MaterializationEngine here (filter_notin_dict
dropped on versioned queries, `Limited query to N rows` with N = min(user, server limit));
LocalSource (DuckDB over the same sample files) is the independent answer.
"""
from __future__ import annotations

import logging

import pytest

from models.filters import parse_filter_expr
from models.query_spec import QuerySpec
from services.local.local_source import LocalSource, sample_folders
from services.source import CancelToken
from models.errors import CancelledError
from tests.e2e.conftest import GOOD_TOKEN

PINKY = "pinky100_sample"


@pytest.fixture(scope="module")
def local():
    s = LocalSource(sample_folders())
    yield s
    s.close()


def _spec(src, table, *exprs, **kw):
    kinds = src.table_info(PINKY, table).kinds
    return QuerySpec(table, PINKY, filters=tuple(parse_filter_expr(e, kinds) for e in exprs), **kw)


def _key(frame, key="id"):
    return sorted(int(v) for v in frame[key])


@pytest.mark.parametrize("exprs,expected", [
    (("cell_type!=e",), 92), (("cell_type not in e,g",), 33),
    (("cell_type not in e,g", "cell_type!=i"), 1), (("cell_type in e,g", "cell_type!=e"), 59)])
def test_not_equal_and_not_in_are_exact(src, local, exprs, expected):
    spec = _spec(src, "soma_valence", *exprs)
    res = src.query(spec)
    assert len(res.frame) == expected and not res.truncated and res.total_rows == expected
    assert _key(res.frame) == _key(local.query(spec).frame)


def test_between_with_a_bound_keeps_the_tighter_one(src, local):
    spec = _spec(src, "synapses", "size>=300", "size between 100,500")
    res = src.query(spec)
    truth = local.query(spec).frame
    assert _key(res.frame) == _key(truth) and 0 < len(truth) < 1961
    assert res.frame["size"].between(300, 500).all()


def test_root_id_not_in_is_exact_on_18_digit_ids(src, local):
    base = local.query(QuerySpec("synapses", PINKY, columns=("pre_pt_root_id",))).frame
    top = [int(v) for v in base.pre_pt_root_id.value_counts().index[:3]]
    spec = _spec(src, "synapses", "pre_pt_root_id not in " + ",".join(map(str, top)),
                 f"post_pt_root_id!={top[0] + 1}")
    assert _key(src.query(spec).frame) == _key(local.query(spec).frame)


@pytest.mark.parametrize("limit", [500, 300])
def test_answers_bigger_than_the_server_limit_are_complete(src, local, cave_server, limit):
    cave_server.row_limit = limit
    seen = []
    for exprs in [(), ("size>=100",), ("size!=0",), ("spine_vol_um3>0.01", "size<=1000")]:
        spec = _spec(src, "synapses", *exprs)
        res = src.query(spec, progress=lambda d, t, r: seen.append((d, t, r)))
        truth = local.query(spec).frame
        assert len(truth) > limit or exprs[-1].startswith("spine")
        assert _key(res.frame) == _key(truth) and not res.truncated
        assert res.total_rows == len(truth)
    assert src.row_limit == limit and seen and seen[-1][0] <= seen[-1][1]


def test_a_small_answer_in_a_big_superset_is_complete(src, local, cave_server):
    # != is applied on the client: the server sends all 1961 rows, cut at 200.
    cave_server.row_limit = 200
    spec = _spec(src, "synapses", "size!=0", "size>=1500")
    res = src.query(spec)
    assert _key(res.frame) == _key(local.query(spec).frame) and not res.truncated


def test_the_user_limit_is_the_only_limit(src, cave_server):
    cave_server.row_limit = 500
    small = src.query(QuerySpec("synapses", PINKY, limit=100))
    assert len(small.frame) == 100 and not small.truncated and small.total_rows == 1961
    assert src.row_limit is None  # "Limited query to 100 rows" is the user's own limit
    full = src.query(_spec(src, "synapses", "size>=100"))
    assert not full.truncated and len(full.frame) > 500
    at = src.query(QuerySpec("synapses", PINKY, limit=500))
    assert len(at.frame) == 500 and not at.truncated
    over = src.query(QuerySpec("synapses", PINKY, limit=1200))
    assert len(over.frame) == 1200 and not over.truncated
    assert len(set(over.frame["id"])) == 1200
    ne = src.query(_spec(src, "soma_valence", "cell_type!=e", limit=50))
    assert len(ne.frame) == 50 and (ne.frame.cell_type != "e").all() and not ne.truncated


def test_a_table_without_id_is_paged_by_root_id(src, local, cave_server):
    cave_server.row_limit = 50
    spec = QuerySpec("complete_somas", PINKY)
    res = src.query(spec)
    assert _key(res.frame, "pt_root_id") == _key(local.query(spec).frame, "pt_root_id")
    assert len(res.frame) == 209 and not res.truncated


def test_selected_columns_without_id_still_page(src, local, cave_server):
    cave_server.row_limit = 400
    spec = _spec(src, "synapses", "size!=5", columns=("pre_pt_root_id", "size"))
    res = src.query(spec)
    assert list(res.frame.columns) == ["pre_pt_root_id", "size"]
    truth = local.query(spec).frame
    assert sorted(zip(res.frame.pre_pt_root_id, res.frame["size"])) == \
        sorted(zip(truth.pre_pt_root_id, truth["size"]))


def test_cancel_between_pages(src, cave_server):
    cave_server.row_limit = 200
    token = CancelToken()
    with pytest.raises(CancelledError):
        src.query(QuerySpec("synapses", PINKY), token, progress=lambda *a: token.cancel())


def test_the_column_probe_logs_no_row_limit_warning(src, caplog):
    with caplog.at_level(logging.WARNING):
        src.table_info(PINKY, "soma_valence")
        src.query(QuerySpec("soma_valence", PINKY, limit=3))
    assert "Limited query" not in caplog.text


def test_copy_as_python_gives_the_same_rows(src, cave_server):
    spec = _spec(src, "soma_valence", "cell_type not in e,g", "id between 10,400", "id>50")
    res = src.query(spec)
    code = res.spec.to_caveclient_code(cave_server.url, (4, 4, 40))
    code = code.replace("CAVEclient(", f"CAVEclient(auth_token={GOOD_TOKEN!r}, "
                                       "write_server_cache=False, datastack_name=")
    scope: dict = {}
    exec(compile(code, "<copied>", "exec"), scope)
    assert _key(scope["df"]) == _key(res.frame) and len(res.frame) > 0

"""Filter planning, client-side exact filters and paging, with a fake server (no network)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.errors import CancelledError, InvalidInputError
from models.filters import Filter, Op, plan_filters
from models.query_spec import QuerySpec
from services.cave.cave_paging import Answer, Pager, split_batches
from services.cave.cave_query import page_key, warned_limit
from services.cave.exact_filters import apply_post_filters, isin_exact
from services.source import CancelToken

ROOT = 864691135101289504


# ---- planning ------------------------------------------------------------------------------
def test_between_and_ge_keep_the_tighter_bound():
    plan = plan_filters([Filter("size", Op.GE, 300), Filter("size", Op.BETWEEN, (100, 500))])
    assert set(plan.server) == {Filter("size", Op.GE, 300), Filter("size", Op.LE, 500)}
    assert not plan.post
    kw = QuerySpec("t", filters=(Filter("size", Op.GE, 300),
                                 Filter("size", Op.BETWEEN, (100, 500)))).cave_kwargs()
    assert kw["filter_greater_equal_dict"] == {"size": 300}
    assert kw["filter_less_equal_dict"] == {"size": 500}


def test_strict_bound_wins_a_tie_and_mixed_bounds_merge():
    plan = plan_filters([Filter("x", Op.GE, 5), Filter("x", Op.GT, 5), Filter("x", Op.LT, 9),
                         Filter("x", Op.BETWEEN, (1, 8))])
    assert set(plan.server) == {Filter("x", Op.GT, 5), Filter("x", Op.LE, 8)}


def test_not_equal_and_not_in_are_left_for_the_client():
    plan = plan_filters([Filter("cell_type", Op.NE, "e"), Filter("cell_type", Op.NOT_IN, ("g",))])
    assert plan.server == () and plan.post == (Filter("cell_type", Op.NOT_IN, ("e", "g")),)


def test_not_in_folds_into_an_in_list_on_the_server():
    plan = plan_filters([Filter("r", Op.IN, (1, 2, 3)), Filter("r", Op.NE, 2),
                         Filter("r", Op.IN, (2, 3, 4))])
    assert plan.server == (Filter("r", Op.IN, (3,)),) and not plan.post
    # Nothing left after folding: the server keeps its list, the client empties it.
    plan = plan_filters([Filter("r", Op.IN, (1,)), Filter("r", Op.NE, 1)])
    assert plan.server == (Filter("r", Op.IN, (1,)),)
    assert plan.post == (Filter("r", Op.NOT_IN, (1,)),)


def test_contradictions_stay_exact():
    plan = plan_filters([Filter("r", Op.IN, (1,)), Filter("r", Op.IN, (2,))])
    assert plan.server == (Filter("r", Op.IN, (1,)),) and plan.post == (Filter("r", Op.IN, (2,)),)
    plan = plan_filters([Filter("c", Op.EQ, "e"), Filter("c", Op.NE, "g")])
    assert plan.server == (Filter("c", Op.EQ, "e"),) and not plan.post


@pytest.mark.parametrize("op,value", [(Op.REGEX, "a"), (Op.WITHIN, ((0, 0, 0), (1, 1, 1)))])
def test_uncombinable_filters_are_refused_with_the_column(op, value):
    with pytest.raises(InvalidInputError) as err:
        QuerySpec("t", filters=(Filter("c", op, value), Filter("c", op, value))).check()
    assert err.value.field == "c"


def test_generated_code_filters_not_in_again():
    spec = QuerySpec("somas", "pinky", 185, filters=(Filter("cell_type", Op.NOT_IN, ("e", "g")),),
                     limit=10)
    code = spec.to_caveclient_code()
    assert "filter_out_dict={'cell_type': ['e', 'g']}" in code
    assert "df = df[df['cell_type'].notna() & ~df['cell_type'].isin(['e', 'g'])]" in code
    assert "limit=10" not in code and code.rstrip().endswith("df = df.head(10)")
    compile(code, "<generated>", "exec")


# ---- client-side filters -----------------------------------------------------------------
def test_root_ids_compare_exactly_and_missing_values_never_pass():
    ids = pd.Series(np.array([ROOT, ROOT + 1, ROOT + 2], dtype=np.int64))
    assert isin_exact(ids, [ROOT + 1]).tolist() == [False, True, False]
    assert isin_exact(ids, [2**70, -1.5]).tolist() == [False] * 3
    df = pd.DataFrame({"r": ids, "c": ["e", None, "g"]})
    out = apply_post_filters(df, [Filter("c", Op.NOT_IN, ("e",))])
    assert out["c"].tolist() == ["g"]  # None is not "!= e" in SQL
    out = apply_post_filters(df, [Filter("r", Op.NOT_IN, (ROOT + 1,))])
    assert out["r"].tolist() == [ROOT, ROOT + 2]
    nullable = pd.DataFrame({"r": pd.array([ROOT, None, ROOT + 2], dtype="Int64")})
    assert apply_post_filters(nullable, [Filter("r", Op.NE, ROOT)])["r"].tolist() == [ROOT + 2]


# ---- paging with a fake server ---------------------------------------------------------------
class FakeServer:
    """Applies range filters, cuts at `limit`; returns rows in id order or shuffled."""

    def __init__(self, frame, limit, order="random", seed=0):
        self.frame, self.limit, self.order = frame, limit, order
        self.rng = np.random.default_rng(seed)
        self.fetches = self.counts = 0

    def _rows(self, rng, key="id"):
        df = self.frame
        keep = np.ones(len(df), bool)
        for f in rng.filters(key):
            v = df[key].to_numpy()
            keep &= {Op.GE: v >= f.value, Op.GT: v > f.value, Op.LT: v < f.value,
                     Op.LE: v <= f.value}[f.op]
        return df[keep]

    def fetch(self, rng):
        self.fetches += 1
        rows = self._rows(rng)
        if self.order == "random":
            rows = rows.sample(frac=1, random_state=int(self.rng.integers(1 << 30)))
        cut = rows.iloc[:self.limit]
        return Answer(cut.reset_index(drop=True), self.limit if len(cut) == self.limit else None)

    def count(self, rng):
        self.counts += 1
        return len(self._rows(rng))


def _table(n=5000, seed=1):
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(10**9, n, replace=False)).astype(np.int64)
    return pd.DataFrame({"id": ids, "v": rng.integers(0, 10, n)})


@pytest.mark.parametrize("order", ["random", "id"])
@pytest.mark.parametrize("with_counts", [True, False])
def test_pages_are_disjoint_and_complete(order, with_counts):
    df = _table()
    srv = FakeServer(df, 300, order)
    seen = []
    pager = Pager(srv.fetch, srv.count if with_counts else None, "id",
                  progress=lambda done, total, rows: seen.append((done, total, rows)))
    res = pager.run()
    assert not res.missing and len(res.frame) == len(df)
    assert sorted(res.frame["id"]) == sorted(df["id"])  # every row, none twice
    assert pager.server_limit == 300 and seen[-1][2] == len(df)
    assert all(d <= t for d, t, _ in seen)
    if order == "id" and with_counts:  # keyset: one request per page of rows
        assert srv.fetches <= len(df) // 300 + 2


def test_exactly_at_the_limit_is_complete_with_one_count():
    df = _table(300)
    srv = FakeServer(df, 300)
    res = Pager(srv.fetch, srv.count, "id").run()
    assert len(res.frame) == 300 and srv.fetches == 1 and srv.counts == 1


def test_a_key_value_that_cannot_be_split_is_reported():
    df = pd.DataFrame({"id": np.r_[np.full(50, 7), np.arange(10, 20)], "v": 0})
    srv = FakeServer(df, 20)
    res = Pager(srv.fetch, srv.count, "id").run()
    assert len(res.missing) == 1 and "cannot be split" in res.missing[0]
    assert len(res.frame) < len(df) and sorted(set(res.frame["id"])) == [7, *range(10, 20)]


def test_post_filters_and_user_limit_stop_early():
    df = _table()
    srv = FakeServer(df, 300)
    res = Pager(srv.fetch, srv.count, "id", want=100,
                post=lambda f: f[f["v"] != 3].reset_index(drop=True)).run()
    assert len(res.frame) == 100 and (res.frame["v"] != 3).all()
    assert srv.fetches < 5


def test_cancel_between_pages():
    df = _table()
    srv = FakeServer(df, 300)
    token = CancelToken()
    pager = Pager(srv.fetch, srv.count, "id", cancel=token,
                  progress=lambda *a: token.cancel())
    with pytest.raises(CancelledError):
        pager.run()


def test_batches_and_helpers():
    assert [len(b) for b in split_batches(range(45_000))] == [20_000, 20_000, 5_000]
    assert warned_limit(['Select_columns is deprecated, 201 - "Limited query to 500 rows']) == 500
    assert warned_limit(["something else"]) is None
    from models.datastack import ColumnInfo, TableInfo
    info = TableInfo(name="c", columns=(ColumnInfo("status", "string"),
                                       ColumnInfo("pt_supervoxel_id", "int"),
                                       ColumnInfo("pt_root_id", "int")))
    assert page_key(info) == "pt_root_id"

"""Filter values: NaN/inf/NaT refused, times in UTC, ids in 64 bits; the caveclient code of
every operator compiles (running it against the loopback server is tests/e2e's job)."""
import datetime as dt
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from models.datastack import DatastackInfo, VersionInfo
from models.errors import InvalidInputError
from models.filters import Filter, Op, build_filter, check_filter, parse_filter_expr
from models.query_spec import QuerySpec

KINDS = {"size": "int", "pt_root_id": "int", "cell_type": "string", "vol": "float",
         "ctr_pt_position": "position", "created": "time", "valid": "bool"}
UTC = dt.timezone.utc


@pytest.mark.parametrize("expr,says", [
    ("ctr_pt_position within nan,0,0,10,10,10", "finite"),  # returned 0 rows
    ("ctr_pt_position within 0,0,0,inf,10,10 nm", "finite"),
    ("ctr_pt_position within 0,0,0,1e999,1,1", "finite"),
    ("ctr_pt_position within 0,0,0,1e300,1,1", "finite"),
    ("vol>nan", "not a finite number"), ("vol<=-inf", "not a finite number"),
    ("vol between 1 and 1e999", "not a finite number"),
    ("created>=NaT", "not a date/time"), ("created<nat", "not a date/time"),
    ("created<99999-01-01", "not a date/time"),
    ("pt_root_id=-5", "negative"), ("pt_root_id in 1,-2", "negative"),
    ("pt_root_id=9223372036854775808", "64-bit"), ("size>-9223372036854775809", "64-bit"),
    ("size=" + "9" * 5000, "not a whole number"), ("size=1_000", "not a whole number"),
    ("size=１２", "not a whole number"), ("cell_type=a\x00", "NUL"),
])
def test_bad_values_are_refused_with_a_message(expr, says):
    with pytest.raises(InvalidInputError, match=says):
        parse_filter_expr(expr, KINDS)


def test_negative_numbers_are_fine_on_columns_that_are_not_ids():
    assert parse_filter_expr("size>-5", KINDS).value == -5


def test_between_aware_and_naive_times_is_normalised_to_utc():
    # was TypeError: can't compare offset-naive and offset-aware datetimes
    f = parse_filter_expr("created between 2024-05-01T12:00+02:00 and 2024-05-01T09:00", KINDS)
    assert f.value == (dt.datetime(2024, 5, 1, 9, 0), dt.datetime(2024, 5, 1, 10, 0))
    assert build_filter("created", Op.GE, "2024-05-01T12:00Z", "time").value == \
        dt.datetime(2024, 5, 1, 12, 0)


def test_between_built_in_code_with_aware_and_naive_times_is_refused():
    f = Filter("created", Op.BETWEEN, (dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1, tzinfo=UTC)))
    with pytest.raises(InvalidInputError, match="mix"):
        check_filter(f)


@pytest.mark.parametrize("value", [math.nan, math.inf, pd.NaT, np.datetime64("NaT"), None,
                                   [1], {"a": 1}, object(), 2**64, b"x"])
def test_filters_built_in_code_are_checked(value):
    with pytest.raises(InvalidInputError):
        check_filter(Filter("vol", Op.EQ, value))
    spec = QuerySpec("t", filters=(Filter("vol", Op.IN, (1.0, value)),))
    for call in (spec.check, spec.cave_kwargs, spec.to_caveclient_code):
        with pytest.raises(InvalidInputError):
            call()


def test_box_built_in_code_and_resolutions_are_checked():
    box = Filter("ctr_pt_position", Op.WITHIN, ((math.nan, 0, 0), (1, 1, 1)))
    with pytest.raises(InvalidInputError, match="finite"):
        QuerySpec("t", filters=(box,)).cave_kwargs()
    nm = Filter("ctr_pt_position", Op.WITHIN, ((0, 0, 0), (8, 8, 80)), "nm")
    with pytest.raises(InvalidInputError, match="three positive numbers"):
        QuerySpec("t", filters=(nm,)).cave_kwargs((0, 0, 0))  # was ZeroDivisionError
    with pytest.raises(InvalidInputError, match="three positive numbers"):
        QuerySpec("t", desired_resolution=(math.nan, 1, 1)).check()
    with pytest.raises(InvalidInputError, match="row limit"):
        QuerySpec("t", limit=2**64).check()


ONE_PER_OP = {
    Op.EQ: Filter("cell_type", Op.EQ, "e"), Op.NE: Filter("size", Op.NE, 3),
    Op.IN: Filter("pt_root_id", Op.IN, (1, 2)), Op.NOT_IN: Filter("pt_root_id", Op.NOT_IN, (3,)),
    Op.GT: Filter("created", Op.GT, dt.datetime(2024, 5, 1, 12)),
    Op.GE: Filter("vol", Op.GE, 0.5), Op.LT: Filter("size", Op.LT, 10),
    Op.LE: Filter("created", Op.LE, dt.datetime(2024, 6, 1)),
    Op.BETWEEN: Filter("created", Op.BETWEEN, (dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1))),
    Op.REGEX: Filter("cell_type", Op.REGEX, "^2"),
    Op.WITHIN: Filter("ctr_pt_position", Op.WITHIN, ((0, 0, 0), (4, 4, 40)), "nm"),
}


@pytest.mark.parametrize("ops", [c for n in (1, 2, 3) for c in
                                 itertools.combinations(list(Op), n)])
@pytest.mark.parametrize("variant", ["version", "live", "view", "limit"])
def test_code_compiles_for_every_operator_combination(ops, variant):
    kw = {"version": dict(version=1300), "live": dict(timestamp=dt.datetime(2025, 1, 2, 3, 4)),
          "view": dict(version=1300, is_view=True), "limit": dict(limit=5, columns=("size",))}
    spec = QuerySpec("t", "minnie65_public", filters=tuple(ONE_PER_OP[o] for o in ops),
                     **kw[variant])
    code = spec.to_caveclient_code("https://global.daf-apis.com", (4, 4, 40))
    names = compile(code, "<generated>", "exec").co_names
    assert not {"nan", "inf", "NaT", "Timestamp"} & set(names)
    if "datetime" in code:  # time filters printed datetime.datetime without the import
        assert "import datetime" in code.splitlines()[:3]


def test_time_filter_code_imports_datetime_and_runs():
    spec = QuerySpec("t", "ds", 1, filters=(ONE_PER_OP[Op.GT], Filter("created", Op.NE,
                                                                      dt.datetime(2024, 1, 1))))
    code = spec.to_caveclient_code()
    assert "import datetime" in code
    ns = {}
    exec(code.replace("from caveclient import CAVEclient", "CAVEclient = lambda *a, **k: C"),
         {"C": _FakeClient(), **ns})


class _FakeClient:
    class materialize:
        @staticmethod
        def query_table(*a, **k):
            assert isinstance(k["filter_greater_dict"]["created"], dt.datetime)
            return pd.DataFrame({"created": [dt.datetime(2025, 1, 1), pd.NaT]})


def test_local_code_names_the_cave_datastack_and_version_or_says_there_is_none():
    spec = QuerySpec("synapses", "minnie65_sample", 1, filters=(ONE_PER_OP[Op.LT],))
    named = DatastackInfo("minnie65_sample", cave_datastack="minnie65_public")
    code = spec.to_caveclient_code(local=named, local_version=VersionInfo(1, cave_version=343))
    assert "CAVEclient('minnie65_public')" in code and "materialization_version=343" in code
    assert "minnie65_sample" in code.splitlines()[0]
    code = spec.to_caveclient_code(local=named, local_version=VersionInfo(1))
    assert "materialization_version" not in code and "latest version" in code
    none = spec.to_caveclient_code(local=DatastackInfo("pinky100_sample"),
                                   local_version=VersionInfo(1))
    assert "names no CAVE datastack" in none and "'pinky100_sample'" not in none.split("#")[-1]
    for c in (code, none):
        compile(c, "<generated>", "exec")


def test_long_id_lists_are_checked_whole():
    """A cell set's 60,000 root ids take the one-pass path; its checks still hold."""
    from models.errors import InvalidInputError
    from models.filters import Filter, Op, check_filter
    ids = list(range(864691135000000000, 864691135000060000))
    check_filter(Filter("pt_root_id", Op.IN, tuple(ids)))
    for bad, words in ((-5, "negative"), (2**63, "too large")):
        with pytest.raises(InvalidInputError, match=words):
            check_filter(Filter("pt_root_id", Op.IN, tuple(ids[:30000] + [bad] + ids[30000:])))
    with pytest.raises(InvalidInputError, match="not a value"):
        check_filter(Filter("pt_root_id", Op.IN, tuple(ids) + (object(),)))

import datetime

import pytest

from models.errors import InvalidInputError
from models.filters import Filter, Op, build_filter, parse_filter_expr, validate_filter
from models.query_spec import QuerySpec

KINDS = {"size": "int", "cell_type": "string", "pre_pt_root_id": "int",
         "ctr_pt_position": "position", "spine_vol_um3": "float", "valid": "bool"}


@pytest.mark.parametrize("expr,expected", [
    ("cell_type=e", Filter("cell_type", Op.EQ, "e")),
    ("size>=300", Filter("size", Op.GE, 300)),
    ("size > 300", Filter("size", Op.GT, 300)),
    ("size!=3", Filter("size", Op.NE, 3)),
    ("pre_pt_root_id in 1,2,3", Filter("pre_pt_root_id", Op.IN, (1, 2, 3))),
    ("pre_pt_root_id not in 1 2", Filter("pre_pt_root_id", Op.NOT_IN, (1, 2))),
    ("size between 10,5", Filter("size", Op.BETWEEN, (5, 10))),
    ("cell_type regex ^2", Filter("cell_type", Op.REGEX, "^2")),
    ("ctr_pt_position within 0,0,0,10,10,10",
     Filter("ctr_pt_position", Op.WITHIN, ((0, 0, 0), (10, 10, 10)))),
    ("ctr_pt_position within 10,0,5,0,10,0 nm",
     Filter("ctr_pt_position", Op.WITHIN, ((0, 0, 0), (10, 10, 5)), "nm")),
])
def test_parse_filter_expr(expr, expected):
    assert parse_filter_expr(expr, KINDS) == expected


def test_root_ids_stay_exact():
    f = parse_filter_expr("pre_pt_root_id=864691135101289504", KINDS)
    assert f.value == 864691135101289504 and isinstance(f.value, int)


@pytest.mark.parametrize("expr,msg", [
    ("size>=abc", "not a whole number"),
    ("nope=3", "Unknown column"),
    ("pre_pt_root_id in ", "is empty"),
    ("pre_pt_root_id in 1,x", "not a whole number"),
    ("ctr_pt_position within 1,2,3", "needs 6 numbers"),
    ("ctr_pt_position within 0,0,0,0,10,10", "empty"),
    ("cell_type regex (", "regex"),
    ("size regex 3", "does not apply"),
    ("garbage", "Cannot read filter"),
    ("valid=maybe", "not true or false"),
])
def test_bad_filters_raise_clear_errors(expr, msg):
    with pytest.raises(InvalidInputError) as exc:
        parse_filter_expr(expr, KINDS)
    assert msg in str(exc.value)


def test_validate_filter_on_missing_column():
    with pytest.raises(InvalidInputError, match="not in this table"):
        validate_filter(Filter("gone", Op.EQ, 1), KINDS)


def test_build_filter_between_and_time():
    f = build_filter("size", Op.BETWEEN, "100 and 50", "int")
    assert f.value == (50, 100)
    t = build_filter("created", Op.GE, "2024-05-01T12:00", "time")
    assert t.value == datetime.datetime(2024, 5, 1, 12, 0)


def test_cave_kwargs_map_every_operator():
    spec = QuerySpec("synapses", "minnie65_public", version=1300, filters=(
        Filter("cell_type", Op.EQ, "e"), Filter("size", Op.BETWEEN, (5, 10)),
        Filter("pre_pt_root_id", Op.IN, (1, 2)), Filter("post_pt_root_id", Op.NE, 7),
        Filter("cell_type", Op.REGEX, "^2"),
        Filter("ctr_pt_position", Op.WITHIN, ((0, 0, 0), (400, 400, 400)), "nm"),
    ), columns=("id", "size"), limit=10)
    kw = spec.cave_kwargs((4, 4, 40))
    assert kw["filter_equal_dict"] == {"cell_type": "e"}
    assert kw["filter_greater_equal_dict"] == {"size": 5}
    assert kw["filter_less_equal_dict"] == {"size": 10}
    assert kw["filter_in_dict"] == {"pre_pt_root_id": [1, 2]}
    assert kw["filter_out_dict"] == {"post_pt_root_id": [7]}
    assert kw["filter_regex_dict"] == {"cell_type": "^2"}
    assert kw["filter_spatial_dict"] == {"ctr_pt_position": [[0, 0, 0], [100, 100, 10]]}
    assert kw["select_columns"] == ["id", "size"] and kw["limit"] == 10
    code = spec.to_caveclient_code()
    assert "client.materialize.query_table(" in code and "materialization_version=1300" in code
    compile(code, "<generated>", "exec")


def test_live_query_code_has_timestamp():
    spec = QuerySpec("nucleus_detection_v0", "minnie65_public",
                     timestamp=datetime.datetime(2025, 1, 2, 3, 4, 5))
    code = spec.to_caveclient_code()
    assert "live_query" in code and "2025-01-02T03:04:05" in code
    compile(code, "<generated>", "exec")


def test_duplicate_comparison_is_rejected():
    spec = QuerySpec("t", filters=(Filter("size", Op.GE, 1), Filter("size", Op.GE, 2)))
    with pytest.raises(InvalidInputError, match="Two"):
        spec.check()

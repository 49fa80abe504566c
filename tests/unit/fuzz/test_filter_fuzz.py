"""Fuzzing the filter parser, QuerySpec and its "Copy as Python" code.

Rule: text typed by a user, or a filter built in code, gives a typed InvalidInputError or a
spec whose cave_kwargs and caveclient code work: the code compiles and names no bare
nan/inf/NaT. A regex the checker accepts compiles on DuckDB (RE2) and on the loopback's
PostgreSQL imitation and matches the same strings on both.
Default run: FUZZ_EXAMPLES examples per test; long run (see test_reader_fuzz.py)::

    CAVERN_FUZZ=long QT_QPA_PLATFORM=offscreen python3 -m pytest tests/unit/fuzz -q -p no:cacheprovider

Failing inputs are kept below as ``@example`` regression cases.
"""
import datetime as dt
import math
import os

import duckdb
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings, strategies as st

from models.errors import InvalidInputError
from models.filters import Filter, Op, parse_filter_expr
from models.query_spec import QuerySpec
from models.regex_syntax import check_regex
from tests.cave_server.pg_regex import PgRegexError, compile_pg

_DEFAULT = 300
FUZZ_EXAMPLES = int(os.environ.get("CAVERN_FUZZ_EXAMPLES")
                    or (8_000 if os.environ.get("CAVERN_FUZZ") == "long" else _DEFAULT))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=FUZZ_EXAMPLES <= _DEFAULT,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

KINDS = {"id": "int", "pt_root_id": "int", "size": "int", "spine_vol_um3": "float",
         "cell_type": "string", "valid": "bool", "ctr_pt_position": "position",
         "created": "time"}
FORBIDDEN_NAMES = {"nan", "inf", "NaN", "NaT", "Timestamp", "infinity", "Infinity"}

numbers = st.sampled_from(["nan", "NaN", "inf", "-inf", "1e999", "-1e999", "NaT", "0", "-1",
                           "9223372036854775807", "9223372036854775808", "-9223372036854775809",
                           "864691135101289504", "8.6e17", "1_000", "１２", "٣", "+5", "0x10",
                           "1e308", "9007199254740993", "-0.0"]) \
    | st.integers(-2**70, 2**70).map(str) | st.floats().map(repr)
times = st.sampled_from(["2024-05-01", "2024-05-01T12:00Z", "2024-05-01T12:00+02:00", "NaT",
                         "now", "today", "2262-04-12", "1677-09-21", "99999-01-01", "2024-13-01",
                         "1", "", "nat", "2024-05-01T12:00:00.123456789-05:00"])
regex_atoms = st.sampled_from(
    list("ab.^$|()[]{}*+?\\-:,=!<>#'Pk0129xupwWdDsSbBAzZQE é\n") + [
        "(?:", "(?i)", "(?=", "(?!", "(?<=", "(?<!", "(?P<n>", "\\1", "[[:alpha:]]", "[:",
        "[[.a.]]", "{2}", "{2,5}", "{5,2}", "{,3}", "{255}", "{256}", "{4294967296}",
        "[^", "a-z", "z-a", "\\d", "\\.", "*?", "+?", "??", "(a{100}){20}"])
regexes = st.lists(regex_atoms, max_size=14).map("".join) | st.text(max_size=30) \
    | st.integers(1, 1200).map(lambda n: "(" * n + "a" + ")" * n)
values = (numbers | times | regexes | st.text(max_size=40)
          | st.lists(numbers, min_size=1, max_size=8).map(",".join)
          | st.lists(numbers, min_size=6, max_size=6).map(",".join)
          | st.lists(numbers, min_size=6, max_size=6).map(lambda v: ",".join(v) + " nm")
          | st.tuples(times, times).map(" and ".join)
          | st.tuples(numbers, numbers).map(" and ".join))
columns = st.sampled_from(list(KINDS)) | st.text(max_size=8)
ops = st.sampled_from(["=", "==", "!=", ">", ">=", "<", "<=", "~", " in ", " not in ",
                       " between ", " regex ", " within ", " IN ", " Not  In ", "=>", ""])
exprs = st.builds(lambda c, o, v: f"{c}{o}{v}", columns, ops, values) | st.text(max_size=60)


def _use(spec: QuerySpec) -> None:
    """Everything a service and Copy as Python do with a spec; only typed errors."""
    try:
        spec.check()
        spec.cave_kwargs((4, 4, 40))
        code = spec.to_caveclient_code("http://127.0.0.1:1", (4, 4, 40))
    except InvalidInputError:
        return
    names = set(compile(code, "<generated>", "exec").co_names)
    assert not names & FORBIDDEN_NAMES, code
    if "datetime" in names:
        assert "import datetime" in code, code


@FUZZ
@given(st.lists(exprs, min_size=1, max_size=3), st.integers(-3, 2**64) | st.none())
@example(["ctr_pt_position within nan,0,0,10,10,10"], None)
@example(["ctr_pt_position within 0,0,0,inf,10,10 nm"], None)
@example(["created between 2024-05-01T12:00Z and 2024-05-02"], None)
@example(["created>=NaT"], None)
@example(["cell_type regex a{4294967296}"], None)
@example(["cell_type regex " + "(" * 1000 + "a" + ")" * 1000], None)
@example(["cell_type regex (?<=a)b"], None)
@example(["spine_vol_um3>nan"], None)
@example(["pt_root_id=-5"], None)
@example(["size=" + "9" * 5000], None)
@example(["cell_type=a" + " " * 20000 + "b"], None)
@example(["created>2024-05-01"], 2**63)
def test_filter_text_gives_only_typed_errors(texts, limit):
    filters = []
    for text in texts:
        try:
            filters.append(parse_filter_expr(text, KINDS))
        except InvalidInputError:
            pass
    _use(QuerySpec("t", "minnie65_public", 1300, filters=tuple(filters), limit=limit))


raw_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=10)
    | st.sampled_from([pd.NaT, np.datetime64("NaT"), np.float64("nan"), np.int64(7),
                       dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                       pd.Timestamp("2024-01-01"), b"x", object(), math.inf]),
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=3), inner, max_size=2), max_leaves=8)


@FUZZ
@given(st.lists(st.builds(Filter, columns, st.sampled_from(list(Op)), raw_values,
                          st.sampled_from(["vx", "nm", "px"])), max_size=3),
       st.sampled_from([None, 0, 1, 343]), st.sampled_from([None, dt.datetime(2025, 1, 2),
                                                            pd.NaT]),
       st.booleans())
@example([Filter("ctr_pt_position", Op.WITHIN, ((math.nan, 0, 0), (1, 1, 1)))], 1, None, False)
@example([Filter("created", Op.GE, pd.NaT)], 1, None, False)
@example([Filter("created", Op.BETWEEN, (dt.datetime(2024, 1, 1),
                                         dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)))],
         1, None, False)
@example([Filter("spine_vol_um3", Op.IN, (math.inf,))], None, None, False)
def test_filters_built_in_code_give_only_typed_errors(filters, version, timestamp, is_view):
    _use(QuerySpec("t", "ds", version, timestamp, filters=tuple(filters), is_view=is_view))


_DUCK = duckdb.connect()
SAMPLES = ["", "a", "b", "ab", "ba", "aab", "a\nb", "A", "AB", "é", "a.b", "x-y", "[a]", "12",
           "a{2}", "(a)", "$", "^", "a b", "\\", "é1z", "{", "}", "-"]


@FUZZ
@given(regexes)
@example("\\s+a")
@example("[]a]")
@example("(?i)A.B")
@example("[a-]")
@example("()*")
@example("a{0}")
@example("x|")
def test_accepted_regex_means_the_same_on_duckdb_and_postgres(pattern):
    try:
        check_regex(pattern, "c")
    except InvalidInputError:
        return
    try:
        pg = compile_pg(pattern)
    except PgRegexError as exc:
        raise AssertionError(f"PostgreSQL imitation refuses {pattern!r}: {exc}") from None
    got = _DUCK.execute("SELECT list_transform(?, lambda s: regexp_matches(s, ?, 's'))",
                        [SAMPLES, pattern]).fetchone()[0]
    want = [bool(pg.search(s)) for s in SAMPLES]
    assert got == want, (pattern, [s for s, g, w in zip(SAMPLES, got, want) if g != w])

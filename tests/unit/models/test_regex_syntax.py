"""Regex filters: accepted only in the syntax DuckDB (RE2) and CAVE (PostgreSQL) share."""
import time

import duckdb
import pytest

from models.errors import InvalidInputError
from models.filters import Op, build_filter, parse_filter_expr
from models.regex_syntax import check_regex

KINDS = {"cell_type": "string"}


@pytest.mark.parametrize("pattern,says", [
    ("a{4294967296}", "above 255"),  # was OverflowError from Python re
    ("(" * 1000 + "a" + ")" * 1000, "at most 1,000"),  # was RecursionError after 2-4 s
    ("(" * 60 + "a" + ")" * 60, "nested more than 50"),
    ("(?<=a)b", "lookbehind"), ("(?<!a)b", "negative lookbehind"),
    ("a(?=b)", "lookahead"), ("a(?!b)", "negative lookahead"),
    ("(a)\\1", "backreferences"), ("(?P<n>a)(?P=n)", "named groups"),
    ("(?P=n)", "named backreferences"), ("\\w+", "[A-Za-z0-9_]"), ("\\bx", "backspace"),
    ("\\pL", "Unicode classes"), ("\\Qa.b\\E", "quoting"), ("\\x41", "hex escapes"),
    ("a(?i)b", "Only (?i) at the very start"), ("(?s)a.b", "inline options"),
    ("a**", "two repetitions"), ("a*+", "two repetitions"), ("a{2}{3}", "two repetitions"),
    ("(a{100}){20}", "2,000 times"), ("a{5,2}", "larger number first"), ("*a", "nothing"),
    ("a{,3}", "does not start a count"), ("[z-a]", "backwards"), ("[[:word:]]", "[:word:]"),
    ("[[.a.]]", "collating"), ("[\\d-z]", "ambiguous"), ("[a", "not closed"),
    ("(a", "not closed"), ("a)", "no '('"), ("a\\", "backslash"), ("", "empty"),
    ("a\x00", "NUL"), ("a\ud800", "surrogate"), ("x" * 1001, "at most 1,000"),
])
def test_refused_with_the_construct_and_what_to_do(pattern, says):
    t0 = time.perf_counter()
    with pytest.raises(InvalidInputError) as exc:
        check_regex(pattern, "cell_type")
    assert says in str(exc.value) and "'cell_type'" in str(exc.value)
    assert time.perf_counter() - t0 < 0.05


@pytest.mark.parametrize("pattern", [
    "^23P", "^(i|g)$", "a.b", "[a-z]+[0-9]*", "[^a-]", "[]a]", "(?i)^l2/3", "(?:ab)+?",
    "a{2}", "a{2,}", "a{0,255}", "(a{10}){100}", "[[:digit:]]+", "\\d\\s\\.\\(\\)\\[\\]\\\\",
    "x|", "()", "é+", "[α-ω]",
])
def test_accepted_and_compiled_by_duckdb(pattern):
    assert check_regex(pattern) == pattern
    duckdb.connect().execute("SELECT regexp_matches('x', ?)", [pattern]).fetchone()


def test_parser_and_builder_use_the_check():
    with pytest.raises(InvalidInputError, match="lookbehind"):
        parse_filter_expr("cell_type regex (?<=a)b", KINDS)
    with pytest.raises(InvalidInputError, match="above 255"):
        build_filter("cell_type", Op.REGEX, "a{4294967296}", "string")
    assert parse_filter_expr("cell_type ~ ^2 ", KINDS).value == "^2"

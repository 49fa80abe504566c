"""The one id parser (models.ids): root ids, nucleus ids and pasted lists."""
import numpy as np
import pytest

from models.errors import InvalidInputError
from models.filters import parse_list
from models.ids import is_nucleus_id, parse_id, parse_id_array, parse_ids

BC, PT = 864691135101289504, 864691136362774498
BIG = 864691135774053371


@pytest.mark.parametrize("text,expected", [
    ("864691135101289504", [BC]),
    (" 864691135101289504,\n864691136362774498 ", [BC, PT]),
    ("[864691135101289504, 864691136362774498, 864691135101289504]", [BC, PT]),
    ("'864691135101289504'; np.int64(864691136362774498)", [BC, PT]),
    ("294749", [294749]),
    # copied from a results table: a header line above the ids
    ("pt_root_id\n864691135101289504\n864691136362774498\n", [BC, PT]),
    ("pre_pt_root_id\tpost_pt_root_id\n864691135101289504\t864691136362774498", [BC, PT]),
    ("array([864691135101289504, 864691136362774498])", [BC, PT]),
    ("864691135101289504 | 864691136362774498", [BC, PT]),
])
def test_parse_ids(text, expected):
    assert parse_ids(text) == expected


@pytest.mark.parametrize("text,words", [
    ("", "Type or paste"),
    ("8.64691135101289e17", "decimal number"),
    ("864691135101289504.0", "decimal number"),
    ("-5", "negative"),
    ("cell_42", "not a whole number"),
    ("99999999999999999999", "too large"),
    ("0", "not a valid"),
    ("pt_root_id", "not a whole number"),  # a header alone is not an id
    ("864691135101289504\npt_root_id", "not a whole number"),  # only a first line is a header
])
def test_parse_ids_refuses_non_ids(text, words):
    with pytest.raises(InvalidInputError) as err:
        parse_ids(text)
    assert words in str(err.value)


def test_parse_one_id():
    assert parse_id(np.int64(BC)) == BC and parse_id(str(PT)) == PT
    assert parse_id(f" {BIG} ") == BIG and parse_id(np.int64(BIG)) == BIG
    for bad in (f"{BC} {PT}", True, float(BIG), "abc", "", 2**64):
        with pytest.raises(InvalidInputError):
            parse_id(bad)


def test_id_array_and_nucleus_ids():
    ids = parse_id_array("648518346349538157, 648518346349538157\n12")
    assert ids.tolist() == [648518346349538157, 12] and ids.dtype == np.int64
    for bad in ("  ", "1, 2.5"):
        with pytest.raises(InvalidInputError):
            parse_id_array(bad)
    assert is_nucleus_id(294749) and not is_nucleus_id(BC)


def test_in_filter_list_takes_a_pasted_column_with_header():
    assert parse_list("pt_root_id\n864691135101289504\n864691136362774498", "int",
                      "pt_root_id") == (BC, PT)

"""The root id -> position hash table agrees with a dict on every id, present or not."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from services.connectivity.id_lookup import IdLookup

INT64 = st.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max)


def _check(ids, queries):
    pos, found = IdLookup(ids).positions(queries)
    where = {int(v): i for i, v in enumerate(ids)}
    want_found = np.array([int(q) in where for q in queries], bool)
    want_pos = np.array([where.get(int(q), 0) for q in queries], np.int64)
    np.testing.assert_array_equal(found, want_found)
    np.testing.assert_array_equal(pos, want_pos)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(ids=hnp.arrays(np.int64, st.integers(0, 300), elements=INT64, unique=True),
       extra=hnp.arrays(np.int64, st.integers(0, 100), elements=INT64))
def test_agrees_with_a_dict(ids, extra):
    queries = np.concatenate([ids[::-1], extra, ids[: len(ids) // 2]])
    _check(ids, queries)


def test_root_ids_that_collide_in_the_low_bits():
    # root ids share their high (chunk) bits; many differ only by multiples of 2^k
    base = 864691135000000000
    ids = base + np.arange(0, 50_000 * 4096, 4096, dtype=np.int64)
    rng = np.random.default_rng(1)
    queries = np.concatenate([rng.permutation(ids), ids + 1, [0, -1, base]])
    _check(ids, queries)


def test_empty_and_duplicates():
    pos, found = IdLookup(np.zeros(0, np.int64)).positions(np.array([1, 2]))
    assert not found.any() and (pos == 0).all()
    with pytest.raises(ValueError):
        IdLookup(np.array([3, 3]))

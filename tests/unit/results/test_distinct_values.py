"""Distinct values of string columns for filter completion (no Qt)."""
import pytest

from models.errors import InvalidInputError
from services.results.distinct_values import (DistinctValueCache, join_last, split_last,
                                              supports_distinct_values)
from services.source import DataSource


class Counting:
    def __init__(self, values):
        self.values, self.calls = values, []

    def distinct_values(self, datastack, table, column, version=None, limit=1000, prefix="",
                        cancel=None):
        self.calls.append((datastack, table, column, version, limit))
        return self.values


class Bare(DataSource):
    datastacks = datastack_info = versions = tables = row_count = query = None


def test_local_source_lists_distinct_values_sorted_with_prefix_and_limit(sample_source):
    ds = "pinky100_sample"
    assert sample_source.distinct_values(ds, "soma_valence", "cell_type") == [
        "e", "g", "i", "uncertain"]
    assert sample_source.distinct_values(ds, "soma_valence", "cell_type", prefix="U") == [
        "uncertain"]
    assert sample_source.distinct_values(ds, "soma_valence", "cell_type", limit=2) == ["e", "g"]
    with pytest.raises(InvalidInputError):
        sample_source.distinct_values(ds, "soma_valence", "no_such_column")


def test_cache_fetches_each_column_once():
    src = Counting(["a", "b"])
    cache = DistinctValueCache(limit=10)
    with pytest.raises(KeyError):
        cache.cached(src, "ds", "t", "c", 3)
    assert cache.values(src, "ds", "t", "c", 3) == ["a", "b"]
    assert cache.values(src, "ds", "t", "c", 3) == ["a", "b"]
    assert cache.cached(src, "ds", "t", "c", 3) == ["a", "b"]
    assert src.calls == [("ds", "t", "c", 3, 10)]
    cache.values(src, "ds", "t", "c", 4)  # another version: asked again
    assert len(src.calls) == 2


def test_a_source_without_the_capability_offers_nothing():
    assert not supports_distinct_values(Bare())
    assert not supports_distinct_values(object())
    assert supports_distinct_values(Counting([]))
    assert Bare().distinct_values("ds", "t", "c") is None
    assert DistinctValueCache().values(Bare(), "ds", "t", "c") is None


def test_cave_source_uses_unique_string_values_once_per_table_and_version():
    from services.cave.cave_source import CaveSource

    class Mat:
        calls = 0

        def get_unique_string_values(self, table):
            Mat.calls += 1
            return {"cell_type": ["BC", "23P", "4P", None, ""], "other": ["x"]}
    src = CaveSource("https://example.org")
    mat = Mat()
    src._mat = lambda ds: mat
    src._check_version = lambda ds, v: 943 if v is None else v
    assert src.distinct_values("ds", "cells", "cell_type") == ["23P", "4P", "BC"]
    assert src.distinct_values("ds", "cells", "cell_type", prefix="b") == ["BC"]
    assert src.distinct_values("ds", "cells", "nothing") == []
    assert Mat.calls == 1
    src.distinct_values("ds", "cells", "cell_type", version=1)
    assert Mat.calls == 2


def test_cave_source_failure_is_typed():
    from models.errors import CavernError
    from services.cave.cave_source import CaveSource

    class Mat:
        def get_unique_string_values(self, table):
            raise RuntimeError("boom")
    src = CaveSource("https://example.org")
    src._mat = lambda ds: Mat()
    src._check_version = lambda ds, v: 1
    with pytest.raises(CavernError):
        src.distinct_values("ds", "cells", "cell_type")


def test_split_and_join_the_last_list_item():
    assert split_last("a, b, c") == ("a, b, ", "c")
    assert split_last("abc") == ("", "abc")
    assert split_last("a\nb") == ("a\n", "b")
    assert join_last("e, unc", "uncertain") == "e, uncertain"
    assert join_last("", "x") == "x"

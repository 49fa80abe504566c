"""Large results give the allocator's freed pages back (services.results.memory)."""
import numpy as np
import pandas as pd

from models.query_spec import QuerySpec
from services.local.local_source import LocalSource
from services.results import memory


def test_small_results_are_not_trimmed(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "_trim", lambda pad: calls.append(pad) or 1)
    assert memory.release_freed_memory(memory.TRIM_ROWS - 1) is False
    assert calls == []
    assert memory.release_freed_memory(memory.TRIM_ROWS) is True
    assert calls == [0]


def test_a_large_local_query_releases_memory(tmp_path, monkeypatch):
    n = memory.TRIM_ROWS + 5
    pd.DataFrame({"id": np.arange(n, dtype=np.int64),
                  "pre_pt_root_id": np.arange(n, dtype=np.int64) + 10**17}
                 ).to_parquet(tmp_path / "synapses.parquet")
    seen = []
    real = memory.release_freed_memory
    monkeypatch.setattr(memory, "release_freed_memory", lambda k=None: seen.append(k) or real(k))
    src = LocalSource([tmp_path])
    try:
        ds = src.datastacks()[0]
        frame = src.query(QuerySpec(table="synapses", datastack=ds, version=0)).frame
        assert len(frame) == n and seen == [n]
        src.query(QuerySpec(table="synapses", datastack=ds, version=0, limit=10))
        assert seen[-1] == 10  # asked, and declined below TRIM_ROWS
    finally:
        src.close()

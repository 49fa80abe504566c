"""LocalSource.prepare reads a big Parquet table's footer and root-id statistics ahead, so
the first query of a cell finds them parsed; a query arriving during that read waits for
it instead of parsing the footer a second time; the answers do not change."""
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.local import row_group_stats
from services.local.local_source import LocalSource

BASE = 864691135000000000


@pytest.fixture()
def folder(tmp_path):
    n = 20_000
    pre = np.sort(BASE + np.arange(n) // 10)
    pq.write_table(pa.table({"id": np.arange(n), "pre_pt_root_id": pre,
                             "post_pt_root_id": BASE + (np.arange(n) * 7919) % 3_000,
                             "size": np.arange(n) % 300}), tmp_path / "synapses.parquet",
                   row_group_size=1_000)
    row_group_stats._metadata.cache_clear()
    row_group_stats._stats.cache_clear()
    return tmp_path


def _parses(monkeypatch, delay=0.0):
    """Counts footer parses (a pyarrow.parquet.ParquetFile not given the parsed footer),
    each taking ``delay`` more."""
    seen = []
    real = pq.ParquetFile

    def counting(*args, **kwargs):
        if kwargs.get("metadata") is None:
            seen.append(threading.current_thread().name)
            time.sleep(delay)
        return real(*args, **kwargs)
    monkeypatch.setattr(pq, "ParquetFile", counting)
    return seen


def _one_cell(src):
    spec = QuerySpec(table="synapses", datastack=src.datastacks()[0], version=0,
                     filters=(Filter("pre_pt_root_id", Op.EQ, BASE + 42),))
    return src.query(spec).frame


def test_prepare_reads_the_footer_and_id_statistics_once(folder, monkeypatch):
    monkeypatch.setattr(row_group_stats, "PREPARE_BYTES", 0)
    src = LocalSource([folder])
    try:
        seen = _parses(monkeypatch)
        src.tables(src.datastacks()[0])  # the listing reads the footer, once
        src.prepare(src.datastacks()[0], None)
        assert len(seen) == 1
        assert row_group_stats._stats.cache_info().currsize == 2  # pre and post root ids
        frame = _one_cell(src)
        assert len(seen) == 1  # the query found the footer parsed
        assert sorted(frame["id"]) == list(range(420, 430))
    finally:
        src.close()


def test_prepare_imports_what_a_big_tables_first_frame_needs(folder, monkeypatch):
    import subprocess
    import sys
    code = ("import sys; from services.local import row_group_stats as r; r.PREPARE_BYTES = 0;"
            "from services.local.local_source import LocalSource;"
            f"s = LocalSource([{str(folder)!r}]); d = s.datastacks()[0]; s.tables(d);"
            "print('pandas' in sys.modules, end=' '); s.prepare(d); print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(Path(__file__).resolve().parents[3]), check=True).stdout
    assert out.split() == ["False", "True"]


def test_small_files_are_left_to_the_query(folder, monkeypatch):
    src = LocalSource([folder])
    try:
        src.prepare(src.datastacks()[0], None)  # a 20,000-row file: its footer is cheap
        assert row_group_stats._stats.cache_info().currsize == 0
        assert sorted(_one_cell(src)["id"]) == list(range(420, 430))
    finally:
        src.close()


def test_a_query_during_prepare_waits_for_its_parse(folder, monkeypatch):
    monkeypatch.setattr(row_group_stats, "PREPARE_BYTES", 0)
    src = LocalSource([folder])
    try:
        seen = _parses(monkeypatch, delay=0.3)
        ahead = threading.Thread(target=src.prepare, args=(src.datastacks()[0], None),
                                 name="prepare")
        ahead.start()
        while not seen:
            time.sleep(0.005)
        frame = _one_cell(src)  # started while the footer is being parsed
        ahead.join()
        assert seen == ["prepare"]  # parsed once, by prepare
        assert sorted(frame["id"]) == list(range(420, 430))
    finally:
        src.close()


def test_prepare_of_an_unknown_context_says_nothing(folder):
    src = LocalSource([folder])
    try:
        src.prepare("no such datastack", None)
        src.prepare(src.datastacks()[0], 99)
    finally:
        src.close()

"""Atomic CSV/TSV/Parquet export: exact root ids, positions, failures leave old files intact."""
import errno
import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import services.results.export as export
from models.errors import CancelledError, ExportError
from services.source import CancelToken
from services.results.export import export_format, export_frame, frame_as_text

ROOT_A = 864691135774053371
ROOT_B = 648518346349539437


def synapses(n=5):
    pos = np.empty(n, dtype=object)
    pos[:] = [np.array([91369 + i, 57798, 1582]) for i in range(n)]
    return pd.DataFrame({
        "id": np.arange(n, dtype=np.int64) + 1484,
        "pre_pt_root_id": np.full(n, ROOT_A, dtype=np.int64),
        "post_pt_root_id": np.full(n, ROOT_B, dtype=np.int64),
        "size": np.linspace(0.5, 2.5, n),
        "ctr_pt_position": pos,
    })


def test_format_from_suffix_and_argument(tmp_path):
    assert export_format(tmp_path / "a.CSV") == "csv"
    assert export_format(tmp_path / "a.parquet") == "parquet"
    assert export_format(tmp_path / "a.txt", "parquet") == "parquet"
    with pytest.raises(ExportError, match="Cannot tell the format"):
        export_format(tmp_path / "a.xlsx")
    with pytest.raises(ExportError, match="formats are"):
        export_format(tmp_path / "a.csv", "xlsx")


def test_csv_has_exact_root_ids_and_position_text(tmp_path):
    target = tmp_path / "syn.csv"
    assert export_frame(synapses(), target) == target
    lines = target.read_text().splitlines()
    assert lines[0] == "id,pre_pt_root_id,post_pt_root_id,size,ctr_pt_position"
    assert lines[1] == f'1484,{ROOT_A},{ROOT_B},0.5,"[91369, 57798, 1582]"'
    back = pd.read_csv(target)
    assert back["pre_pt_root_id"].dtype == np.int64
    assert (back["pre_pt_root_id"] == ROOT_A).all()
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left


def test_tsv_and_float_positions(tmp_path):
    df = pd.DataFrame({"id": [1, 2], "pt_position": [[4.0, 8.0, 40.5], None]})
    export_frame(df, tmp_path / "p.tsv")
    lines = (tmp_path / "p.tsv").read_text().splitlines()
    assert lines == ["id\tpt_position", "1\t[4, 8, 40.5]", "2\t"]


def test_parquet_keeps_lists_and_int64(tmp_path):
    target = tmp_path / "syn.parquet"
    export_frame(synapses(), target)
    table = pq.read_table(target)
    assert str(table.schema.field("pre_pt_root_id").type) == "int64"
    assert table.column("ctr_pt_position").to_pylist()[0] == [91369, 57798, 1582]
    assert table.column("pre_pt_root_id").to_pylist()[0] == ROOT_A


def test_many_chunks_are_all_written(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_ROWS", 3)
    seen = []
    export_frame(synapses(10), tmp_path / "s.csv", progress=lambda done, n: seen.append(done))
    assert seen == [3, 6, 9, 10]
    back = pd.read_csv(tmp_path / "s.csv")
    assert back["id"].tolist() == list(range(1484, 1494))
    export_frame(synapses(10), tmp_path / "s.parquet")
    assert pq.read_table(tmp_path / "s.parquet").num_rows == 10


def test_failure_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "syn.csv"
    target.write_text("old contents\n")
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    real = export._write_csv_chunk
    calls = []

    def write_then_fill_disk(chunk, fh, sep, header):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(chunk, fh, sep, header)

    monkeypatch.setattr(export, "_write_csv_chunk", write_then_fill_disk)
    with pytest.raises(ExportError, match="disk is full"):
        export_frame(synapses(6), target)
    assert calls == [2, 2]  # the first chunk really reached the temporary file
    assert target.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["syn.csv"]


def test_parquet_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "mixed.parquet"
    target.write_bytes(b"old")
    bad = pd.DataFrame({"x": [1, "a", 2.5]})  # mixed types Arrow cannot store
    with pytest.raises(ExportError, match="Try CSV"):
        export_frame(bad, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["mixed.parquet"]


def test_permission_denied_is_a_clear_error(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export.tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match="permission denied"):
        export_frame(synapses(), tmp_path / "s.csv")


def test_missing_folder_and_folder_target(tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        export_frame(synapses(), tmp_path / "nope" / "s.csv")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        export_frame(synapses(), tmp_path / "d.csv")


def test_cancel_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    token = CancelToken()
    target = tmp_path / "s.parquet"
    with pytest.raises(CancelledError):
        export_frame(synapses(6), target, cancel=token,
                     progress=lambda done, n: token.cancel())
    assert list(tmp_path.iterdir()) == []


def test_written_file_is_not_private(tmp_path):
    target = tmp_path / "s.csv"
    export_frame(synapses(), target)
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_frame_as_text_leaves_the_input_alone():
    df = synapses(2)
    text = frame_as_text(df)
    assert text["ctr_pt_position"].tolist() == ["[91369, 57798, 1582]", "[91370, 57798, 1582]"]
    assert isinstance(df["ctr_pt_position"].iloc[0], np.ndarray)

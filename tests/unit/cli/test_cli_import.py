"""``main.py import-table``: a dump comes into a local datastack sorted, whole, and is then
queried through the same LocalSource as any table; bad arguments are one line, status 2."""
import numpy as np
import pandas as pd
import pytest

from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.cli.cli_commands import cli_main
from services.local.local_source import LocalSource
from services.local.table_import import row_group_ranges


@pytest.fixture
def dump(tmp_path):
    rng = np.random.default_rng(7)
    n = 50_000
    ids = 864691135000000000 + rng.integers(0, 3_000, (n, 2))
    frame = pd.DataFrame({"id": np.arange(n, dtype=np.int64), "pre_pt_root_id": ids[:, 0],
                          "post_pt_root_id": ids[:, 1], "size": rng.integers(1, 900, n)})
    path = tmp_path / "synapses_pni_2.parquet"
    frame.to_parquet(path, index=False)
    return path, frame


def test_import_sorts_and_the_table_answers_like_pandas(tmp_path, dump, capsys):
    path, frame = dump
    stack = tmp_path / "stack"
    stack.mkdir()
    assert cli_main(["import-table", str(path), "--into", str(stack)]) == 0
    out = capsys.readouterr().out
    assert "50,000 rows" in out and "sorted by pre_pt_root_id, post_pt_root_id" in out
    target = stack / "synapses_pni_2.parquet"
    ranges = row_group_ranges(target, "pre_pt_root_id")
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))  # sorted: groups in order
    src = LocalSource([stack])
    try:
        ds = src.datastacks()[0]
        cells = tuple(int(i) for i in frame.pre_pt_root_id.unique()[:5])
        got = src.query(QuerySpec(table="synapses_pni_2", datastack=ds, version=0,
                                  filters=(Filter("pre_pt_root_id", Op.IN, cells),))).frame
        want = frame[frame.pre_pt_root_id.isin(cells)]
        assert sorted(got["id"]) == sorted(want["id"])
    finally:
        src.close()
    # a second copy sorted by post, under its own name
    assert cli_main(["import-table", str(path), "--into", str(stack), "--name", "inputs",
                     "--sort-by", "post_pt_root_id"]) == 0
    ranges = row_group_ranges(stack / "inputs.parquet", "post_pt_root_id")
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))


@pytest.mark.parametrize("extra, words", [
    (["--sort-by", "nope"], "no column 'nope'"),
    (["--memory", "lots"], "not a size"),
    (["--name", "../evil"], "not a table name"),
])
def test_bad_arguments_are_one_line(tmp_path, dump, capsys, extra, words):
    path, _ = dump
    into = tmp_path / "into"
    into.mkdir()
    assert cli_main(["import-table", str(path), "--into", str(into)] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err
    assert list(into.iterdir()) == []  # nothing half-written left behind


def test_existing_table_missing_folder_and_corrupt_source(tmp_path, dump, capsys):
    path, _ = dump
    assert cli_main(["import-table", str(path), "--into", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
    stack = tmp_path / "s"
    stack.mkdir()
    assert cli_main(["import-table", str(path), "--into", str(stack)]) == 0
    before = (stack / "synapses_pni_2.parquet").read_bytes()
    assert cli_main(["import-table", str(path), "--into", str(stack)]) == 2
    assert "--force" in capsys.readouterr().err
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    assert cli_main(["import-table", str(bad), "--into", str(stack)]) == 1
    assert "Importing 'broken.parquet' failed" in capsys.readouterr().err
    assert not (stack / "broken.parquet").exists()
    assert (stack / "synapses_pni_2.parquet").read_bytes() == before

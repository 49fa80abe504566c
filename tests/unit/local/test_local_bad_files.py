"""Local datastacks made of bad files: every one gives a typed error that says why."""
import json
import os
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.errors import CavernError, DataSourceError, NotFoundError
from models.filters import Filter, Op
from models.query_spec import QuerySpec
from services.local.local_source import DatastackNameTakenError, LocalSource

MANIFEST = {"name": "tiny", "voxel_resolution": [4, 4, 40], "default_version": 1,
            "versions": [{"version": 1, "folder": "v1"}]}


def make_stack(root, manifest=MANIFEST, tables=("cells",)):
    root.mkdir(parents=True, exist_ok=True)
    (root / "v1").mkdir(exist_ok=True)
    for t in tables:
        pq.write_table(pa.table({"id": [1, 2, 3], "size": [1.0, 2.0, 3.0]}), root / "v1" / f"{t}.parquet")
    if manifest is not None:
        (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def open_error(folder):
    with pytest.raises(CavernError) as err:
        LocalSource([folder])
    assert type(err.value).__module__.startswith("models") or isinstance(err.value, DataSourceError)
    return str(err.value)


@pytest.mark.parametrize("change, words", [
    ({"default_version": [1]}, "default_version"),
    ({"default_version": {"v": 1}}, "default_version"),
    ({"default_version": 7}, "not one of its versions"),
    ({"voxel_resolution": [0, 0, 0]}, "voxel_resolution"),
    ({"voxel_resolution": [4, 4]}, "voxel_resolution"),
    ({"voxel_resolution": "4,4,40"}, "voxel_resolution"),
    ({"voxel_resolution": [4, 4, 1e400]}, "voxel_resolution"),
    ({"voxel_resolution": [4, 4, 10 ** 400]}, "voxel_resolution"),
    ({"name": ["x"]}, "'name' must be text"),
    ({"cell_type_tables": "a"}, "cell_type_tables"),
    ({"transform": [1]}, "transform"),
    ({"versions": {"1": "v1"}}, "versions"),
    ({"versions": [5]}, "versions[0]"),
    ({"versions": [{"version": "x"}]}, "version number"),
    ({"versions": [{"version": 1, "folder": "v1"}, {"version": 1, "folder": "v1"}]}, "twice"),
    ({"versions": [{"version": 1, "folder": "../x"}]}, "outside"),
    ({"versions": [{"version": 1, "folder": "/etc"}]}, "outside"),
    ({"versions": [{"version": 1, "folder": 5}]}, "'folder' must be text"),
    ({"versions": [{"version": 1, "timestamp": 5}]}, "timestamp"),
], ids=lambda x: x if isinstance(x, str) else json.dumps(x)[:40])
def test_bad_manifest_fields_are_typed_errors(tmp_path, change, words):
    folder = make_stack(tmp_path / "ds", {**MANIFEST, **change})
    msg = open_error(folder)
    assert words in msg and "manifest" in msg.lower()


@pytest.mark.parametrize("text", ["[1, 2]", "\"name\"", "{", "[" * 100_000 + "]" * 100_000,
                                  "{\"a\": " * 50_000 + "1" + "}" * 50_000],
                         ids=["list", "text", "cut", "deep-list", "deep-object"])
def test_manifest_not_an_object_or_too_deep(tmp_path, text):
    folder = make_stack(tmp_path / "ds", None)
    (folder / "manifest.json").write_text(text)
    open_error(folder)


def test_manifest_that_is_a_folder(tmp_path):
    folder = make_stack(tmp_path / "ds", None)
    (folder / "manifest.json").mkdir()
    assert "is a folder" in open_error(folder)


def test_manifest_with_a_bom_is_accepted(tmp_path):
    folder = make_stack(tmp_path / "ds", None)
    (folder / "manifest.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(MANIFEST).encode())
    assert LocalSource([folder]).datastacks() == ["tiny"]


def test_manifest_not_utf8(tmp_path):
    folder = make_stack(tmp_path / "ds", None)
    (folder / "manifest.json").write_bytes(b'{"name": "caf\xe9"}')
    assert "UTF-8" in open_error(folder)


def test_version_folder_that_links_outside_is_refused(tmp_path):
    outside = make_stack(tmp_path / "elsewhere", None)
    folder = make_stack(tmp_path / "ds", {**MANIFEST, "versions": [{"version": 1, "folder": "v9"}]})
    os.symlink(outside / "v1", folder / "v9")
    assert "outside" in open_error(folder)


def test_manifest_that_links_outside_is_refused(tmp_path):
    outside = tmp_path / "m.json"
    outside.write_text(json.dumps(MANIFEST))
    folder = make_stack(tmp_path / "ds", None)
    os.symlink(outside, folder / "manifest.json")
    assert "outside" in open_error(folder)


def test_table_file_linking_outside_is_refused_alone(tmp_path):
    other = make_stack(tmp_path / "other", None, tables=("secret",))
    folder = make_stack(tmp_path / "ds")
    os.symlink(other / "v1" / "secret.parquet", folder / "v1" / "secret.parquet")
    src = LocalSource([folder])
    infos = {t.name: t for t in src.tables("tiny")}
    assert "outside" in infos["secret"].notice_text
    with pytest.raises(DataSourceError, match="outside"):
        src.query(QuerySpec("secret", "tiny"))
    assert len(src.query(QuerySpec("cells", "tiny")).frame) == 3


def test_missing_version_folder_names_the_folder(tmp_path):
    folder = make_stack(tmp_path / "ds", {**MANIFEST, "versions": [
        {"version": 1, "folder": "v1"}, {"version": 2, "folder": "gone"}]})
    src = LocalSource([folder])
    with pytest.raises(NotFoundError, match="gone"):
        src.tables("tiny", 2)
    with pytest.raises(NotFoundError, match="gone"):
        src.query(QuerySpec("cells", "tiny", 2))
    assert len(src.tables("tiny", 1)) == 1


@pytest.mark.parametrize("sidecar", [
    "[1, 2]", '"text"', "5", '{"units": [1]}', '{"units": {"a": 1}}',
    '{"voxel_resolution": [4, 4]}', '{"voxel_resolution": [0, 0, 0]}', '{"description": 5}',
    '{"kind": ["view"]}', '{"kind": "nonsense"}', '{"classification_system": {}}',
    "{", "[" * 100_000, '{"a": ' * 50_000 + "1" + "}" * 50_000,
], ids=lambda s: s[:24])
def test_bad_sidecar_hides_only_its_table(tmp_path, sidecar):
    folder = make_stack(tmp_path / "ds", tables=("cells", "good"))
    (folder / "v1" / "cells.json").write_text(sidecar)
    src = LocalSource([folder])
    infos = {t.name: t for t in src.tables("tiny")}
    assert set(infos) == {"cells", "good"}
    assert infos["cells"].notice_text.startswith("Unreadable") and "cells.json" in infos["cells"].notice_text
    assert infos["good"].notice_text == ""
    with pytest.raises(DataSourceError, match="cells.json"):
        src.query(QuerySpec("cells", "tiny"))
    with pytest.raises(DataSourceError, match="cells.json"):
        src.row_count("tiny", "cells")
    assert len(src.query(QuerySpec("good", "tiny")).frame) == 3


@pytest.mark.parametrize("meta", [b"[1]", b"{\"units\": 3}", b"{\"voxel_resolution\": \"x\"}",
                                  b"\xff\xfe", b"{" * 10], ids=lambda b: repr(b)[:24])
def test_bad_parquet_metadata_hides_only_its_table(tmp_path, meta):
    folder = make_stack(tmp_path / "ds", tables=("good",))
    t = pa.table({"id": [1]}).replace_schema_metadata({"cavern": meta})
    pq.write_table(t, folder / "v1" / "bad.parquet")
    infos = {t.name: t for t in LocalSource([folder]).tables("tiny")}
    assert infos["bad"].notice_text.startswith("Unreadable") and "bad.parquet" in infos["bad"].notice_text
    assert infos["good"].notice_text == ""


@pytest.mark.parametrize("name", ["a*", "a?", "a[b]", "[!x]"])
def test_a_name_is_never_a_glob_pattern(tmp_path, name):
    folder = make_stack(tmp_path / f"ds{name}", tables=(name, "ab", "aa", "b", "x"))
    pq.write_table(pa.table({"id": [99], "size": [9.0]}), folder / "v1" / f"{name}.parquet")
    src = LocalSource([folder])
    assert list(src.query(QuerySpec(name, "tiny")).frame["id"]) == [99]
    assert src.row_count("tiny", name, filters=[Filter("id", Op.GE, 0)]) == 1
    assert len(src.query(QuerySpec("ab", "tiny")).frame) == 3


def test_csv_name_is_never_a_glob_pattern(tmp_path):
    folder = tmp_path / "plain*"
    folder.mkdir()
    (folder / "t*.csv").write_text("id\n1\n")
    (folder / "tt.csv").write_text("id\n2\n3\n")
    src = LocalSource([folder])
    assert list(src.query(QuerySpec("t*", "plain*")).frame["id"]) == [1]


def test_columns_that_differ_only_in_case(tmp_path):
    folder = tmp_path / "case"
    folder.mkdir()
    pq.write_table(pa.table({"id": [1, 2, 3], "ID": [10, 20, 30]}), folder / "t.parquet")
    (folder / "c.csv").write_text("id,ID\n1,10\n2,20\n3,30\n")
    src = LocalSource([folder])
    for table in ("t", "c"):
        assert [c.name for c in src.table_info("case", table).columns] == ["id", "ID"]
        r = src.query(QuerySpec(table, "case", columns=("ID",)))
        assert list(r.frame.columns) == ["ID"] and list(r.frame["ID"]) == [10, 20, 30]
        r = src.query(QuerySpec(table, "case", filters=(Filter("ID", Op.GE, 20),)))
        assert list(r.frame.columns) == ["id", "ID"] and list(r.frame["id"]) == [2, 3]
        assert src.row_count("case", table, filters=[Filter("id", Op.GE, 2)]) == 2


def test_latin1_csv_is_read(tmp_path):
    folder = tmp_path / "lat"
    folder.mkdir()
    (folder / "t.csv").write_bytes("name,v\nJosé,1\nZoë,2\n".encode("latin-1"))
    r = LocalSource([folder]).query(QuerySpec("t", "lat"))
    assert list(r.frame["name"]) == ["José", "Zoë"]


def test_ragged_csv_is_a_clear_message(tmp_path):
    folder = tmp_path / "rag"
    folder.mkdir()
    (folder / "t.csv").write_text("a,b,c\n1,2,3\n4,5\n")
    src = LocalSource([folder])
    info = src.table_info("rag", "t")
    assert "line 3 has 2 fields, but the header has 3" in info.notice_text
    with pytest.raises(DataSourceError, match="line 3"):
        src.query(QuerySpec("t", "rag"))


def test_csv_with_a_huge_line_is_listed_quickly(tmp_path):
    folder = tmp_path / "huge"
    folder.mkdir()
    with open(folder / "t.csv", "w") as fh:
        fh.write("a,b\n1,2\n3," + "x" * 32_000_000 + "\n4,5\n")
    with open(folder / "h.csv", "w") as fh:
        fh.write("x" * 3_000_000 + "\n")
    t0 = time.perf_counter()
    infos = {t.name: t for t in LocalSource([folder]).tables("huge")}
    assert time.perf_counter() - t0 < 3
    assert [c.name for c in infos["t"].columns] == ["a", "b"]
    assert "longer than 1 MB" in infos["h"].notice_text


def test_same_name_from_another_folder_is_not_replaced(tmp_path):
    a = make_stack(tmp_path / "a", tables=("one", "two"))
    b = make_stack(tmp_path / "b", tables=("one",))
    src = LocalSource([a])
    with pytest.raises(DatastackNameTakenError) as err:
        src.add_folder(b)
    assert "already open" in str(err.value) and err.value.suggestion
    assert len(src.tables("tiny")) == 2  # the open one is untouched
    assert src.add_folder(b, name=err.value.suggestion) == err.value.suggestion
    assert len(src.tables(err.value.suggestion)) == 1 and len(src.tables("tiny")) == 2
    assert src.add_folder(a) == "tiny"  # the same folder again just reloads

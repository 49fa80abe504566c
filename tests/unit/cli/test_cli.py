"""The command line: same services as the GUI, one-line errors with exit status 2."""
import pandas as pd
import pytest

from services.cli.cli_commands import cli_main


def test_tables_lists_name_count_description(capsys):
    assert cli_main(["tables"]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_name = {ln.split("\t")[0]: ln.split("\t") for ln in lines}
    assert by_name["synapses"][1] == "1961"
    assert "complete pyramidal-cell subgraph" in by_name["synapses"][2]
    assert cli_main(["tables", "--datastack", "minnie65_sample", "--version", "343"]) == 0
    assert "aibs_soma_nuc_metamodel_preds_v117\t56209" in capsys.readouterr().out


def test_query_to_csv_matches_filters(tmp_path):
    out = tmp_path / "q.csv"
    rc = cli_main(["query", "synapses", "--filter", "size>=300",
                    "--filter", "pre_pt_root_id in 648518346349539437,648518346349537978",
                    "--columns", "id,pre_pt_root_id,size", "--csv", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["id", "pre_pt_root_id", "size"]
    assert len(df) == 19 and (df["size"] >= 300).all()
    assert set(df.pre_pt_root_id) == {648518346349539437, 648518346349537978}


def test_query_box_in_nm_to_parquet(tmp_path):
    out = tmp_path / "box.parquet"
    rc = cli_main(["query", "synapses", "--filter",
                    "ctr_pt_position within 280000,200000,0,380000,280000,80000 nm",
                    "--csv", str(out)])
    assert rc == 0
    df = pd.read_parquet(out)
    assert 0 < len(df) < 1961
    xyz = pd.DataFrame(df.ctr_pt_position.tolist()).to_numpy()
    assert (xyz[:, 0] >= 70000).all() and (xyz[:, 0] <= 95000).all()


@pytest.mark.parametrize("argv,msg", [
    (["query", "synapses", "--filter", "size>=abc"], "not a whole number"),
    (["query", "synapses", "--filter", "nope=1"], "Unknown column"),
    (["query", "missing_table"], "not in"),
    (["query", "synapses", "--columns", "id,zzz"], "unknown column"),
    (["query", "synapses", "--limit", "0"], "positive"),
    (["query", "synapses", "--filter", "ctr_pt_position within 1,2,3"], "6 numbers"),
    (["tables", "--datastack", "nothing"], "No local datastack"),
    (["tables", "--version", "99"], "Version 99"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, argv, msg):
    rc = cli_main(argv + (["--csv", str(tmp_path / "x.csv")] if argv[0] == "query" else []))
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert msg in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()


def test_version_flag(capsys):
    assert cli_main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("Cavern ")


def test_datastack_dir_opens_a_folder(tmp_path, capsys):
    pd.DataFrame({"pt_root_id": [1, 2], "cell_type": ["a", "b"]}).to_parquet(tmp_path / "t.parquet")
    assert cli_main(["--datastack-dir", str(tmp_path), "tables"]) == 0
    assert capsys.readouterr().out.startswith("t\t2\t")


def test_query_code_of_a_reference_table_keys_target_filters_by_the_target(tmp_path, capsys):
    """A filter on pt_root_id of a cell-type reference table must be keyed by its nucleus
    table (the real engine answers query_table's form with a 500): the code says so."""
    rc = cli_main(["query", "allen_v1_column_types_slanted_ref", "--datastack", "minnie65_sample",
                   "--version", "0", "--filter", "pt_root_id=864691135101289504",
                   "--csv", str(tmp_path / "r.csv"), "--code"])
    assert rc == 0
    code = capsys.readouterr().out
    assert "client.materialize.join_query(" in code
    assert "filter_equal_dict={'nucleus_detection_v0': {'pt_root_id': 864691135101289504}}" in code


def test_code_of_a_local_query_names_the_cave_datastack_and_version(tmp_path, capsys):
    """Sample manifests say which CAVE datastack/version their rows came from."""
    assert cli_main(["query", "soma_valence", "--limit", "3", "--csv", str(tmp_path / "s.csv"),
                     "--code"]) == 0
    code = capsys.readouterr().out
    assert "CAVEclient('pinky100')" in code and "materialization_version=185" in code
    compile(code, "<copied>", "exec")


def test_a_wrongly_typed_cave_version_is_a_clear_error(tmp_path, capsys):
    import json
    folder = tmp_path / "ds"
    (folder / "v1").mkdir(parents=True)
    (folder / "v1" / "t.csv").write_text("id,x\n1,2\n")
    (folder / "manifest.json").write_text(json.dumps({
        "name": "ds", "cave_datastack": "minnie65_public",
        "versions": [{"version": 1, "cave_version": [1]}]}))
    assert cli_main(["--datastack-dir", str(folder), "tables"]) == 1  # a bad file: data error
    err = capsys.readouterr().err
    assert "cave_version" in err and "Traceback" not in err

"""`partners` and `matrix` CLI commands on the bundled pinky100 sample."""
import pandas as pd
import pytest

from services.cli.cli_commands import cli_main

CELL = 648518346349538157  # the sample's most-connected presynaptic cell (79 synapses out)


def _synapses():
    from services.local.local_source import sample_folders
    folder = next(p for p in sample_folders() if p.name == "pinky100_sample")
    return pd.read_parquet(folder / "v185" / "synapses.parquet")


def test_partners_out_matches_raw_synapses(tmp_path):
    out = tmp_path / "out.csv"
    assert cli_main(["partners", str(CELL), "--direction", "out", "--csv", str(out)]) == 0
    df = pd.read_csv(out)
    syn = _synapses()
    mine = syn[syn.pre_pt_root_id == CELL]
    expected = mine.groupby("post_pt_root_id")["size"].agg(["size", "sum"])
    assert len(df) == len(expected) == 70
    got = df.set_index("partner_root_id")
    assert got["n_synapses"].sum() == len(mine) == 79
    assert (got.loc[expected.index, "n_synapses"].to_numpy() == expected["size"].to_numpy()).all()
    assert (got.loc[expected.index, "size_sum"].to_numpy() == expected["sum"].to_numpy()).all()
    assert df["partner_root_id"].dtype == "int64"
    assert set(df["cell_type"]) == {"e"}


def test_partners_grouped_by_type_and_proofread(tmp_path):
    out = tmp_path / "g.csv"
    assert cli_main(["partners", str(CELL), "--direction", "out", "--group-by", "proofread",
                      "--csv", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["proofread", "n_partners", "n_synapses", "synapse_share"]
    assert df["n_synapses"].sum() == 79
    assert df["synapse_share"].sum() == pytest.approx(1.0)
    assert cli_main(["partners", str(CELL), "--direction", "in", "--group-by", "cell_type",
                      "--csv", str(out)]) == 0
    df = pd.read_csv(out)
    assert df.iloc[0]["cell_type"] == "e" and df["n_partners"].sum() == 5


def test_matrix_long_csv_is_the_pyramidal_subgraph(tmp_path, capsys):
    out = tmp_path / "m.csv"
    rc = cli_main(["matrix", "--cells-table", "soma_valence", "--filter", "cell_type=e",
                    "--weight", "size_sum", "--csv", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["pre_pt_root_id", "post_pt_root_id", "weight", "n_synapses",
                                "weight_formula"]
    syn = _synapses()
    pairs = syn.groupby(["pre_pt_root_id", "post_pt_root_id"])["size"].agg(["size", "sum"])
    assert len(df) == len(pairs) == 1736
    assert df["n_synapses"].sum() == 1961
    got = df.set_index(["pre_pt_root_id", "post_pt_root_id"]).loc[pairs.index]
    assert (got["weight"].to_numpy() == pairs["sum"].to_numpy()).all()
    assert "334 x 334 cells" in capsys.readouterr().err


def test_matrix_binary_weight_and_filter_with_no_cells(tmp_path):
    out = tmp_path / "b.csv"
    assert cli_main(["matrix", "--cells-table", "soma_valence", "--weight", "binary",
                      "--csv", str(out)]) == 0
    assert set(pd.read_csv(out)["weight"]) == {1.0}
    # glia make no synapses in this subgraph: a clear error, not an empty file
    assert cli_main(["matrix", "--cells-table", "soma_valence", "--filter", "cell_type=g",
                      "--csv", str(tmp_path / "g.csv")]) == 2


@pytest.mark.parametrize("argv, needle", [
    (["partners", "12ab", "--csv", "X"], "not a root id"),
    (["partners", "6.48e17", "--csv", "X"], "not a root id"),
    (["matrix", "--cells-table", "nope", "--csv", "X"], "nope"),
    (["matrix", "--cells-table", "soma_valence", "--filter", "colour=red", "--csv", "X"],
     "Unknown column 'colour'"),
    (["matrix", "--cells-table", "soma_valence", "--filter", "cell_type", "--csv", "X"],
     "Cannot read filter"),
    (["partners", str(CELL), "--group-by", "colour", "--csv", "X"], "Cannot group"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, needle):
    argv = [a if a != "X" else str(tmp_path / "x.csv") for a in argv]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()

"""The CLI against the loopback CAVE server: the token comes from the keyring only."""
import keyring
import pandas as pd
import pytest

from services.cli.cli_commands import cli_main
from tests.e2e.conftest import GOOD_TOKEN
from tests.unit.cave.test_token_store import MemoryKeyring
from services.cave.token_store import TokenStore


@pytest.fixture
def stored_token(cave_server):
    before = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    TokenStore().set_token(cave_server.url, GOOD_TOKEN)
    yield
    keyring.set_keyring(before)


def test_query_and_tables_on_a_server(cave_server, stored_token, tmp_path, capsys):
    out = tmp_path / "q.csv"
    rc = cli_main(["query", "synapses", "--server", cave_server.url, "--datastack",
                    "pinky100_sample", "--filter", "size>=1000", "--csv", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    local = pd.read_parquet("resources/samples/pinky100_sample/v185/synapses.parquet")
    assert sorted(df.id) == sorted(local.id[local["size"] >= 1000])
    assert cli_main(["tables", "--server", cave_server.url, "--datastack", "pinky100_sample"]) == 0
    assert "synapses\t1961\t" in capsys.readouterr().out
    assert all(GOOD_TOKEN not in r.url for r in cave_server.requests)


def test_server_errors_are_one_line(cave_server, stored_token, tmp_path, capsys):
    assert cli_main(["tables", "--server", cave_server.url]) == 2
    assert "--datastack" in capsys.readouterr().err
    cave_server.tokens = {"another"}
    rc = cli_main(["tables", "--server", cave_server.url, "--datastack", "pinky100_sample"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "token" in err and len(err.splitlines()) == 1


def _row_requests(server) -> list:
    """Queries for rows (not the one-row probe of a table's columns, nor the catalogue)."""
    return [r for r in server.requests if r.method == "POST" and r.path.endswith("/query")
            and b'"limit": 1}' not in r.body]


def test_a_second_cli_run_reads_the_disk_cache(cave_server, stored_token, tmp_path,
                                              monkeypatch):
    monkeypatch.setenv("CAVERN_CACHE_DIR", str(tmp_path / "cache"))
    args = ["query", "synapses", "--server", cave_server.url, "--datastack", "pinky100_sample",
            "--version", "185", "--filter", "size>=1000"]
    cave_server.clear_requests()
    assert cli_main(args + ["--csv", str(tmp_path / "a.csv")]) == 0
    assert _row_requests(cave_server) and any((tmp_path / "cache" / "results").glob("*.parquet"))
    cave_server.clear_requests()
    assert cli_main(args + ["--csv", str(tmp_path / "b.csv")]) == 0
    assert _row_requests(cave_server) == []  # the rows came from the cache
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()

"""Bad input on the command line: one `cavern: error:` line and status 2, no traceback."""
import pytest

from models.errors import InvalidInputError
from services.cli import cli_commands
from services.cli.cli_commands import cli_main


@pytest.mark.parametrize("expr,says", [
    ("pt_position within nan,0,0,10,10,10", "finite"),
    ("cell_type regex (?<=a)b", "lookbehind"),
    ("cell_type regex a{4294967296}", "above 255"),
    ("pt_root_id=-5", "negative"),
    ("pt_root_id=99999999999999999999", "64-bit"),
])
def test_bad_filter_is_one_line_and_status_2(expr, says, tmp_path, capsys):
    rc = cli_main(["query", "soma_valence", "--filter", expr, "--csv", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("cavern: error: ") and says in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o.csv").exists()


def test_huge_limit_is_a_typed_error(tmp_path, capsys):
    rc = cli_main(["query", "soma_valence", "--limit", "1" * 30, "--csv", str(tmp_path / "o.csv")])
    assert rc == 2 and "row limit" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999", "not a url", "ftp://x"])
def test_malformed_server_is_a_usage_error(url, capsys):
    with pytest.raises(SystemExit) as exc:  # was ValueError (Invalid IPv6 URL) from urlsplit
        cli_main(["tables", "--server", url, "--datastack", "x"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "is not a server address" in err and "Traceback" not in err


def test_a_message_with_new_lines_is_printed_on_one_line(monkeypatch, capsys):
    def boom(args, ws):
        raise InvalidInputError("first line\nsecond line", hint="do\tthis")
    monkeypatch.setitem(cli_commands.HANDLERS, "tables", boom)
    assert cli_main(["tables"]) == 2
    assert capsys.readouterr().err == "cavern: error: first line second line do this\n"


def test_code_of_a_local_query_says_which_cave_datastack(tmp_path, capsys):
    rc = cli_main(["query", "synapses", "--filter", "size>=300", "--code",
                   "--csv", str(tmp_path / "o.csv")])
    out = capsys.readouterr().out
    assert rc == 0 and "local datastack 'pinky100_sample', version 185" in out
    assert "CAVEclient('pinky100_sample')" not in out  # the sample is not a CAVE datastack
    compile(out, "<generated>", "exec")

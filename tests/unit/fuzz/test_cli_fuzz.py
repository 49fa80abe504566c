"""Fuzzing the command line in-process with random argv (real commands and options, random
text, unicode, huge numbers, bad filters, bad folders).

Rule: ``cli_main`` returns 0, 1 or 2 or argparse exits with 0 (help) or 2 (usage); a failure
is exactly one ``cavern: error: ...`` line on stderr; no traceback ever.
Default run: FUZZ_EXAMPLES examples per test; long run (see test_reader_fuzz.py)::

    CAVERN_FUZZ=long QT_QPA_PLATFORM=offscreen python3 -m pytest tests/unit/fuzz -q -p no:cacheprovider

Nothing is written outside a temporary folder (the working directory during the test) and
no network is used (--server is a dead loopback port or a malformed URL; keyring is null).
Failing inputs are kept below as ``@example`` regression cases.
"""
import atexit
import os
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import keyring.backends.null
from hypothesis import HealthCheck, example, given, settings, strategies as st

from services.cli.cli_commands import cli_main
from tests.unit.cli.test_cli_errors_subprocess import DEAD

_DEFAULT = 300
FUZZ_EXAMPLES = int(os.environ.get("CAVERN_FUZZ_EXAMPLES")
                    or (8_000 if os.environ.get("CAVERN_FUZZ") == "long" else _DEFAULT))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=FUZZ_EXAMPLES <= _DEFAULT,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

TMP = Path(tempfile.mkdtemp(prefix="cavern-cli-fuzz-"))
atexit.register(shutil.rmtree, TMP, True)
(TMP / "bad").mkdir()
(TMP / "bad" / "manifest.json").write_text('{"name": [1], "versions": 3}')
(TMP / "empty").mkdir()
(TMP / "afile").write_text("x")

COMMANDS = ["tables", "query", "cell", "link", "partners", "matrix"]
OPTIONS = ["--datastack-dir", "--datastack", "--server", "--version", "--filter", "--columns",
           "--limit", "--csv", "--code", "--json", "--synapses", "--site", "--direction",
           "--group-by", "--cell-types", "--known-only", "--proofread-only", "--cells-table",
           "--weight", "--order", "--keep-unconnected", "-V", "--app-version", "--about",
           "--quit-after-ms", "-h", "--", "-", "--filter=", "--limit=5"]
PINKY = ["648518346349539437", "648518346349537978", "103", "0", "-1", "12x", "8.6e17",
         "9223372036854775808", "1" * 40, "np.int64(648518346349539437)"]
TABLES = ["synapses", "soma_valence", "complete_somas", "synapse_pairs_micronsbinder",
          "nucleus_detection_v0", "synapses_pni_2", "nope", "*", "?", "../x", "syn*"]
FILTERS = ["size>=300", "size>=nan", "spine_vol_um3<inf", "pt_root_id=-5",
           "pre_pt_root_id in 648518346349539437,648518346349537978", "cell_type regex ^e",
           "cell_type regex (?<=a)b", "cell_type regex a{4294967296}",
           "cell_type regex " + "(" * 600 + ")" * 600, "cell_type~[", "cell_type=e",
           "ctr_pt_position within nan,0,0,10,10,10", "ctr_pt_position within 0,0,0,1e999,1,1 nm",
           "pt_position within 0,0,0,100000,100000,1000", "size between 1 and 1e400",
           "id=99999999999999999999999", "id in ", "garbage", "size!=3", "valid=maybe"]
DATASTACKS = ["pinky100_sample", "minnie65_sample", "minnie65_public", "", "nope", "*"]
FOLDERS = [str(TMP / "bad"), str(TMP / "empty"), str(TMP / "afile"), "missing", "",
           str(Path(__file__).resolve().parents[3] / "resources" / "samples" / "pinky100_sample")]
SERVERS = [DEAD, "", "not a url", "http://", "http://[::1", "ftp://127.0.0.1:1",
           "http://127.0.0.1:99999", "https://"]
OUTS = ["o.csv", "o.parquet", "o.txt", "sub/o.csv", ".", "", "o.csv/", "afile/x.csv",
        "x" * 300 + ".csv", "é.csv"]
NUMBERS = ["5", "0", "-1", "343", "185", "1" * 30, "nan", "inf", "1e3", "٣", "-9223372036854775809"]
CHOICES = ["in", "out", "both", "spelunker", "neuroglancer", "count", "size", "type_depth",
           "cell_type", "proofread"]


def _safe(text: str) -> str:
    """Random text as argv: no NUL (the OS cannot pass one) and no path out of TMP."""
    return text.replace("\x00", "").replace("/", "_").replace("..", "_")


tokens = st.sampled_from(COMMANDS + OPTIONS) | st.sampled_from(
    PINKY + TABLES + FILTERS + DATASTACKS + FOLDERS + OUTS + NUMBERS + CHOICES) \
    | st.text(max_size=20).map(_safe) | st.integers(-2**80, 2**80).map(str)


def _opts():
    pairs = [("--datastack", DATASTACKS), ("--datastack-dir", FOLDERS), ("--version", NUMBERS),
             ("--filter", FILTERS), ("--limit", NUMBERS), ("--columns", ["id,size", "nope", ","]),
             ("--server", SERVERS), ("--csv", OUTS), ("--group-by", ["cell_type", "nope"]),
             ("--cell-types", TABLES), ("--synapses", CHOICES)]
    pair = st.sampled_from(pairs).flatmap(
        lambda p: st.tuples(st.just(p[0]), st.sampled_from(p[1]) | st.text(max_size=10).map(_safe)))
    flag = st.sampled_from(["--code", "--json", "--known-only", "--proofread-only",
                            "--keep-unconnected"]).map(lambda f: (f,))
    return st.lists(pair | flag, max_size=4).map(lambda xs: [a for x in xs for a in x])


SKELETONS = {
    "tables": [[]],
    "query": [[t, "--csv", o] for t in ("synapses", "soma_valence") for o in ("o.csv", "o.parquet")],
    "cell": [[i] for i in PINKY[:4]],
    "link": [[PINKY[0]], PINKY[:2]],
    "partners": [[PINKY[0], "--csv", "p.csv"]],
    "matrix": [["--cells-table", "soma_valence", "--csv", "m.csv"]],
}
structured = st.sampled_from(sorted(SKELETONS)).flatmap(
    lambda c: st.tuples(_opts(), st.just(c), st.sampled_from(SKELETONS[c]), _opts())).map(
    lambda t: t[0] + [t[1]] + list(t[2]) + t[3])
argvs = structured | st.lists(tokens, max_size=10) \
    | st.tuples(st.sampled_from(COMMANDS), st.lists(tokens, max_size=8)).map(lambda t: [t[0], *t[1]])


def run_cli_in_process(argv, capsys):
    exited = False
    cwd = os.getcwd()
    os.chdir(TMP)
    try:
        with mock.patch("keyring.get_keyring", return_value=keyring.backends.null.Keyring()):
            rc = cli_main(argv)
    except SystemExit as exc:
        exited, rc = True, exc.code
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    if exited:
        assert rc in (0, 2, None), (argv, rc, err)
    else:
        assert rc in (0, 1, 2), (argv, rc)
        if rc != 0:
            lines = [ln for ln in err.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("cavern: error: "), (argv, err)
    return rc


@FUZZ
@given(argv=argvs)
@example(argv=["query", "synapses", "--filter", "ctr_pt_position within nan,0,0,10,10,10",
          "--csv", "o.csv"])
@example(argv=["query", "soma_valence", "--filter", "cell_type regex (?<=a)b", "--csv", "o.csv"])
@example(argv=["query", "soma_valence", "--limit", "1" * 30, "--csv", "o.csv"])
@example(argv=["query", "synapses", "--csv", "o.csv", "--code", "--filter", "size>=300"])
@example(argv=["tables", "--version", "1" * 30])
@example(argv=["--datastack-dir", str(TMP / "bad"), "tables"])
@example(argv=["cell", "9223372036854775808"])
@example(argv=["matrix", "--cells-table", "soma_valence", "--csv", "m.csv", "--server",
               "http://[::1"])  # found: ValueError (Invalid IPv6 URL) from the token store
def test_random_argv_gives_status_and_one_error_line(argv, capsys):
    run_cli_in_process(argv, capsys)

"""Every CLI command, run as `python main.py ...` in a subprocess (as a user runs it),
against a bad datastack, a bad id and an unreachable server: one error line, no
traceback, and the documented exit status (2 bad argument/name/id, 1 data or server)."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PINKY = "648518346349539437"


def _free_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there afterwards
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DEAD = f"http://127.0.0.1:{_free_port()}"

COMMANDS = {
    "tables": [],
    "query": ["soma_valence", "--csv", "{tmp}/out.csv"],
    "cell": [PINKY],
    "link": [PINKY],
    "partners": [PINKY, "--csv", "{tmp}/p.csv"],
    "matrix": ["--cells-table", "soma_valence", "--csv", "{tmp}/m.csv"],
}
BAD_ID = {"cell": ["12x"], "link": ["12x"], "partners": ["12x", "--csv", "{tmp}/p.csv"],
          "query": ["soma_valence", "--filter", "pt_root_id=12x", "--csv", "{tmp}/out.csv"],
          "matrix": ["--cells-table", "soma_valence", "--filter", "pt_root_id=12x",
                     "--csv", "{tmp}/m.csv"]}


def run(argv, tmp):
    env = dict(os.environ, HOME=str(tmp), XDG_DATA_HOME=str(tmp), XDG_CONFIG_HOME=str(tmp),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    return subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=120)


def _one_error_line(out, status):
    assert out.returncode == status, (out.returncode, out.stderr)
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("cavern: error: "), out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bad_datastack(command, tmp_path):
    _one_error_line(run([command, *COMMANDS[command], "--datastack", "no_such_stack"],
                        tmp_path), 2)


@pytest.mark.parametrize("command", sorted(BAD_ID))
def test_bad_id(command, tmp_path):
    _one_error_line(run([command, *BAD_ID[command]], tmp_path), 2)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unreachable_server(command, tmp_path):
    out = run([command, *COMMANDS[command], "--server", DEAD, "--datastack", "minnie65_public"],
              tmp_path)
    _one_error_line(out, 1)
    assert "127.0.0.1" in out.stderr

"""Export under faults: late cancel, long names, symlinks, temporary files of killed runs."""
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

import services.results.export as export
from models.errors import CancelledError
from services.results.export import export_frame, remove_stale_temp_files
from services.source import CancelToken


def frame(n=4):
    return pd.DataFrame({"id": np.arange(n, dtype=np.int64), "x": np.linspace(0, 1, n)})


@pytest.mark.parametrize("name", ["s.csv", "s.parquet"])
def test_cancel_during_fsync_keeps_the_old_file(tmp_path, monkeypatch, name):
    target = tmp_path / name
    target.write_bytes(b"old contents\n")
    token = CancelToken()
    real_fsync = os.fsync

    def fsync_then_cancel(fd):
        real_fsync(fd)
        token.cancel()

    monkeypatch.setattr(export.os, "fsync", fsync_then_cancel)
    with pytest.raises(CancelledError):
        export_frame(frame(), target, cancel=token)
    assert target.read_bytes() == b"old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_name_of_255_bytes_is_written(tmp_path):
    name = "a" * (255 - len(".csv")) + ".csv"
    assert len(name.encode()) == 255
    target = tmp_path / name
    target.write_text("old\n")
    assert export_frame(frame(), target) == target
    assert target.read_text().startswith("id,x\n")
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_symlink_target_is_written_through(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    real = data / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    export_frame(frame(), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("id,x\n")
    assert sorted(p.name for p in data.iterdir()) == ["real.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "link.csv"]


def test_mode_of_the_old_file_is_kept(tmp_path):
    target = tmp_path / "s.csv"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    export_frame(frame(), target)
    assert (target.stat().st_mode & 0o777) == 0o640


def test_temporary_name_is_hidden_and_short(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(export.os, "replace", spy)
    export_frame(frame(), tmp_path / ("b" * 200 + ".parquet"))
    assert len(seen) == 1 and seen[0].startswith(".cavern-") and seen[0].endswith(".tmp")
    assert len(seen[0]) < 40


def test_sigkill_mid_export_leaves_only_a_hidden_temp_that_the_next_export_removes(tmp_path):
    target = tmp_path / "s.csv"
    target.write_text("old contents\n")
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {os.getcwd()!r})
        import numpy as np, pandas as pd
        import services.results.export as export
        export.CHUNK_ROWS = 2
        def die(chunk, fh, sep, header):
            fh.write(b"partial"); fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        export._write_csv_chunk = die
        export.export_frame(pd.DataFrame({{"a": np.arange(6)}}), {str(target)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9, proc.stderr
    assert target.read_text() == "old contents\n"
    left = [p.name for p in tmp_path.iterdir() if p.name != "s.csv"]
    assert len(left) == 1 and left[0].startswith(".cavern-") and left[0].endswith(".tmp")
    assert not any(n.endswith(".part") for n in left)
    old = time.time() - export.STALE_SECONDS - 5
    os.utime(tmp_path / left[0], (old, old))
    export_frame(frame(), tmp_path / "other.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv", "s.csv"]
    assert target.read_text() == "old contents\n"


def test_fresh_or_locked_temp_files_are_not_removed(tmp_path):
    fresh = tmp_path / ".cavern-fresh.tmp"
    fresh.write_text("x")
    mine = tmp_path / ".other.tmp"  # not Cavern's name
    mine.write_text("x")
    old = time.time() - export.STALE_SECONDS - 5
    os.utime(mine, (old, old))
    assert remove_stale_temp_files(tmp_path) == 0
    locked = tmp_path / ".cavern-locked.tmp"
    locked.write_text("x")
    os.utime(locked, (old, old))
    fcntl = pytest.importorskip("fcntl")
    with open(locked, "rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        # another open file description: flock conflicts even in one process
        assert remove_stale_temp_files(tmp_path) == 0
    assert remove_stale_temp_files(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cavern-fresh.tmp", ".other.tmp"]

"""Smoke test of a frozen Cavern (Linux, or macOS with the binary inside Cavern.app).

    python packaging/smoke_test.py [packaging/dist/Cavern | Cavern-0.1.0-linux-x86_64.tar.gz]

Runs the frozen executable the way a user would, checks each answer, and prints the
bundle size and start-up times (median of --repeat runs). A tarball is unpacked into a
temporary folder first, so what is tested is what ships. Exit status 0 only if every
check passed. Not part of the pytest run: it needs a build (minutes) first.
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import spec_config as cfg  # noqa: E402

ROOT = cfg.project_root(HERE)
# Modules the app imports only later (CAVE servers, Neuroglancer links, tokens, plots),
# so a missing hidden import would otherwise surface only in a user's hands.
FROZEN_IMPORTS = ("caveclient", "caveclient.frameworkclient", "nglui.statebuilder",
                  "nglui.segmentprops", "standard_transform", "keyring", "keyring.backends",
                  "pyqtgraph", "superqt.utils", "duckdb", "pyarrow.parquet", "pyarrow.feather",
                  "pyarrow.dataset", "scipy.sparse", "pandas", "services.local.local_source",
                  "services.results.export", "ui.main_window")
# The keyring backend each OS uses, and what it needs (found by entry point, not import).
PLATFORM_IMPORTS = {"linux": ("keyring.backends.SecretService", "secretstorage", "jeepney"),
                    "darwin": ("keyring.backends.macOS",),
                    "win32": ("keyring.backends.Windows", "win32ctypes.core")}


class SmokeFailure(AssertionError):
    pass


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SmokeFailure(what)
    print(f"  ok: {what}")


def find_executable(bundle: Path) -> Path:
    # On Windows Cavern.exe is windowed (no stdout), so the console twin is what is run.
    for candidate in (bundle / cfg.APP_NAME, bundle / "cavern-cli.exe",
                      bundle / "Contents" / "MacOS" / cfg.APP_NAME,
                      bundle / cfg.APP_NAME / cfg.APP_NAME):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise SmokeFailure(f"no {cfg.APP_NAME} executable in {bundle}")


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


class Runner:
    """Runs the frozen app with settings, cache and keyring data kept in a temporary home."""

    def __init__(self, exe: Path, home: Path):
        self.exe = exe
        self.env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
                    "XDG_CACHE_HOME": str(home / "cache"), "XDG_DATA_HOME": str(home / "data"),
                    "QT_QPA_PLATFORM": "offscreen"}
        self.env.pop("CAVERN_FROZEN_IMPORT_CHECK", None)

    def run(self, *args: str, extra_env: dict | None = None, timeout: float = 120):
        start = time.perf_counter()
        out = subprocess.run([str(self.exe), *args], capture_output=True, text=True,
                             env={**self.env, **(extra_env or {})}, timeout=timeout,
                             cwd=self.env["HOME"])
        return out, time.perf_counter() - start

    def timed(self, repeat: int, *args: str) -> float:
        times = []
        for _ in range(repeat):
            out, seconds = self.run(*args)
            check(out.returncode == 0, f"`{' '.join(args)}` exits 0 (timed run)")
            times.append(seconds)
        return statistics.median(times)


def no_traceback(out) -> bool:
    return "Traceback" not in out.stderr and "Traceback" not in out.stdout


def smoke(exe: Path, work: Path, repeat: int) -> dict[str, float]:
    r = Runner(exe, work)
    version = cfg.read_version(ROOT)
    timings: dict[str, float] = {}

    print("--version")
    out, _ = r.run("--version")
    check(out.returncode == 0 and out.stdout.strip() == f"{cfg.APP_NAME} {version}",
          f"prints '{cfg.APP_NAME} {version}' (got {out.stdout.strip()!r} {out.stderr[-300:]!r})")
    timings["--version"] = r.timed(repeat, "--version")

    print("tables")
    out, _ = r.run("tables")
    names = [line.split("\t")[0] for line in out.stdout.splitlines()]
    check(out.returncode == 0 and "synapses" in names,
          f"lists the bundled sample's tables ({len(names)} tables) {out.stderr[-300:]}")
    timings["tables"] = r.timed(repeat, "tables")

    print("query synapses --filter size>=300 --limit 10 --csv")
    target = work / "out.csv"
    out, _ = r.run("query", "synapses", "--filter", "size>=300", "--limit", "10",
                   "--csv", str(target))
    check(out.returncode == 0 and no_traceback(out), f"exits 0 ({out.stderr[-400:]!r})")
    with open(target, newline="") as fh:
        rows = list(csv.DictReader(fh))
    check(len(rows) == 10, f"CSV has 10 rows (got {len(rows)})")
    check(all(float(row["size"]) >= 300 for row in rows), "every size >= 300")
    roots = [row[c] for row in rows for c in ("pre_pt_root_id", "post_pt_root_id")]
    check(all(v.isdigit() and len(v) >= 15 for v in roots),
          "root ids are written as whole integers, never floats")

    print("bad input")
    out, _ = r.run("query", "no_such_table", "--csv", str(work / "bad.csv"))
    check(out.returncode == 2 and no_traceback(out) and out.stderr.startswith("cavern: error:"),
          f"unknown table: exit 2 with one error line ({out.returncode}, {out.stderr[:200]!r})")

    print("frozen imports")
    names = FROZEN_IMPORTS + PLATFORM_IMPORTS.get(sys.platform, ())
    out, _ = r.run(extra_env={"CAVERN_FROZEN_IMPORT_CHECK": ",".join(names)})
    for line in out.stdout.splitlines():
        print(f"    {line}")
    check(out.returncode == 0 and "FAIL" not in out.stdout,
          f"{len(names)} lazily used modules import in the frozen app {out.stderr[-300:]}")

    print("GUI offscreen, --quit-after-ms 4000")
    out, seconds = r.run("--quit-after-ms", "4000")
    check(out.returncode == 0 and no_traceback(out),
          f"starts, shows the sample and exits 0 ({out.returncode}, {out.stderr[-400:]!r})")
    timings["GUI --quit-after-ms 4000"] = seconds
    # The same with a 1 ms timer: start-up (Python, Qt, window, sample loaded) plus shutdown.
    timings["GUI start to exit (--quit-after-ms 1)"] = r.timed(repeat, "--quit-after-ms", "1")
    return timings


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle", nargs="?", type=Path, default=HERE / "dist" / cfg.APP_NAME,
                   help="the dist folder (or .app, or a .tar.gz made by build_linux.sh)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per command (median)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cavern-smoke-") as tmp:
        tmp = Path(tmp)
        bundle = args.bundle.resolve()
        sizes = {}
        if bundle.is_file() and bundle.name.endswith(".tar.gz"):
            sizes["tarball"] = bundle.stat().st_size
            with tarfile.open(bundle) as tar:
                tar.extractall(tmp / "unpacked", filter="tar")
            bundle = next((tmp / "unpacked").iterdir())
        if not bundle.exists():
            print(f"smoke test: {bundle} does not exist; build it first", file=sys.stderr)
            return 2
        sizes["app folder"] = folder_size(bundle)
        (tmp / "home").mkdir()
        try:
            exe = find_executable(bundle)
            print(f"smoke test of {exe}")
            timings = smoke(exe, tmp / "home", args.repeat)
        except (SmokeFailure, subprocess.TimeoutExpired) as exc:
            print(f"SMOKE TEST FAILED: {exc}", file=sys.stderr)
            return 1
    print("\nsizes:")
    for name, n in sizes.items():
        print(f"  {name:<40} {n / 2**20:8.1f} MiB")
    print(f"times (median of {args.repeat}, wall clock):")
    for name, seconds in timings.items():
        print(f"  {name:<40} {seconds:8.2f} s")
    print("SMOKE TEST PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())

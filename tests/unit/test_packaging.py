"""Fast checks of the PyInstaller packaging: never runs PyInstaller, Qt or a build.

cavern.spec is executed with PyInstaller's build objects (Analysis, EXE, ...) replaced by
recorders, so what the spec would hand PyInstaller on each OS is checked in milliseconds.
"""
import configparser
import importlib.util
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def load_spec_config():
    # Loaded by path: packaging/ is not a package (it would shadow PyPI's `packaging`).
    spec = importlib.util.spec_from_file_location("cavern_spec_config", PACKAGING / "spec_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cfg = load_spec_config()


def pyproject_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def test_packaging_folder_is_not_a_python_package():
    assert not (PACKAGING / "__init__.py").exists()


def test_version_comes_from_pyproject():
    assert cfg.read_version(ROOT) == pyproject_version()


def test_missing_version_is_a_clear_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ValueError, match=r"\[project\]\.version"):
        cfg.read_version(tmp_path)


@pytest.mark.parametrize("text, expected", [
    ("0.1.0", (0, 1, 0, 0)), ("1.2rc1", (1, 2, 0, 0)), ("2.0.3.4.5", (2, 0, 3, 4)),
    ("3", (3, 0, 0, 0)), ("1.10.0.dev2", (1, 10, 0, 0)),
])
def test_numeric_version(text, expected):
    assert cfg.numeric_version(text) == expected


def test_data_files_hold_pyproject_icon_and_every_sample_file():
    pairs = cfg.data_files(ROOT)
    by_source = {Path(src).resolve(): dest for src, dest in pairs}
    assert by_source[ROOT / "pyproject.toml"] == "."
    assert by_source[ROOT / "resources" / "icons" / "cavern.svg"] == "resources/icons"
    samples = [p for p in (ROOT / "resources" / "samples").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts]
    assert any(p.name == "manifest.json" for p in samples)
    assert any(p.suffix == ".parquet" for p in samples)
    for path in samples:
        assert by_source[path.resolve()] == path.parent.relative_to(ROOT).as_posix()


def test_data_files_leave_out_build_script_and_caches():
    sources = [Path(src) for src, _ in cfg.data_files(ROOT)]
    assert ROOT / "resources" / "build_samples.py" not in sources
    assert not [p for p in sources if "__pycache__" in p.parts or p.suffix == ".pyc"]


def test_resource_files_skip_rules(tmp_path):
    res = tmp_path / "resources"
    (res / "samples" / "a" / "v1").mkdir(parents=True)
    (res / "__pycache__").mkdir()
    for name in ("__init__.py", "build_samples.py", "__pycache__/x.cpython-311.pyc",
                 "samples/a/manifest.json", "samples/a/v1/t.parquet", "samples/a/v1/t.csv"):
        (res / name).write_text("x")
    found = [p.relative_to(res).as_posix() for p in cfg.resource_files(tmp_path)]
    assert found == ["samples/a/manifest.json", "samples/a/v1/t.csv", "samples/a/v1/t.parquet"]


@pytest.mark.parametrize("dest, kept", [
    ("pyarrow/libarrow.so.2600", True), ("pyarrow/libparquet.so.2600", True),
    ("pyarrow/libarrow_flight.so.2600", False), ("pyarrow\\arrow_flight.dll", False),
    ("pyarrow/libarrow_s3.2600.dylib", False), ("pyarrow/_s3fs.cpython-311-x86_64-linux-gnu.so", False),
    ("pyarrow/include/arrow/api.h", False), ("PySide6/Qt/translations/qt_de.qm", False),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", True), ("resources/samples/x/manifest.json", True),
])
def test_keep_in_bundle(dest, kept):
    assert cfg.keep_in_bundle(dest) is kept


def test_excludes_drop_tests_but_keep_what_cavern_uses():
    excludes = set(cfg.EXCLUDES)
    assert {"pytest", "tests", "tkinter", "PySide6.QtQml", "PySide6.QtWebEngineCore"} <= excludes
    used = {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg",
            "pyarrow", "pyarrow.parquet", "duckdb", "caveclient", "nglui", "keyring",
            "pyqtgraph", "superqt", "standard_transform", "IPython", "scipy", "pandas"}
    assert not used & excludes


class Recorder:
    """Stands in for one PyInstaller build class: records its arguments."""

    def __init__(self, log, kind, binaries=()):
        self.log, self.kind, self.binaries = log, kind, binaries

    def __call__(self, *args, **kwargs):
        obj = types.SimpleNamespace(kind=self.kind, args=args, kwargs=kwargs,
                                    pure=[], scripts=[], binaries=list(self.binaries),
                                    datas=list(kwargs.get("datas", [])))
        self.log.append(obj)
        return obj


def run_spec(monkeypatch, platform: str):
    """Execute cavern.spec as PyInstaller would, with recorders; return what was built."""
    log, icon_runs = [], []
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda name, filter=None: [f"{name}.sub"]
    hooks.copy_metadata = lambda dist: [(f"/site/{dist}-1.0.dist-info", f"{dist}-1.0.dist-info")]
    versioninfo = types.ModuleType("PyInstaller.utils.win32.versioninfo")
    versioninfo.__getattr__ = lambda name: (lambda *a, **k: (name, a, k))
    win32 = types.ModuleType("PyInstaller.utils.win32")
    win32.versioninfo = versioninfo
    for name, mod in {"PyInstaller": types.ModuleType("PyInstaller"),
                      "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
                      "PyInstaller.utils.hooks": hooks, "PyInstaller.utils.win32": win32,
                      "PyInstaller.utils.win32.versioninfo": versioninfo}.items():
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: icon_runs.append(cmd))
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "spec_config", raising=False)
    fake_binaries = [("pyarrow/libarrow.so.2600", "/x", "BINARY"),
                     ("pyarrow/libarrow_flight.so.2600", "/x", "BINARY")]
    namespace = {"SPECPATH": str(PACKAGING), "workpath": "/tmp/cavern-work",
                 "Analysis": Recorder(log, "Analysis", fake_binaries),
                 "PYZ": Recorder(log, "PYZ"), "EXE": Recorder(log, "EXE"),
                 "COLLECT": Recorder(log, "COLLECT"), "BUNDLE": Recorder(log, "BUNDLE")}
    code = compile((PACKAGING / "cavern.spec").read_text(), "cavern.spec", "exec")
    exec(code, namespace)
    built = {}
    for obj in log:
        built.setdefault(obj.kind, []).append(obj)
    return built, icon_runs, namespace


def test_spec_on_linux(monkeypatch):
    built, icon_runs, ns = run_spec(monkeypatch, "linux")
    analysis = built["Analysis"][0]
    assert analysis.args[0] == [str(ROOT / "main.py")]
    datas = analysis.kwargs["datas"]
    assert (str(ROOT / "pyproject.toml"), ".") in datas
    assert any(dest.startswith("resources/samples/pinky100_sample") for _, dest in datas)
    assert ("/site/caveclient-1.0.dist-info", "caveclient-1.0.dist-info") in datas
    hidden = analysis.kwargs["hiddenimports"]
    assert {"resources", "pyqtgraph", "ui.sub", "services.sub", "caveclient.sub",
            "keyring.backends.sub"} <= set(hidden)
    assert "pytest" in analysis.kwargs["excludes"]
    assert analysis.kwargs["runtime_hooks"][0].endswith("rthook_import_check.py")
    # The filter ran on what the hooks collected.
    assert [b[0] for b in ns["a"].binaries] == ["pyarrow/libarrow.so.2600"]
    (exe,) = built["EXE"]
    assert exe.kwargs["name"] == "Cavern" and exe.kwargs["console"] is True
    assert exe.kwargs["icon"] is None
    assert built["COLLECT"][0].kwargs["name"] == "Cavern"
    assert "BUNDLE" not in built
    assert ns["VERSION"] == pyproject_version()
    assert icon_runs and icon_runs[0][-1] == str(Path("/tmp/cavern-work") / "icons")


def test_spec_on_macos_makes_a_versioned_app_bundle(monkeypatch):
    built, _, _ = run_spec(monkeypatch, "darwin")
    (bundle,) = built["BUNDLE"]
    assert bundle.kwargs["name"] == "Cavern.app"
    assert bundle.kwargs["version"] == pyproject_version()
    assert bundle.kwargs["info_plist"]["CFBundleShortVersionString"] == pyproject_version()
    assert bundle.kwargs["icon"].endswith("cavern.icns")
    assert built["EXE"][0].kwargs["console"] is False


def test_spec_on_windows_has_gui_and_console_executables(monkeypatch):
    built, _, _ = run_spec(monkeypatch, "win32")
    exes = {e.kwargs["name"]: e.kwargs for e in built["EXE"]}
    assert exes["Cavern"]["console"] is False and exes["cavern-cli"]["console"] is True
    assert exes["Cavern"]["icon"].endswith("cavern.ico")
    assert exes["Cavern"]["version"] is not None
    assert len(built["COLLECT"][0].args) == 4  # both executables, binaries, datas
    assert "BUNDLE" not in built


def test_desktop_file():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(PACKAGING / "cavern.desktop")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "Cavern"
    assert entry["Exec"].split()[0] == "Cavern" and entry["Icon"] == "cavern"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "Science" in entry["Categories"].split(";")


def test_build_output_is_git_ignored():
    rules = (PACKAGING / ".gitignore").read_text().split()
    assert {"build/", "dist/", "*.tar.gz"} <= set(rules)

"""What goes into the frozen Cavern: version, data files, hidden imports, exclusions.

cavern.spec applies these lists through PyInstaller; they live here, in plain Python with no
PyInstaller or Qt import, so tests/unit/test_packaging.py can check them in milliseconds.
(This folder must never get an __init__.py: it would shadow the PyPI `packaging` library.)
"""
from __future__ import annotations

import tomllib
from pathlib import Path

APP_NAME = "Cavern"
BUNDLE_ID = "org.cavern.Cavern"
ENTRY_SCRIPT = "main.py"

# Our own packages. main.py imports most of ui/ and services/ inside functions, which
# PyInstaller does follow, but a module reached only by name (a plug-in table, a panel
# loaded on demand) would be missed, so every submodule is collected.
APP_PACKAGES = ("models", "services", "ui")

# Third-party packages whose submodules are imported lazily or by name, so static
# analysis of main.py does not see them all: caveclient picks endpoint modules at run
# time, nglui's statebuilder is imported on demand for Neuroglancer links, keyring finds
# its OS backends through entry points.
COLLECT_SUBMODULES = ("caveclient", "nglui", "standard_transform", "keyring.backends",
                      "superqt.utils")

# Packages that read their own version or entry points through importlib.metadata when
# imported (caveclient: importlib.metadata.version("CAVEclient"); keyring: backends are
# entry points). Without their dist-info the frozen import fails.
COPY_METADATA = ("caveclient", "nglui", "keyring", "neuroglancer", "standard_transform",
                 "pyqtgraph", "superqt", "pandas", "numpy", "pyarrow", "duckdb")

# "resources" is read only through importlib.resources.files("resources"), never by an
# import statement. pyqtgraph is what the plots are built on; until a panel imports it at
# module level, static analysis would leave it out (the first build did).
HIDDEN_IMPORTS = ("resources", "pyqtgraph")

# Test tooling, notebooks UI and toolkits Cavern never uses, plus the Qt modules outside
# QtCore/QtGui/QtWidgets/QtSvg/QtOpenGL(Widgets)/QtNetwork/QtDBus: each would add
# megabytes of Qt libraries and plugins to the bundle.
EXCLUDES = (
    "tests", "pytest", "_pytest", "pytestqt", "pluggy", "flask", "werkzeug",
    "tkinter", "_tkinter", "matplotlib", "PyQt5", "PyQt6", "PySide2", "qtpy.tests",
    "sphinx", "notebook", "jupyter_client", "ipykernel", "ipywidgets", "zmq",
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuick3D",
    "PySide6.QtQuickControls2", "PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets",
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebChannel",
    "PySide6.QtWebSockets", "PySide6.QtPdf", "PySide6.QtPdfWidgets", "PySide6.QtCharts",
    "PySide6.QtDataVisualization", "PySide6.QtGraphs", "PySide6.Qt3DCore",
    "PySide6.Qt3DRender", "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtBluetooth",
    "PySide6.QtPositioning", "PySide6.QtLocation", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtUiTools", "PySide6.QtXml", "PySide6.QtSerialPort", "PySide6.QtSensors",
    "PySide6.QtRemoteObjects", "PySide6.QtScxml", "PySide6.QtStateMachine",
    "PySide6.QtTextToSpeech", "PySide6.QtNfc", "PySide6.QtSpatialAudio",
    "PySide6.QtHttpServer", "PySide6.QtNetworkAuth", "PySide6.QtConcurrent",
    # Reached only through optional imports that fail softly when absent (measured on
    # the first build, 704 MB): jedi+parso (IPython completion, 32 MB, IPython checks
    # find_spec first), botocore/boto3 (pandas S3 I/O, 26 MB), sympy, google-auth, trio.
    "jedi", "parso", "botocore", "boto3", "s3transfer", "sympy", "google", "trio",
    "matplotlib_inline", "responses",
    # Arrow Flight (RPC) and S3: pyarrow.fs imports _s3fs inside try/except ImportError.
    "pyarrow.flight", "pyarrow._flight", "pyarrow._s3fs", "pyarrow.tests",
)

# Files the hooks collect that Cavern never loads, as bundle paths (fnmatch, "/" separators;
# names cover the .so/.dylib/.dll spellings): Arrow Flight and S3 libraries (48 MB), Arrow's
# C++ headers and Cython sources, Qt's translations (the UI is English only).
DROP_FROM_BUNDLE = (
    "pyarrow/*arrow_flight*", "pyarrow/*arrow_python_flight*", "pyarrow/_flight.*",
    "pyarrow/*arrow_s3*", "pyarrow/_s3fs.*",
    "pyarrow/include/*", "pyarrow/src/*", "pyarrow/tests/*",
    "pyarrow/*.pxd", "pyarrow/*.pxi", "pyarrow/*.pyx", "pyarrow/includes/*",
    "PySide6/Qt/translations/*", "PySide6/translations/*",
)

# Files under resources/ that are not needed at run time: the script that builds the
# samples from the shared data folder, and Python caches.
RESOURCE_SKIP_NAMES = {"build_samples.py", "__init__.py"}
RESOURCE_SKIP_PARTS = {"__pycache__"}
RESOURCE_SKIP_SUFFIXES = {".pyc", ".pyo"}


def project_root(spec_dir: str | Path) -> Path:
    """The repository root: the folder above packaging/."""
    return Path(spec_dir).resolve().parent


def read_version(root: Path) -> str:
    """[project].version of pyproject.toml: the single place the version is written."""
    with open(Path(root) / "pyproject.toml", "rb") as fh:
        data = tomllib.load(fh)
    try:
        version = data["project"]["version"]
    except KeyError:
        raise ValueError(f"{root / 'pyproject.toml'} has no [project].version") from None
    if not isinstance(version, str) or not version.strip():
        raise ValueError(f"{root / 'pyproject.toml'}: [project].version is empty")
    return version.strip()


def numeric_version(version: str) -> tuple[int, int, int, int]:
    """'0.1.0rc1' -> (0, 1, 0, 0): Windows version resources and CFBundleVersion want numbers."""
    parts: list[int] = []
    for piece in version.split(".")[:4]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        parts.append(int(digits) if digits else 0)
    return tuple((parts + [0, 0, 0, 0])[:4])  # type: ignore[return-value]


def resource_files(root: Path) -> list[Path]:
    """Every run-time file under resources/ (samples, icons, styles), sorted."""
    base = Path(root) / "resources"
    out = []
    for path in sorted(base.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(base)
        if (path.name in RESOURCE_SKIP_NAMES and len(rel.parts) == 1) \
                or RESOURCE_SKIP_PARTS & set(rel.parts) \
                or path.suffix in RESOURCE_SKIP_SUFFIXES:
            continue
        out.append(path)
    return out


def data_files(root: Path) -> list[tuple[str, str]]:
    """(source file, destination folder inside the bundle) pairs for Analysis(datas=...).

    Resources keep their layout under resources/ so importlib.resources.files("resources")
    finds them next to the frozen package; pyproject.toml goes to the bundle root, where
    services.cli.app_info.app_version() looks for it (sys._MEIPASS).
    """
    root = Path(root)
    pairs = [(str(root / "pyproject.toml"), ".")]
    for path in resource_files(root):
        dest = path.parent.relative_to(root).as_posix()
        pairs.append((str(path), dest))
    return pairs


def keep_in_bundle(dest_name: str) -> bool:
    """False for a bundle path that DROP_FROM_BUNDLE removes."""
    from fnmatch import fnmatchcase
    path = dest_name.replace("\\", "/")
    return not any(fnmatchcase(path, pattern) for pattern in DROP_FROM_BUNDLE)


def info_plist(version: str) -> dict:
    """macOS Info.plist entries for the .app bundle."""
    return {
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": ".".join(str(n) for n in numeric_version(version)[:3]),
        "NSHighResolutionCapable": True,
        "LSMinimumSystemVersion": "11.0",
        "NSHumanReadableCopyright": "Cavern contributors, MIT licence. "
                                    "Sample data: MICrONS Consortium, CC BY 4.0.",
    }

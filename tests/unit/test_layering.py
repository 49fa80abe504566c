"""models/ and services/ must run without Qt: import every module with Qt blocked."""
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = r"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'superqt', 'qtpy', 'ui'):
            raise ImportError('Qt/ui imported from a Qt-free layer: ' + name)
sys.meta_path.insert(0, Block())
import importlib, pkgutil
for pkg in ('models', 'services'):
    mod = importlib.import_module(pkg)
    for info in pkgutil.iter_modules(mod.__path__):
        importlib.import_module(pkg + '.' + info.name)
print('ok')
"""


def test_models_and_services_import_without_qt():
    out = subprocess.run([sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_models_do_not_import_services():
    for info in pkgutil.iter_modules([str(ROOT / "models")]):
        text = (ROOT / "models" / f"{info.name}.py").read_text()
        assert "from services" not in text and "import services" not in text, info.name
        assert "from ui" not in text and "import ui" not in text, info.name
    for info in pkgutil.iter_modules([str(ROOT / "services")]):
        text = (ROOT / "services" / f"{info.name}.py").read_text()
        assert "from ui" not in text and "import ui." not in text, info.name


def test_blocker_really_blocks():
    code = BLOCKER.replace("for pkg in ('models', 'services'):", "import PySide6\nfor pkg in ():")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0 and "Qt/ui imported" in out.stderr

"""The layers: models/ and services/ run without Qt, the import contracts hold
(import-linter, configured in pyproject.toml), and nothing imports the entry point."""
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
    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):
        importlib.import_module(info.name)
print('ok')
"""

EVERY_MODULE = r"""
import importlib, pkgutil, sys
n = 0
for pkg in ('models', 'services', 'ui'):
    mod = importlib.import_module(pkg)
    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):
        importlib.import_module(info.name)
        n += 1
print(n, 'main' in sys.modules, '__main__' in sys.modules and
      getattr(sys.modules['__main__'], '__file__', None))
"""


def test_models_and_services_import_without_qt():
    out = subprocess.run([sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_blocker_really_blocks():
    code = BLOCKER.replace("for pkg in ('models', 'services'):", "import PySide6\nfor pkg in ():")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0 and "Qt/ui imported" in out.stderr


def test_import_contracts_hold():
    out = subprocess.run(["lint-imports", "--no-cache"], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 kept, 0 broken" in out.stdout


def test_nothing_imports_the_entry_point():
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", EVERY_MODULE], cwd=ROOT, capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr
    n, has_main, _ = out.stdout.split(" ", 2)
    assert int(n) > 60 and has_main == "False"

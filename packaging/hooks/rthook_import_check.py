"""PyInstaller runtime hook: lets the smoke test ask a frozen Cavern to import modules.

Modules that main.py reaches only later (caveclient for CAVE servers, nglui for
Neuroglancer links, keyring's OS backends) fail in a frozen app only when a user first
needs them. With CAVERN_FROZEN_IMPORT_CHECK="mod1,mod2,..." set, the app imports each one,
prints "ok NAME" or "FAIL NAME: error" and exits (status 1 if any failed) before main.py
runs. Without the variable this hook does nothing.
"""
import os
import sys


def _check(names):
    import importlib
    failed = 0
    for name in names:
        try:
            importlib.import_module(name)
            print(f"ok {name}", flush=True)
        except Exception as exc:  # report every failure, not just the first
            failed += 1
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
    if "keyring" in sys.modules:
        # Backends are found through entry points: name the one the frozen app picked.
        backend = type(sys.modules["keyring"].get_keyring())
        print(f"keyring backend {backend.__module__}.{backend.__name__}", flush=True)
    return 1 if failed else 0


_names = os.environ.get("CAVERN_FROZEN_IMPORT_CHECK", "")
if _names:
    sys.exit(_check([n.strip() for n in _names.split(",") if n.strip()]))

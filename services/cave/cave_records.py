"""Checks on the JSON a CAVE server answers: a wrongly typed answer is a typed error that
names what was wrong, never a TypeError later or a list of made-up names."""
from __future__ import annotations

import inspect

from models.errors import DataSourceError

_HINT = "The server may run an incompatible version of CAVE, or a proxy changed its answer."


def uncached(method):
    """caveclient's method without its 12-hour TTL cache (which keeps failures too), when
    the cache is the method's outer layer; else the method as it is."""
    func = getattr(method, "__func__", None)
    if func is not None and not inspect.isfunction(func) and hasattr(func, "__wrapped__"):
        return func.__wrapped__.__get__(method.__self__)
    return method


def innermost(method):
    """caveclient's method without any of its wrappers (its caches, its API-version
    checks: the caller checks the API version itself)."""
    func = getattr(method, "__func__", None)
    if func is None:
        return method
    for _ in range(5):
        inner = getattr(func, "__wrapped__", None)
        if inner is None:
            break
        func = inner
    return func.__get__(method.__self__)


def check_datastack_names(names, server: str) -> list[str]:
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise DataSourceError(
            f"The list of datastacks from {server} could not be read: it is not a list of "
            f"names ({_shape(names)}).", hint=_HINT)
    return list(names)


def check_version_records(recs, datastack: str, server: str) -> list[dict]:
    what = f"The versions of '{datastack}' from {server} could not be read"
    if not isinstance(recs, list):
        raise DataSourceError(f"{what}: the answer is not a list ({_shape(recs)}).",
                              hint=_HINT)
    for r in recs:
        if not isinstance(r, dict):
            raise DataSourceError(f"{what}: an entry is not a record ({_shape(r)}).",
                                  hint=_HINT)
        v = r.get("version")
        if isinstance(v, bool) or not isinstance(v, int):
            raise DataSourceError(f"{what}: an entry has no version number.", hint=_HINT)
    return recs


def _shape(value) -> str:
    if isinstance(value, (list, tuple)):
        kinds = sorted({type(v).__name__ for v in value})
        return f"a list of {', '.join(kinds)}" if kinds else "an empty list"
    return f"a {type(value).__name__}" if value is not None else "nothing"

"""Every live RequestRunner, held weakly, so quitting can cancel all of them at once.

A RequestRunner registers itself on construction; nothing else needs to. The registry never
keeps a runner (or its panel) alive: a runner whose QObject is deleted drops out by itself.
"""
from __future__ import annotations

import weakref

import shiboken6

_runners: "weakref.WeakSet" = weakref.WeakSet()


def register(runner) -> None:
    _runners.add(runner)


def live_runners() -> list:
    """Runners whose Qt object still exists."""
    return [r for r in list(_runners) if shiboken6.isValid(r)]


def _owned_by(obj, owner) -> bool:
    while obj is not None:
        if obj is owner:
            return True
        obj = obj.parent()
    return False


def cancel_all(owner=None) -> int:
    """Cancel every runner's requests (only those under ``owner`` if given), quietly:
    no "cancelled" message, late results dropped. Returns how many requests were running."""
    n = 0
    for runner in live_runners():
        if owner is None or _owned_by(runner, owner):
            n += runner.shutdown()
    return n


def running_count() -> int:
    """Worker jobs (current or stale) that have not finished yet."""
    return sum(r.pending for r in live_runners())

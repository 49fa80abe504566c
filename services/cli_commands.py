"""CLI commands beyond tables/query: registered here so main.py stays a thin parser.

Each area's module adds its sub-parsers (``add_parsers(sub, common)``) and maps command
names to handlers (``HANDLERS``); a handler takes (args, source) and returns the exit
status.
"""
from __future__ import annotations

from services import cli_cells, cli_connectivity

_AREAS = (cli_cells, cli_connectivity)
HANDLERS: dict = {name: fn for area in _AREAS for name, fn in area.HANDLERS.items()}


def add_parsers(sub, common) -> None:
    """Add the sub-commands of the cell inspector, links and connectivity."""
    for area in _AREAS:
        area.add_parsers(sub, common)

"""CLI commands beyond tables/query: registered here so main.py stays a thin parser.

Each command adds its sub-parser in ``add_parsers`` and its handler to ``HANDLERS``;
a handler takes (args, source) and returns the exit status.
"""
from __future__ import annotations

HANDLERS: dict = {}


def add_parsers(sub, common) -> None:
    """Add the sub-commands of the cell inspector, links and connectivity."""

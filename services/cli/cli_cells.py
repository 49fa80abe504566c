"""CLI commands of the cell inspector: ``cell`` and ``link``.

    cavern cell ID [--json] [--datastack NAME] [--version V]
    cavern link ID [ID ...] [--synapses in|out|both] [--site spelunker|neuroglancer]

ID is a root id or a nucleus id.
Same services as the GUI (services.cells.cell_inspection), so both show the same facts and links.
"""
from __future__ import annotations

import json
import sys

from models.errors import InvalidInputError
from models.ids import is_nucleus_id, parse_id

# services.cells.cell_inspection's LINK_KINDS and SITE_CHOICES, spelled out so that
# building the parser does not import pandas (tests/unit/cli checks they agree).
SYNAPSE_CHOICES = ("in", "out", "both")
SITES = ("spelunker", "neuroglancer")


def add_parsers(sub, common) -> None:
    c = sub.add_parser("cell", parents=[common],
                       help="what the datastack knows about one cell (types, soma, synapses)")
    c.add_argument("cell_id", metavar="ID", help="root id or nucleus id of the cell")
    c.add_argument("--json", action="store_true",
                   help="print one JSON object instead of text (ids as exact integers)")
    k = sub.add_parser("link", parents=[common],
                       help="print a Neuroglancer link showing cells (and their synapses)")
    k.add_argument("cell_ids", nargs="+", metavar="ID", help="root ids or nucleus ids")
    k.add_argument("--synapses", choices=SYNAPSE_CHOICES,
                   help="also show the cells' input (in), output (out) or all synapses")
    k.add_argument("--site", choices=SITES, default="spelunker",
                   help="viewer the link opens (default spelunker; neuroglancer: classic)")


def cmd_cell(args, ws) -> int:
    from services.cells.cell_inspection import facts_dict, facts_text, inspect_cell
    insp = inspect_cell(ws, parse_id(args.cell_id))
    if args.json:
        print(json.dumps(facts_dict(insp)))
    else:
        print(facts_text(insp))
    return 0


def cmd_link(args, ws) -> int:
    from services.cells.cell_inspection import ids_link
    ids = resolve_root_ids(ws, [parse_id(t) for t in args.cell_ids])
    link = ids_link(ws, ids, args.synapses, args.site)
    print(link.url)
    # what was left out goes to stderr so that `cavern link ... > url.txt` keeps a bare URL
    summary = f"{link.length:,} characters, {link.n_annotations:,} annotations"
    if link.n_dropped:
        summary += f", {link.n_dropped:,} left out"
    print(summary, file=sys.stderr)
    for note in link.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def resolve_root_ids(ws, ids: list[int]) -> list[int]:
    """Nucleus ids (small numbers) become the root ids the soma table gives them."""
    from services.cells.cell_facts import gather_cell_facts
    out = []
    for i in ids:
        if is_nucleus_id(i):
            out.append(int(gather_cell_facts(ws, i).root_id))
        else:
            out.append(i)
    if not out:
        raise InvalidInputError("Give at least one root id or nucleus id.")
    return out


HANDLERS = {"cell": cmd_cell, "link": cmd_link}

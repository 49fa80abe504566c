"""CLI command of the Morphology view: ``skeleton``.

    cavern skeleton ID [--datastack NAME] [--version V] [--server URL]
                       [--swc OUT | --json OUT] [--png OUT [--projection xy|zy|xz]]

ID is a root id or a nucleus id. Without an output it prints what the skeleton holds.
``--swc`` writes SWC in nm (services.morphology.skeleton_export), ``--json`` the skeleton
service's dict, ``--png`` a drawing by compartment in the view's coordinates (depth-aligned
where the datastack has a transform; drawn without Qt). Files are written atomically.
Same source and services as the GUI: a local datastack's skeletons/ folder, or a CAVE
server's skeleton service.
"""
from __future__ import annotations

import sys
from pathlib import Path

from models.ids import parse_id
from services.cli.parser import CliError

PROJECTIONS = ("xy", "zy", "xz")  # services.morphology.skeleton_png.PROJECTIONS


def add_parsers(sub, common) -> None:
    s = sub.add_parser("skeleton", parents=[common],
                       help="a cell's skeleton: a summary, SWC, JSON or a PNG drawing")
    s.add_argument("cell_id", metavar="ID", help="root id or nucleus id of the cell")
    out = s.add_mutually_exclusive_group()
    out.add_argument("--swc", metavar="OUT", type=Path,
                     help="write SWC (id type x y z radius parent; nm; types 1 soma, 2 axon, "
                          "3 basal, 4 apical dendrite)")
    out.add_argument("--json", metavar="OUT", type=Path,
                     help="write the skeleton service's dict as JSON (vertices nm, edges, "
                          "root, compartment, radius, meta)")
    s.add_argument("--png", metavar="OUT", type=Path,
                   help="draw the skeleton by compartment to a PNG file")
    s.add_argument("--projection", choices=PROJECTIONS,
                   help="plane of the PNG drawing (default xy; y is depth, drawn downwards)")


def cmd_skeleton(args, ws) -> int:
    from services.cli.cli_cells import resolve_root_ids
    from services.morphology.morphology_data import require_skeleton
    from services.morphology.synapse_mapping import check_units
    if args.projection and not args.png:
        raise CliError("--projection is for the drawing: give --png OUT too")
    rid = resolve_root_ids(ws, [parse_id(args.cell_id)])[0]
    skel = require_skeleton(ws, rid)
    notes = []
    units = check_units(skel, skel.soma_point_nm())
    if units:
        notes.append(units)
    if args.swc:
        from services.morphology.skeleton_export import write_swc
        path, swc_notes = write_swc(skel, args.swc)
        notes += swc_notes
        print(f"wrote {path} (SWC, {skel.n_vertices:,} points, nm)", file=sys.stderr)
    if args.json:
        from services.morphology.skeleton_export import write_json
        path = write_json(skel, args.json)
        print(f"wrote {path} (skeleton dict, JSON)", file=sys.stderr)
    if args.png:
        path = _write_png(skel, ws, args.png, args.projection or "xy")
        print(f"wrote {path} (PNG, {args.projection or 'xy'} projection)", file=sys.stderr)
    if not (args.swc or args.json or args.png):
        print(summary(skel))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def summary(skel) -> str:
    comps = ", ".join(f"{k} {v:,}" for k, v in skel.compartment_counts().items())
    return "\n".join([
        f"root_id\t{skel.root_id}",
        f"vertices\t{skel.n_vertices}",
        f"edges\t{len(skel.edges)}",
        f"cable_um\t{skel.cable_length_um():.1f}",
        f"compartments\t{comps or 'none'}",
        f"source\t{skel.source}",
    ])


def _write_png(skel, ws, path, projection: str):
    from services.morphology.morphology_data import display_coords
    from services.results.export import write_bytes
    from services.morphology.skeleton_png import png_bytes, render_skeleton
    coords, aligned, _note = display_coords(skel.vertices, ws.info.transform)
    names = {"x": "x", "y": "depth" if aligned else "y", "z": "z"}
    axes = f"{names[projection[0]]} - {names[projection[1]]} (um)"
    img = render_skeleton(skel, coords, projection, axes=axes)
    return write_bytes(path, png_bytes(img))


HANDLERS = {"skeleton": cmd_skeleton}

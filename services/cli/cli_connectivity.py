"""CLI commands of the connectivity viewer: ``partners`` and ``matrix``.

    cavern partners ROOT_ID [--direction in|out] [--group-by COLUMN] [--cell-types TABLE] --csv OUT
    cavern matrix --cells-table TABLE [--filter EXPR ...] [--weight W] [--order O] --csv OUT

Same services as the GUI (services.connectivity.connectivity_queries and matrix_queries);
each writes the same provenance as the GUI's export of it
(services.connectivity.partners_provenance, services.connectivity.matrix_provenance).
"""
from __future__ import annotations

import sys
from pathlib import Path

from models.errors import InvalidInputError
from models.ids import parse_id

# services.connectivity.connectivity_matrix's WEIGHTS and ORDERS, spelled out so that
# building the parser does not import scipy (tests/unit/cli checks they agree).
WEIGHTS = ("binary", "count", "size_sum", "ln_size_sum", "log10_1p_size_sum", "size_mean")
ORDERS = ("id", "type_depth", "degree")


def add_parsers(sub, common) -> None:
    p = sub.add_parser("partners", parents=[common],
                       help="a cell's input or output partners (or groups of them) to CSV")
    p.add_argument("root_id", help="root id of the cell")
    p.add_argument("--direction", choices=("in", "out"), default="in",
                   help="in: cells that synapse onto it (default); out: cells it synapses onto")
    p.add_argument("--group-by", metavar="COLUMN",
                   help="group partners by a column, e.g. proofread, or cell_type (the "
                        "viewer's Partners by cell type table)")
    p.add_argument("--cell-types", metavar="TABLE",
                   help="cell-type table (default: the datastack's first)")
    p.add_argument("--known-only", action="store_true", help="only partners with a cell type")
    p.add_argument("--proofread-only", action="store_true", help="only proofread partners")
    p.add_argument("--csv", required=True, type=Path, metavar="OUT",
                   help="output file (.csv, or .parquet)")
    m = sub.add_parser("matrix", parents=[common],
                       help="connectivity among the cells of a table, as CSV (one row per pair)")
    m.add_argument("--cells-table", required=True, metavar="TABLE",
                   help="table of cells (e.g. a cell-type table) whose rows form the set")
    m.add_argument("--filter", action="append", default=[], metavar="EXPR",
                   help="filter on the cells table, e.g. cell_type=e (repeatable)")
    m.add_argument("--weight", choices=WEIGHTS, default="count")
    m.add_argument("--order", choices=ORDERS, default="type_depth",
                   help="row order of the output (default: cell type, then depth)")
    m.add_argument("--keep-unconnected", action="store_true",
                   help="keep cells without synapses in the summary counts")
    m.add_argument("--csv", required=True, type=Path, metavar="OUT",
                   help="output file (.csv, or .parquet)")


def cmd_partners(args, ws) -> int:
    from services.cli.app_info import app_version
    from services.connectivity.connectivity_queries import fetch_partners, group_partners
    from services.connectivity.partners_provenance import partners_provenance
    from services.results.export import export_frame
    root = parse_id(args.root_id, "root_id", "root id")
    tables = ws.cell_type_table_names()
    type_table = args.cell_types or (tables[0] if tables else None)
    if args.cell_types:
        ws.table(args.cell_types)  # NotFoundError names the tables
    result = fetch_partners(ws, root, type_table,
                            known_only=args.known_only, proofread_only=args.proofread_only)
    partners = result.inputs if args.direction == "in" else result.outputs
    frame = group_partners(partners, args.group_by) if args.group_by else partners
    # where the rows came from: the cell, direction, tables, grouping, counts and filters
    # (Parquet metadata, or a <file>.provenance.json sidecar beside a CSV)
    prov = partners_provenance(ws, result, args.direction, frame, partners=partners,
                               group_by=args.group_by, known_only=args.known_only,
                               proofread_only=args.proofread_only, app_version=app_version())
    export_frame(frame, args.csv, provenance=prov)
    what = "input" if args.direction == "in" else "output"
    n_syn = int(partners["n_synapses"].sum())
    print(f"{root}: {len(frame):,} {what} rows ({n_syn:,} synapses) -> {args.csv}",
          file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_matrix(args, ws) -> int:
    from services.cli.app_info import app_version
    from services.connectivity.matrix_queries import (CellSetSpec, compute_matrix,
                                                      matrix_long_frame, parse_filters)
    from services.connectivity.matrix_provenance import matrix_provenance
    from services.results.export import export_frame
    filters = parse_filters(args.filter, ws.table(args.cells_table).info)
    spec = CellSetSpec(args.cells_table, filters, type_table=args.cells_table)
    result = compute_matrix(ws, spec, order=args.order,
                            hide_unconnected=not args.keep_unconnected)
    if result.matrix.shape == (0, 0) and not args.keep_unconnected:
        raise InvalidInputError(f"No synapses among the cells of '{spec.describe()}'.")
    frame = matrix_long_frame(result.matrix, args.weight)
    # where the pairs came from, with the summary and its densities (Parquet metadata, or
    # a <file>.provenance.json sidecar beside a CSV)
    prov = matrix_provenance(ws, result, spec, None, args.weight, "long", len(frame),
                             app_version(), order=args.order)
    export_frame(frame, args.csv, provenance=prov)
    s = result.summary or result.matrix.summary(len(result.pre.ids), len(result.post.ids))
    print(f"{s['n_pre']:,} x {s['n_post']:,} cells, {s['connected_pairs']:,} connected pairs, "
          f"density {s['density_whole_set']:.4f} over the whole set ({s['n_pre_all']:,} x "
          f"{s['n_post_all']:,} cells), {s['density']:.4f} over the cells shown, "
          f"{s['n_synapses']:,} synapses -> {args.csv}",
          file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


HANDLERS = {"partners": cmd_partners, "matrix": cmd_matrix}

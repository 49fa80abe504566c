"""CLI commands of the table browser and query builder: ``tables`` and ``query``."""
from __future__ import annotations

import sys
from pathlib import Path

from models.errors import CavernError
from services.cli.parser import CliError


def add_parsers(sub, common) -> None:
    sub.add_parser("tables", parents=[common], help="list the tables of a version")
    q = sub.add_parser("query", parents=[common], help="query a table and write CSV/Parquet")
    q.add_argument("table")
    q.add_argument("--filter", action="append", default=[], metavar="EXPR",
                   help="e.g. cell_type=e, size>=300, 'pre_pt_root_id in 1,2,3', "
                        "'ctr_pt_position within x0,y0,z0,x1,y1,z1 [nm]'")
    q.add_argument("--columns", help="comma-separated columns to keep")
    q.add_argument("--limit", type=int)
    q.add_argument("--csv", required=True, type=Path, metavar="OUT",
                   help="output file (.csv, or .parquet for Parquet)")
    q.add_argument("--code", action="store_true", help="also print the caveclient code")


def cmd_tables(args, ws) -> int:
    for t in ws.source.tables(ws.datastack, ws.version):
        n = t.row_count
        if n is None and t.kind == "table":
            try:  # a CAVE listing has no counts: one count request per table
                n = ws.source.row_count(ws.datastack, t.name, ws.version)
            except CavernError:
                n = None
        n = "?" if n is None else str(n)
        desc = " ".join(t.description.split())
        print(f"{t.name}\t{n}\t{desc}")
    return 0


def cmd_query(args, ws) -> int:
    from models.filters import parse_filter_expr
    from models.query_spec import QuerySpec
    from models.reference_join import reference_join_of
    from services.results.export import export_frame
    info = ws.source.table_info(ws.datastack, args.table, ws.version)
    filters = tuple(parse_filter_expr(e, info.kinds) for e in args.filter)
    cols = tuple(c.strip() for c in args.columns.split(",") if c.strip()) if args.columns else ()
    for c in cols:
        if c not in info.kinds:
            raise CliError(f"unknown column '{c}' in table {args.table}")
    if args.limit is not None and args.limit <= 0:
        raise CliError("--limit must be a positive number")
    spec = QuerySpec(args.table, ws.datastack, ws.version, filters=filters, columns=cols,
                     limit=args.limit, is_view=info.kind == "view")
    result = ws.run(spec)
    if getattr(result.frame, "on_disk", False):  # bigger than memory: DuckDB COPY streams it
        from services.results.disk_rows import DiskRows
        from services.results.export import export_disk_rows
        rows = DiskRows(result.frame)
        try:
            export_disk_rows(rows, args.csv)
        finally:
            rows.close()
    else:
        export_frame(result.frame, args.csv)
    print(f"{result.summary()} -> {args.csv}", file=sys.stderr)
    for note in dict.fromkeys(result.notes):
        print(f"note: {note}", file=sys.stderr)
    if args.code:
        local = local_version = None
        if ws.source.kind == "local":  # the code names the CAVE datastack the manifest gives
            local = ws.source.datastack_info(ws.datastack)
            local_version = next((v for v in ws.source.versions(ws.datastack)
                                  if v.version == result.spec.version), None)
        print(result.spec.to_caveclient_code(voxel_resolution=info.voxel_resolution,
                                             reference=reference_join_of(info),
                                             local=local, local_version=local_version))
    return 0


HANDLERS = {"tables": cmd_tables, "query": cmd_query}

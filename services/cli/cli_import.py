"""CLI: ``import-table``, bringing a big table (a CSV/Parquet dump of a CAVE table) into a
local datastack, sorted so that one cell's rows are found by row-group pruning.

    python main.py import-table synapses_pni_2.parquet --into my_stack/v1300 \\
        [--name synapses_pni_2] [--sort-by pre_pt_root_id,post_pt_root_id] [--memory 2GB]

It needs no datastack open: the work is services.local.table_import.import_table (DuckDB,
out of core; the file appears in the folder only when complete). Sort by the column you
query most; import a second time under another ``--name`` sorted by ``post_pt_root_id``
for fast inputs as well as outputs.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from services.cli.parser import CliError

_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def add_parsers(sub, common) -> None:
    p = sub.add_parser("import-table", parents=[common],
                       help="import a CSV/Parquet dump into a local datastack, sorted for "
                            "fast per-cell queries")
    p.add_argument("source", type=Path, help="a .parquet, .csv or .csv.gz file, or a folder "
                                             "of Parquet files")
    p.add_argument("--into", required=True, type=Path, metavar="FOLDER",
                   help="the datastack (version) folder the table goes into")
    p.add_argument("--name", help="table name (default: the source file's name)")
    p.add_argument("--sort-by", default="pre_pt_root_id,post_pt_root_id", metavar="COLS",
                   help="comma-separated columns to sort by (default: "
                        "pre_pt_root_id,post_pt_root_id)")
    p.add_argument("--memory", default="2GB", help="DuckDB memory limit while sorting; "
                                                   "the rest spills to disk (default 2GB)")
    p.add_argument("--force", action="store_true", help="replace a table of that name")


def table_name(args) -> str:
    if args.name:
        name = args.name
    else:
        name = args.source.name
        for ext in (".gz", ".parquet", ".pq", ".csv", ".tsv", ".txt"):
            if name.lower().endswith(ext):
                name = name[: -len(ext)]
    if not _NAME.match(name):
        raise CliError(f"'{name}' is not a table name: use letters, digits, '_', '.' or '-'")
    return name


def cmd_import_table(args) -> int:
    from services.local.table_import import import_table
    name = table_name(args)
    sort_by = tuple(c.strip() for c in args.sort_by.split(",") if c.strip())
    if not sort_by:
        raise CliError("--sort-by needs at least one column")
    if not _MEMORY.match(args.memory.strip()):
        raise CliError(f"--memory '{args.memory}' is not a size such as 2GB or 500MB")
    if not args.into.is_dir():
        raise CliError(f"--into: the folder '{args.into}' does not exist")
    target = args.into / f"{name}.parquet"
    if target.exists() and not args.force:
        raise CliError(f"'{target}' exists already: pass --force to replace it, or --name")
    others = [p for p in args.into.iterdir() if p.stem == name and p != target]
    if others:  # two files of one name make the table ambiguous in the datastack
        raise CliError(f"'{others[0].name}' is already table '{name}' in '{args.into}': "
                       "choose another --name")
    info = import_table(args.source, target, sort_by=sort_by, memory_limit=args.memory.strip(),
                        progress=lambda text: print(text + " …", file=sys.stderr))
    print(f"{target}: {info['rows']:,} rows in {info['row_groups']:,} row groups, sorted by "
          f"{', '.join(sort_by)}; {info['bytes'] / 2**20:,.1f} MB in {info['seconds']:.1f} s")
    return 0


HANDLERS: dict = {}
STANDALONE = {"import-table": cmd_import_table}  # need no datastack or server

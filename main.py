"""Cavern: parse the command line, build the services, start the GUI or run a CLI command.

    python main.py                                  the GUI on the bundled sample
    python main.py --datastack-dir PATH             the GUI on another local datastack
    python main.py tables [--datastack NAME] [--version V]
    python main.py query TABLE [--filter EXPR ...] [--columns a,b] [--limit N] --csv OUT
    python main.py cell ROOT_ID [--json]      python main.py link ROOT_ID [...]
    python main.py partners ROOT_ID --csv OUT python main.py matrix --cells-table T --csv OUT
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

APP_NAME = "Cavern"
DEFAULT_DATASTACK = "pinky100_sample"


def app_version() -> str:
    """The version in pyproject.toml (or the frozen app's bundled copy)."""
    import tomllib
    here = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent))
    try:
        with open(here / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


class CliError(Exception):
    """A bad argument: printed as one line, exit status 2."""


def _common_options(suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the sub-command.

    The sub-commands' copies default to SUPPRESS so that they do not overwrite a value
    given before the sub-command name.
    """
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--datastack-dir", action="append", type=Path, default=d([]),
                        metavar="PATH", help="open a local datastack folder (repeatable)")
    common.add_argument("--datastack", default=d(None),
                        help=f"datastack name (default {DEFAULT_DATASTACK})")
    common.add_argument("--server", default=d(None), metavar="URL",
                        help="query a CAVE server instead of local data (its token is the one "
                             "stored in the OS keyring by the app)")
    common.add_argument("--version", dest="mat_version", type=int, metavar="V", default=d(None),
                        help="materialization version (default: the datastack's default)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(suppress=True)
    p = argparse.ArgumentParser(prog="cavern", parents=[_common_options(suppress=False)],
                                description="Browse and analyse CAVE connectome data.")
    p.add_argument("-V", "--app-version", "--about", dest="show_version", action="store_true",
                   help="print Cavern's version and exit")
    p.add_argument("--quit-after-ms", type=int, default=0, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command")
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
    from services import cli_commands
    cli_commands.add_parsers(sub, common)
    return p


def _fix_version_flag(argv: list[str]) -> list[str]:
    """`--version` alone (no number) asks for Cavern's version, as users expect."""
    out = list(argv)
    for i, a in enumerate(out):
        if a == "--version" and (i + 1 >= len(out) or not out[i + 1].lstrip("-").isdigit()):
            out[i] = "--app-version"
    return out


def make_source(args):
    if getattr(args, "server", None) and getattr(args, "command", None):
        from services.cave_source import CaveSource
        from services.token_store import TokenStore
        return CaveSource(args.server, TokenStore().get_token(args.server))
    from services.local_source import LocalSource, sample_folders
    src = LocalSource(sample_folders())
    for folder in args.datastack_dir:
        src.add_folder(folder)
    return src


def pick_datastack(args, src) -> str:
    if args.datastack:
        return args.datastack
    if src.kind == "cave":
        raise CliError("--server needs --datastack NAME (e.g. minnie65_public)")
    if args.datastack_dir:
        return src.datastacks()[-1]
    return DEFAULT_DATASTACK


def cmd_tables(args, src) -> int:
    ds = pick_datastack(args, src)
    from models.errors import CavernError
    for t in src.tables(ds, args.mat_version):
        n = t.row_count
        if n is None and t.kind == "table":
            try:  # a CAVE listing has no counts: one count request per table
                n = src.row_count(ds, t.name, args.mat_version)
            except CavernError:
                n = None
        n = "?" if n is None else str(n)
        desc = " ".join(t.description.split())
        print(f"{t.name}\t{n}\t{desc}")
    return 0


def cmd_query(args, src) -> int:
    from models.filters import parse_filter_expr
    from models.query_spec import QuerySpec
    from services.export import export_frame
    ds = pick_datastack(args, src)
    info = src.table_info(ds, args.table, args.mat_version)
    filters = tuple(parse_filter_expr(e, info.kinds) for e in args.filter)
    cols = tuple(c.strip() for c in args.columns.split(",") if c.strip()) if args.columns else ()
    for c in cols:
        if c not in info.kinds:
            raise CliError(f"unknown column '{c}' in table {args.table}")
    if args.limit is not None and args.limit <= 0:
        raise CliError("--limit must be a positive number")
    spec = QuerySpec(args.table, ds, args.mat_version, filters=filters, columns=cols,
                     limit=args.limit)
    result = src.query(spec)
    export_frame(result.frame, args.csv)
    print(f"{result.summary()} -> {args.csv}", file=sys.stderr)
    if args.code:
        print(result.spec.to_caveclient_code(voxel_resolution=info.voxel_resolution))
    return 0


def run_cli(args) -> int:
    from models.errors import CavernError, InvalidInputError, NotFoundError
    from services import cli_commands
    handlers = {"tables": cmd_tables, "query": cmd_query, **cli_commands.HANDLERS}
    try:
        src = make_source(args)
        return handlers[args.command](args, src)
    except CliError as exc:
        print(f"cavern: error: {exc}", file=sys.stderr)
        return 2
    except (InvalidInputError, NotFoundError) as exc:
        print(f"cavern: error: {exc}", file=sys.stderr)
        return 2
    except CavernError as exc:
        print(f"cavern: error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = _fix_version_flag(sys.argv[1:] if argv is None else argv)
    if argv in (["--app-version"], ["-V"], ["--about"]):
        print(f"{APP_NAME} {app_version()}")  # fast: no parser, so no pandas/scipy import
        return 0
    args = build_parser().parse_args(argv)
    if args.show_version:
        print(f"{APP_NAME} {app_version()}")
        return 0
    if args.command:
        return run_cli(args)
    if args.server:
        print("cavern: error: --server is for the CLI commands; in the app use "
              "File > Connect to CAVE server", file=sys.stderr)
        return 2
    from models.errors import CavernError
    try:
        src = make_source(args)
    except CavernError as exc:
        print(f"cavern: error: {exc}", file=sys.stderr)
        return 2
    from ui.app import exit_now, run_gui
    datastack = pick_datastack(args, src) if (args.datastack or args.datastack_dir) else None
    status = run_gui(src, datastack, app_version(), quit_after_ms=args.quit_after_ms)
    src.close()
    exit_now(status)


if __name__ == "__main__":
    sys.exit(main())

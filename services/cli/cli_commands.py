"""The CLI's commands and how one is run: build the source and the Workspace, run the
handler, turn every typed error into one line and the documented exit status.

Each area's module adds its sub-parsers (``add_parsers(sub, common)``) and maps command
names to handlers (``HANDLERS``); a handler takes (args, workspace) and returns the exit
status. Exit status: 0 done, 1 a data or server failure, 2 a bad argument, id or name.
"""
from __future__ import annotations

import sys

from models.errors import CavernError, InvalidInputError, NotFoundError
from services.cli import cli_cells, cli_connectivity, cli_import, cli_skeleton, table_commands
from services.cli.app_info import DEFAULT_DATASTACK
from services.cli.parser import CliError

_AREAS = (table_commands, cli_cells, cli_connectivity, cli_import, cli_skeleton)
HANDLERS: dict = {name: fn for area in _AREAS for name, fn in area.HANDLERS.items()}


def add_parsers(sub, common) -> None:
    """Add the sub-commands of the tables, the cell inspector, links and connectivity."""
    for area in _AREAS:
        area.add_parsers(sub, common)


def make_source(args):
    """The CAVE server of ``--server`` (token from the keyring), or the local samples and
    ``--datastack-dir`` folders."""
    if getattr(args, "server", None) and getattr(args, "command", None):
        from services.cave.cave_source import CaveSource
        from services.cave.token_store import TokenStore
        return CaveSource.with_disk_cache(args.server, TokenStore().get_token(args.server))
    from services.local.local_source import LocalSource, sample_folders
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


def make_workspace(args, src):
    from services.workspace import Workspace
    ds = pick_datastack(args, src)
    src.datastack_info(ds)  # an unknown name is a NotFoundError naming the datastacks
    return Workspace(src, ds, args.mat_version)


def run_cli(args) -> int:
    src = None
    try:
        if args.command in cli_import.STANDALONE:  # works on files: no source to open
            return cli_import.STANDALONE[args.command](args)
        src = make_source(args)
        return HANDLERS[args.command](args, make_workspace(args, src))
    except (CliError, InvalidInputError, NotFoundError) as exc:
        print_error(exc)
        return 2
    except CavernError as exc:
        print_error(exc)
        return 1
    finally:
        if src is not None:
            src.close()


def print_error(exc) -> None:
    """One line on stderr whatever the message holds (new lines, a file's text)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    print(f"cavern: error: {text}", file=sys.stderr)


def parse_args(argv: list[str]):
    """The parsed command line, or the exit status when it asked only for the version."""
    from services.cli.app_info import APP_NAME, app_version
    from services.cli.parser import build_parser, fix_version_flag
    argv = fix_version_flag(list(argv))
    if argv in (["--app-version"], ["-V"], ["--about"]):
        print(f"{APP_NAME} {app_version()}")  # fast: no parser, so no pandas/scipy import
        return 0
    args = build_parser().parse_args(argv)
    if args.show_version:
        print(f"{APP_NAME} {app_version()}")
        return 0
    return args


def cli_main(argv: list[str]) -> int:
    """The command line without the GUI: what ``main.py COMMAND ...`` runs."""
    args = parse_args(argv)
    if isinstance(args, int):
        return args
    if not args.command:
        print_error("name a command (tables, query, cell, link, partners, matrix, import-table)")
        return 2
    return run_cli(args)

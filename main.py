"""Cavern's entry point: hands the command line to services.cli or starts the GUI.

    python main.py                                  the GUI on the bundled sample
    python main.py --datastack-dir PATH             the GUI on another local datastack
    python main.py tables [--datastack NAME] [--version V]
    python main.py query TABLE [--filter EXPR ...] [--columns a,b] [--limit N] --csv OUT
    python main.py cell ROOT_ID [--json]      python main.py link ROOT_ID [...]
    python main.py partners ROOT_ID --csv OUT python main.py matrix --cells-table T --csv OUT
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from services.cli import cli_commands
    args = cli_commands.parse_args(sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args
    if args.command:
        return cli_commands.run_cli(args)
    if args.server:
        print("cavern: error: --server is for the CLI commands; in the app use "
              "File > Connect to CAVE server", file=sys.stderr)
        return 2
    from models.errors import CavernError
    from services.cli.app_info import app_version
    try:
        src = cli_commands.make_source(args)
        datastack = (cli_commands.pick_datastack(args, src)
                     if (args.datastack or args.datastack_dir) else None)
    except CavernError as exc:
        print(f"cavern: error: {exc}", file=sys.stderr)
        return 2
    from ui.app import run_gui
    return run_gui(src, datastack, app_version(), quit_after_ms=args.quit_after_ms)


if __name__ == "__main__":
    sys.exit(main())

"""The command line: options shared by every sub-command, and the sub-commands' parsers."""
from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlsplit

from services.cli.app_info import DEFAULT_DATASTACK


class CliError(Exception):
    """A bad argument: printed as one line, exit status 2."""


def server_url(text: str) -> str:
    """``--server``: an http(s) address with a host (checked here, so a malformed one is a
    usage error, not a ValueError from deep inside the URL handling)."""
    text = text.strip()
    if not text:
        return ""  # no server: local data
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not a server address ({exc}); "
                                         "use e.g. https://global.daf-apis.com") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"'{text}' is not a server address; use e.g. "
                                         "https://global.daf-apis.com")
    return text


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
    common.add_argument("--server", default=d(None), metavar="URL", type=server_url,
                        help="query a CAVE server instead of local data (its token is the one "
                             "stored in the OS keyring by the app)")
    common.add_argument("--version", dest="mat_version", type=int, metavar="V", default=d(None),
                        help="materialization version (default: the datastack's default)")
    return common


def build_parser() -> argparse.ArgumentParser:
    from services.cli import cli_commands
    common = _common_options(suppress=True)
    p = argparse.ArgumentParser(prog="cavern", parents=[_common_options(suppress=False)],
                                description="Browse and analyse CAVE connectome data.")
    p.add_argument("-V", "--app-version", "--about", dest="show_version", action="store_true",
                   help="print Cavern's version and exit")
    p.add_argument("--quit-after-ms", type=int, default=0, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command")
    cli_commands.add_parsers(sub, common)
    return p


def fix_version_flag(argv: list[str]) -> list[str]:
    """`--version` alone (no number) asks for Cavern's version, as users expect."""
    out = list(argv)
    for i, a in enumerate(out):
        if a == "--version" and (i + 1 >= len(out) or not out[i + 1].lstrip("-").isdigit()):
            out[i] = "--app-version"
    return out

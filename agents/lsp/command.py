"""``ellora lsp``: start the language server on stdin/stdout (what editors launch)."""

from __future__ import annotations

import argparse
import logging
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="talk LSP over stdin/stdout (the default and only transport)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. lsp.diagnostics_on_save=true",
    )
    parser.add_argument("--log-file", help="write the server log here (default: stderr)")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log verbosity",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until the editor sends ``exit`` (or closes stdin)."""
    from ellora.agents.settings import parse_overrides

    overrides = parse_overrides(args.set)
    handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=logging.WARNING,
        handlers=[handler],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("ellora").setLevel(args.log_level)  # pygls logs every message at INFO
    from ellora.agents.lsp.server import create_server

    server = create_server(overrides)
    server.start_io()
    return 0

"""``ellora config``: print the effective configuration and where it came from."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. model.provider=openai-compatible",
    )


def run(args: argparse.Namespace) -> int:
    from ellora.agents.settings import config_file_candidates, load_settings, parse_overrides

    settings = load_settings(parse_overrides(args.set))
    files = [str(p) for p in config_file_candidates() if p.is_file()]
    print(json.dumps({"files": files, "settings": settings.model_dump(mode="json")}, indent=2))
    return 0

"""``ellora``: the umbrella command. Subcommands live next to the code they drive and are
imported only when named, so ``ellora --help`` stays instant.

A subcommand module exposes ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ellora.agents.cli.errors import UserError, report_user_error

# name -> (module, one-line help). Add a command only when it works.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "agent": ("ellora.agents.cli.agent_command", "run one agent task (same as ellora-agent)"),
    "config": ("ellora.agents.cli.config_command", "print the effective configuration"),
    "eval": ("ellora.evals.cli", "run eval suites (pass@k, speedup@k) and report on runs"),
    "lsp": ("ellora.agents.lsp.command", "start the language server on stdio (for editors)"),
    "doctor": ("ellora.tools.doctor", "show the compilers, MPI, Kokkos and CUDA found, and hints"),
    "sandbox": (
        "ellora.sandbox.cli",
        "run a command in a fresh sandbox and print the result as JSON",
    ),
    "serve": (
        "ellora.models.serve_cli",
        "serve a model over an OpenAI-compatible API (llama.cpp, vLLM)",
    ),
    "train": ("ellora.models.train.cli", "LoRA fine-tuning: run, merge, verify, test, dataset"),
    "index": ("ellora.knowledge_graph.cli", "index E4S libraries and query them (graph + vectors)"),
}


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ellora", description="Ellora: an HPC coding assistant.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            importlib.import_module(module_name).add_arguments(sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in argv if not a.startswith("-")), None)
    if selected is not None and selected not in SUBCOMMANDS:
        print(
            f"ellora: error: unknown command {selected!r}; run 'ellora --help' for the list",
            file=sys.stderr,
        )
        return 2
    parser = build_parser(selected)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except UserError as error:
        return report_user_error("ellora", error)
    except KeyboardInterrupt:
        print("ellora: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

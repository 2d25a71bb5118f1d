"""``ellora train {run, merge, verify, test, dataset, export-gguf}``: LoRA fine-tuning and
its checks.

    ellora train run --data kokkos.json --output runs/kokkos [--max-steps 400] [--resume]
    ellora train merge runs/kokkos/adapter --output runs/kokkos/merged
    ellora train verify --adapter runs/kokkos/adapter [--limit 8]
    ellora train test kokkos_testing.yaml --adapter runs/kokkos/adapter --output answers
    ellora train dataset src/ third_party/ --output code.jsonl
    ellora train dataset --from-engine --output data/engine --pareval ~/ParEval
    ellora train export-gguf runs/engine/adapter --output runs/engine/adapter.gguf

Settings come from the ``[train]`` section of ellora.toml, ``ELLORA_TRAIN__*`` and ``--set``;
the flags here override them. Multi-GPU: ``accelerate launch --config_file CONFIG -m
ellora.models.train run ...`` with a config from ``ellora/models/train/accelerate_configs``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ellora.agents.cli.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the actions and their options."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="train a LoRA adapter (SFT, loss on answers only)")
    _common(run)
    run.add_argument("--data", nargs="+", help="training files (default: train.data)")
    run.add_argument("--output", help="output folder (default: train.output_dir)")
    run.add_argument("--max-steps", type=int, help="optimizer steps (default: train.max_steps)")
    run.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    merge = actions.add_parser("merge", help="fold an adapter into its base model and save")
    _common(merge)
    merge.add_argument("adapter", help="adapter folder (OUTPUT/adapter)")
    merge.add_argument("--output", required=True, help="folder for the merged model")
    verify = actions.add_parser("verify", help="replay the training set: exact and similar")
    _generation(verify)
    verify.add_argument("--data", nargs="+", help="files to replay (default: train.data)")
    verify.add_argument("--limit", type=int, help="replay only the first N examples")
    verify.add_argument("--out", help="write every answer and the counts here (JSON)")
    test = actions.add_parser("test", help="answer a test YAML into JSON + Markdown for review")
    _generation(test)
    test.add_argument("file", help="test YAML: a list of {Context, Question}")
    test.add_argument("--output", default="test_answers", help="output stem (.json and .md)")
    export = actions.add_parser("export-gguf", help="write an adapter as a GGUF LoRA for "
                                "llama.cpp (ellora serve --engine llama.cpp --lora NAME=FILE)")
    export.add_argument("adapter", help="adapter folder (OUTPUT/adapter)")
    export.add_argument("--output", required=True, help="the .gguf file to write")
    export.add_argument("--base-gguf", help="the GGUF it applies to (default: the one it was "
                        "trained on, else the Gemma 3 270M)")
    dataset = actions.add_parser(
        "dataset", help="raw C/C++/Fortran code (HPC-Coder style), or --from-engine: "
        "verified ports of E4S library loops")
    dataset.add_argument("folders", nargs="*", help="folders to collect source files from "
                         "(with --from-engine: code used instead of the Debian sources)")
    dataset.add_argument("--output", required=True,
                         help="JSONL file to write (--from-engine: a folder)")
    dataset.add_argument("--tokenizer", help="count tokens with this model folder's tokenizer")
    engine = dataset.add_argument_group("--from-engine")
    engine.add_argument("--from-engine", action="store_true",
                        help="run the transformation engine on E4S library loops; keep "
                        "verified ports and refusals (train.engine.* settings)")
    engine.add_argument("--pareval", help="ParEval checkout: left out as evaluation code")
    engine.add_argument("--targets", default="openmp,kokkos,mpi",
                        help="comma-separated: openmp, kokkos, mpi")
    engine.add_argument("--work", help="downloads and caches (default: train.engine.work_dir)")
    engine.add_argument("--max-candidates", type=int, help="stop after this many kernels")
    engine.add_argument("--time-budget", type=float, metavar="MINUTES",
                        help="stop verifying after this long (a rerun resumes)")
    engine.add_argument("--license", default="unknown",
                        help="SPDX licence of the FOLDERS given with --from-engine")
    dataset.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="override a setting, e.g. train.engine.seed=1")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. train.lora.r=8",
    )
    parser.add_argument("--base-model", help="model folder or .gguf (default: train.base_model)")


def _generation(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--adapter", help="adapter folder (default: the base model alone)")
    parser.add_argument("--prompt-format", help="default: the adapter's, else train.prompt_format")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")


def run(args: argparse.Namespace) -> int:
    """Dispatch to the action; library errors become one-line UserErrors."""
    from ellora.models import ModelUnavailable
    from ellora.models.train.data import DataError

    actions: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": _run,
        "merge": _merge,
        "verify": _verify,
        "test": _test,
        "dataset": _dataset,
        "export-gguf": _export_gguf,
    }
    try:
        return actions[args.action](args)
    except (DataError, ModelUnavailable, FileNotFoundError) as error:
        raise UserError(str(error)) from None
    except ValueError as error:
        raise UserError(f"ellora train {args.action}: {error}") from None


def _settings(args: argparse.Namespace) -> Any:
    from ellora.agents.settings import load_settings, parse_overrides

    train = load_settings(parse_overrides(args.set)).train
    updates = {
        "base_model": getattr(args, "base_model", None),
        "data": getattr(args, "data", None),
        "output_dir": getattr(args, "output", None) if args.action == "run" else None,
        "max_steps": getattr(args, "max_steps", None),
    }
    return train.model_copy(update={k: v for k, v in updates.items() if v is not None})


def _run(args: argparse.Namespace) -> int:
    from ellora.models.train.sft import train

    settings = _settings(args)
    if not settings.data:
        raise UserError("no training data: pass --data FILE... or set train.data in ellora.toml")
    report = train(settings, resume=args.resume, progress=not args.no_progress)
    print(json.dumps(report.__dict__, indent=2))
    return 0


def _merge(args: argparse.Namespace) -> int:
    from ellora.models.train.evaluate import merge

    print(merge(args.adapter, args.output, base_model=args.base_model))
    return 0


def _load(args: argparse.Namespace, settings: Any) -> Any:
    from ellora.models.train.evaluate import adapter_meta, load_model

    fmt = args.prompt_format
    if fmt is None and not adapter_meta(args.adapter):
        fmt = settings.prompt_format
    return load_model(args.base_model or settings.base_model, args.adapter, fmt, args.device)


def _verify(args: argparse.Namespace) -> int:
    from ellora.models.train.data import load_examples
    from ellora.models.train.evaluate import verify, verify_summary

    settings = _settings(args)
    if not settings.data:
        raise UserError("nothing to replay: pass --data FILE... or set train.data")
    examples = load_examples(settings.data, settings.data_format)[: args.limit]
    result = verify(_load(args, settings), examples, args.max_new_tokens)
    summary = verify_summary(result)
    if args.out:
        Path(args.out).write_text(json.dumps({**summary, "items": result.items}, indent=2))
    print(json.dumps(summary, indent=2))
    return 0


def _test(args: argparse.Namespace) -> int:
    from ellora.models.train.data import load_test_yaml
    from ellora.models.train.evaluate import answer_tests, write_review

    settings = _settings(args)
    loaded = _load(args, settings)
    records = answer_tests(loaded, load_test_yaml(args.file), args.max_new_tokens)
    for path in write_review(records, Path(args.output), loaded.label):
        print(path)
    return 0


def _export_gguf(args: argparse.Namespace) -> int:
    from ellora.models.train.gguf_lora import ExportError, export_gguf_lora

    if not args.output.endswith(".gguf"):
        raise UserError(f"--output {args.output}: name the file *.gguf")
    try:
        print(export_gguf_lora(args.adapter, args.output, args.base_gguf))
    except ExportError as error:
        raise UserError(f"ellora train export-gguf: {error}") from None
    return 0


def _dataset(args: argparse.Namespace) -> int:
    if args.from_engine:
        return _engine_dataset(args)
    if not args.folders:
        raise UserError("ellora train dataset: give folders of source code, or --from-engine")
    from ellora.models.train.rawcode import build_dataset, code_tokens

    count = code_tokens
    if args.tokenizer:
        from ellora.models.hf_load import load_tokenizer

        tokenizer = load_tokenizer(Path(args.tokenizer))

        def count(text: str) -> int:
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    report = build_dataset(args.folders, args.output, count_tokens=count)
    print("\n".join(report.lines()), file=sys.stderr)
    print(args.output)
    return 0


def _engine_dataset(args: argparse.Namespace) -> int:
    from ellora.models.train.engine_data import build_engine_dataset
    from ellora.models.train.engine_ports import TARGETS
    from ellora.models.train.engine_sources import SourceError, local_sources

    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    unknown = [t for t in targets if t not in TARGETS]
    if unknown or not targets:
        raise UserError(f"--targets {args.targets!r}: choose from {', '.join(TARGETS)}")
    if args.pareval and not (Path(args.pareval) / "prompts").is_dir():
        raise UserError(f"--pareval {args.pareval}: not a ParEval checkout (no prompts/ folder)")
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise UserError(f"--output {output} is a file: --from-engine writes a folder")
    if args.max_candidates is not None and args.max_candidates < 1:
        raise UserError(f"--max-candidates must be at least 1, got {args.max_candidates}")
    if args.time_budget is not None and args.time_budget <= 0:
        raise UserError(f"--time-budget must be positive minutes, got {args.time_budget}")
    engine = _settings(args).engine
    updates = {"work_dir": args.work, "max_candidates": args.max_candidates,
               "time_budget_s": args.time_budget * 60 if args.time_budget else None}
    engine = engine.model_copy(update={k: v for k, v in updates.items() if v is not None})
    try:
        sources = local_sources(args.folders, args.license) if args.folders else None
        report = build_engine_dataset(output, engine, targets=targets, sources=sources,
                                      pareval=Path(args.pareval) if args.pareval else None,
                                      log=lambda message: print(message, file=sys.stderr))
    except (SourceError, RuntimeError) as error:
        raise UserError(f"ellora train dataset --from-engine: {error}") from None
    print("\n".join(report.lines()), file=sys.stderr)
    print(output)
    return 0

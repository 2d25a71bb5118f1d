"""``ellora eval``: run suites (``eval run``), report on runs (``eval report``), list tasks.

    ellora eval run builtin --model embedded --models omp,kokkos --kinds translation
    ellora eval run builtin --model embedded --agent --samples 1
    ellora eval run pareval:/path/to/ParEval --model qwen-coder --samples 20 --temperature 0.2
    ellora eval run chatkokkos:/path/to/kokkos_testing.yaml --model qwen-coder
    ellora eval report RUN_DIR [RUN_DIR ...] --out report/
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ellora.agents.cli.errors import UserError

PROVIDERS = ("embedded", "openai-compatible")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="eval_command", metavar="ACTION")
    run = sub.add_parser("run", help="generate, build, validate and time samples of a suite")
    run.add_argument("suite", help="builtin | a suite folder | pareval:PATH | chatkokkos:PATH")
    run.add_argument("--model", required=True,
                     help="embedded | openai-compatible | reference (the suite's own code) | "
                          "a model name on the OpenAI-compatible server")
    run.add_argument("--agent", action="store_true", help="samples come from the agent graph")
    run.add_argument("--samples", type=int, default=1, help="samples per task (N)")
    run.add_argument("--temperature", type=float, default=0.2)
    run.add_argument("--models", help="target programming models, e.g. omp,mpi,kokkos")
    run.add_argument("--kinds", default="generation,translation",
                     help="task kinds: generation, translation")
    run.add_argument("--sources", help="translation sources, e.g. serial")
    run.add_argument("--problems", help="problem name patterns, e.g. 'reduce_*,sort_*'")
    run.add_argument("--out", type=Path, help="runs folder (default: evals.output_dir or "
                                              "state_dir/evals)")
    run.add_argument("--name", help="run folder name (default: derived from the arguments)")
    run.add_argument("--workers", type=int, help="Parsl workers (evals.parsl.workers)")
    run.add_argument("--prompt-template", type=Path,
                     help="Jinja prompt template for chatkokkos questions")
    _common(run)
    report = sub.add_parser("report", help="metrics tables and plots for runs")
    report.add_argument("runs", nargs="+", type=Path, help="run folders")
    report.add_argument("--out", type=Path, default=Path("eval-report"))
    report.add_argument("--k", default="1", help="k values, e.g. 1,5,10")
    report.add_argument("--no-plots", action="store_true")
    report.add_argument("--problems", help="only these problem name patterns, e.g. 'reduce_*'")
    report.add_argument("--min-reference-s", type=float, metavar="S",
                        help="only problems whose serial reference takes at least S seconds "
                             "at the timing size (those large enough to benefit)")
    listing = sub.add_parser("list", help="list the tasks of a suite")
    listing.add_argument("suite")
    listing.add_argument("--models")
    listing.add_argument("--kinds", default="generation,translation")
    _common(listing)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting, e.g. evals.threads=[1,2,4]")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    if args.eval_command is None:
        raise UserError("say what to do: ellora eval run | report | list (see --help)")
    if args.eval_command == "report":
        return _report(args)
    if args.eval_command == "list":
        return _list(args)
    return _run(args)


def _settings(args, model: str | None = None):
    from ellora.agents.settings import load_settings, parse_overrides

    overrides = parse_overrides(args.set)
    if model and model != "reference":
        section = overrides.setdefault("model", {})
        if model in PROVIDERS:
            section["provider"] = model
        else:
            section.update(provider="openai-compatible", model=model)
    if getattr(args, "workers", None):
        overrides.setdefault("evals", {}).setdefault("parsl", {})["workers"] = args.workers
    return load_settings(overrides)


def _split(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _run(args) -> int:
    from ellora.evals.resolve import resolve_suite
    from ellora.evals.runner import RunSpec, run_eval
    from ellora.evals.suite import TASK_KINDS

    settings = _settings(args, args.model)
    if args.samples < 1:
        raise UserError(f"--samples must be at least 1, got {args.samples}")
    kinds = _split(args.kinds) or list(TASK_KINDS)
    if bad := [k for k in kinds if k not in TASK_KINDS]:
        raise UserError(f"unknown task kind {bad[0]!r}: use generation and/or translation")
    suite_name, problems, review = resolve_suite(args.suite)
    out = args.out or Path(settings.evals.output_dir or settings.state_dir / "evals")
    if review is not None:
        from ellora.evals.review_run import run_review

        if args.model == "reference":
            raise UserError("review questions have no reference answers: name a model")
        folder = run_review(review, args, settings, suite_name, out)
        print(folder)
        return 0
    spec = RunSpec(suite=args.suite, model=args.model, agent=args.agent, samples=args.samples,
                   temperature=args.temperature, models=_models(args.models), kinds=kinds,
                   sources=_models(args.sources), problems=_split(args.problems))
    from ellora.models import ModelUnavailable

    try:
        folder = run_eval(spec, settings, problems, suite_name, out, quiet=args.quiet,
                          name=args.name)
    except ValueError as error:
        raise UserError(str(error)) from None
    except ModelUnavailable as error:  # a model setting to fix: the finished records stay
        raise UserError(f"{error} (then rerun the same command: the run resumes)") from None
    print(folder)
    return 0


def _models(text: str | None) -> list[str] | None:
    from ellora.evals.programming import parse_models

    if not text:
        return None
    try:
        return parse_models(text)
    except ValueError as error:
        raise UserError(str(error)) from None


def _report(args) -> int:
    from ellora.evals.report import write_report

    missing = [str(r) for r in args.runs if not (r / "run.json").is_file()]
    if missing:
        raise UserError(f"not a run folder (no run.json): {missing[0]}")
    try:
        ks = [int(k) for k in args.k.split(",")]
    except ValueError:
        raise UserError(f"bad --k {args.k!r}: write it as 1,5,10") from None
    if args.min_reference_s is not None and args.min_reference_s < 0:
        raise UserError(f"--min-reference-s must be >= 0, got {args.min_reference_s}")
    for path in write_report(args.runs, args.out, ks, plots=not args.no_plots,
                             problems=_split(args.problems),
                             min_reference_s=args.min_reference_s):
        print(path)
    return 0


def _list(args) -> int:
    from ellora.evals.resolve import resolve_suite
    from ellora.evals.suite import suite_tasks

    _, problems, review = resolve_suite(args.suite)
    if review is not None:
        for item in review:
            print(f"{item.key}\t{item.context}")
        return 0
    models = _models(args.models) or sorted({m for p in problems for m in p.models})
    for task in suite_tasks(problems, models, _split(args.kinds) or []):
        print(task.id)
    return 0

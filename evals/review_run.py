"""A review run (ChatKokkos questions): answers only, stored like samples, resumable."""

from __future__ import annotations

from pathlib import Path

from ellora.evals.progress import Progress
from ellora.evals.store import RunStore, run_name


def run_review(items: list, args, settings, suite_name: str, out: Path,
               model_factory=None) -> Path:
    """Answer every question not answered yet; returns the run folder."""
    from ellora.evals.chatkokkos import answer_all

    arguments = {"suite": args.suite, "suite_name": suite_name, "model": args.model,
                 "agent": False, "temperature": args.temperature, "review": True,
                 "prompt_template": str(args.prompt_template) if args.prompt_template else None}
    folder = Path(out) / (args.name or run_name(arguments))
    store = RunStore(folder)
    store.open(arguments)
    done = {row["key"] for row in store.records()}
    progress = Progress(len(items), len(done), quiet=args.quiet)
    if model_factory is None:
        from ellora.models import create_chat_model

        def model_factory():
            return create_chat_model(settings.model)
    template = args.prompt_template.read_text() if args.prompt_template else None
    model = model_factory().bind(temperature=args.temperature,
                                 max_tokens=settings.evals.max_tokens)

    def keep(row: dict) -> None:
        store.add_record(row)
        progress.update({"key": row["key"], "status": "answered" if row.get("answer") else
                         "error"})

    answer_all(items, model, done, keep, template, settings.evals.generation_batch)
    progress.close()
    return folder

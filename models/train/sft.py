"""LoRA supervised fine-tuning with PEFT, transformers and accelerate.

One loop serves a single CPU process and ``accelerate launch`` on many GPUs (DDP or DeepSpeed
ZeRO-2/3, see ``accelerate_configs/``). Writes into ``output_dir``: ``train_log.jsonl`` (one
line per optimizer step), ``checkpoints/step-N/`` every ``save_every`` steps and at the end
(adapter, optimizer, scheduler, RNG; the newest ``keep_checkpoints`` are kept; ``--resume``
continues from the newest, also past a finished run's ``max_steps``), and ``adapter/`` (PEFT
adapter, tokenizer and ``ellora_adapter.json`` naming the base model and prompt format),
``train_report.json`` and ``loss.png``.
"""

from __future__ import annotations

import json
import resource
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ellora.models.hf_load import load_tokenizer, model_directory, resolve_model_source
from ellora.models.prompt_format import load_prompt_format
from ellora.models.train.config import TrainSettings
from ellora.models.train.data import load_examples
from ellora.models.train.encode import answer_loss, batch_indices, collate, encode_all
from ellora.models.train.plot import plot_loss

ADAPTER_META = "ellora_adapter.json"


@dataclass
class TrainReport:
    """What a run did: steps, losses, time, memory and where the adapter is."""

    start_step: int
    steps: int
    first_loss: float | None
    last_loss: float | None
    seconds: float
    seconds_per_step: float
    tokens_per_s: float
    peak_rss_mb: float
    examples: int
    truncated: int
    skipped: int
    adapter_dir: str


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mixed_precision(settings: TrainSettings, on_gpu: bool) -> str:
    """accelerate's mixed-precision mode: ``auto`` is bf16 on GPUs that support it."""
    if settings.mixed_precision != "auto":
        return settings.mixed_precision
    import torch

    return "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "no"


def build_peft_model(model_dir: Path, settings: TrainSettings, dtype: Any) -> Any:
    """The base model with fresh LoRA adapters on ``settings.lora.target_modules``."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype)
    if settings.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    lora = settings.lora
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _scheduler(optimizer: Any, settings: TrainSettings) -> Any:
    from transformers import get_scheduler

    name = "constant_with_warmup" if settings.lr_schedule == "constant" else settings.lr_schedule
    return get_scheduler(
        name,
        optimizer,
        num_warmup_steps=min(settings.warmup_steps, settings.max_steps),
        num_training_steps=settings.max_steps,
    )


class _Run:
    """State of one training run (kept small: the loop lives in :func:`train`)."""

    def __init__(self, settings: TrainSettings, resume: bool) -> None:
        import torch
        from accelerate import Accelerator
        from accelerate.utils import set_seed

        if settings.num_threads:
            torch.set_num_threads(settings.num_threads)
        self.settings = settings
        self.output = Path(settings.output_dir)
        on_gpu = settings.device != "cpu" and torch.cuda.is_available()
        self.accelerator = Accelerator(
            gradient_accumulation_steps=settings.grad_accum,
            mixed_precision=mixed_precision(settings, on_gpu),
            cpu=not on_gpu,
        )
        set_seed(settings.seed)
        examples = load_examples(settings.data, settings.data_format)  # bad data fails first
        self.source = resolve_model_source(settings.base_model)
        self.model_dir = model_directory(self.source)
        self.tokenizer = load_tokenizer(self.model_dir)
        self.fmt = load_prompt_format(settings.prompt_format)
        self.data = encode_all(self.tokenizer, self.fmt, examples, settings.max_len)
        if not self.data.items:
            raise ValueError("no example has an answer token within max_len: raise train.max_len")
        dtype = torch.bfloat16 if self.accelerator.mixed_precision == "bf16" else torch.float32
        model = build_peft_model(self.model_dir, settings, dtype)
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            trainable, lr=settings.learning_rate, weight_decay=settings.weight_decay
        )
        self.scheduler = _scheduler(optimizer, settings)
        self._configure_deepspeed()
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.accelerator.register_for_checkpointing(self.scheduler)
        self._register_adapter_only_checkpoints()
        self.start_step = self._resume() if resume else 0

    def _configure_deepspeed(self) -> None:
        plugin = self.accelerator.state.deepspeed_plugin
        if plugin is not None:  # no DataLoader is prepared, so DeepSpeed must be told
            plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = self.settings.batch_size

    def _register_adapter_only_checkpoints(self) -> None:
        """Checkpoints hold the adapter, not the frozen base model (DeepSpeed saves its own)."""
        from peft import get_peft_model_state_dict, set_peft_model_state_dict

        def save(models: list[Any], weights: list[Any], folder: str) -> None:
            for model in models:
                state = get_peft_model_state_dict(self.accelerator.unwrap_model(model))
                import torch

                torch.save(state, Path(folder) / "adapter_state.pt")
            weights.clear()

        def load(models: list[Any], folder: str) -> None:
            import torch

            state = torch.load(Path(folder) / "adapter_state.pt", weights_only=True)
            for _ in range(len(models)):
                model = models.pop()
                set_peft_model_state_dict(self.accelerator.unwrap_model(model), state)

        if self.accelerator.state.deepspeed_plugin is None:
            self.accelerator.register_save_state_pre_hook(save)
            self.accelerator.register_load_state_pre_hook(load)

    def checkpoints(self) -> list[Path]:
        """Saved checkpoints, oldest first."""
        folder = self.output / "checkpoints"
        found = [p for p in folder.glob("step-*") if (p / "trainer_state.json").is_file()]
        return sorted(found, key=lambda p: int(p.name.split("-")[1]))

    def _resume(self) -> int:
        found = self.checkpoints()
        if not found:
            return 0
        self.accelerator.load_state(str(found[-1]))
        return int(json.loads((found[-1] / "trainer_state.json").read_text())["step"])

    def save_checkpoint(self, step: int) -> None:
        """Save everything needed to resume after ``step``; prune old checkpoints."""
        folder = self.output / "checkpoints" / f"step-{step}"
        self.accelerator.save_state(str(folder))
        if self.accelerator.is_main_process:
            (folder / "trainer_state.json").write_text(json.dumps({"step": step}))
            for old in self.checkpoints()[: -self.settings.keep_checkpoints]:
                shutil.rmtree(old, ignore_errors=True)
        self.accelerator.wait_for_everyone()

    def micro_batch(self, index: int) -> dict[str, Any]:
        """Global micro-batch ``index`` for this process, on its device."""
        picks = batch_indices(
            len(self.data.items),
            self.settings.batch_size,
            self.settings.seed,
            index,
            self.accelerator.process_index,
            self.accelerator.num_processes,
        )
        batch = collate([self.data.items[i] for i in picks], self.tokenizer.pad_token_id)
        return {key: value.to(self.accelerator.device) for key, value in batch.items()}

    def optimizer_step(self, step: int) -> tuple[float, int]:
        """One optimizer step over ``grad_accum`` micro-batches: (mean loss, answer tokens)."""
        losses, tokens = [], 0
        for micro in range(self.settings.grad_accum):
            batch = self.micro_batch(step * self.settings.grad_accum + micro)
            with self.accelerator.accumulate(self.model):
                loss, _answer_tokens = answer_loss(self.model, batch)
                self.accelerator.backward(loss)
                if self.accelerator.sync_gradients and self.settings.max_grad_norm:
                    self.accelerator.clip_grad_norm_(
                        self.model.parameters(), self.settings.max_grad_norm
                    )
                self.optimizer.step()
                self.optimizer.zero_grad()
            losses.append(float(loss.detach()))
            tokens += int(batch["attention_mask"].sum())
        self.scheduler.step()
        return sum(losses) / len(losses), tokens

    def save_adapter(self, steps: int) -> Path:
        """Write the final adapter, tokenizer and ``ellora_adapter.json``."""
        target = self.output / "adapter"
        self.accelerator.wait_for_everyone()
        model = self.accelerator.unwrap_model(self.model)
        state = self.accelerator.get_state_dict(self.model)
        if self.accelerator.is_main_process:
            model.save_pretrained(str(target), state_dict=state)
            self.tokenizer.save_pretrained(str(target))
            meta = {
                "base_model": str(self.source),
                "prompt_format": self.fmt.name,
                "max_len": self.settings.max_len,
                "steps": steps,
                "lora": self.settings.lora.model_dump(),
            }
            (target / ADAPTER_META).write_text(json.dumps(meta, indent=2))
        return target


def train(settings: TrainSettings, *, resume: bool = False, progress: bool = True) -> TrainReport:
    """Run LoRA SFT as configured; resume from the newest checkpoint when ``resume``."""
    from tqdm.auto import tqdm

    run = _Run(settings, resume)
    main = run.accelerator.is_main_process
    run.output.mkdir(parents=True, exist_ok=True)
    log_path = run.output / "train_log.jsonl"
    bar = tqdm(
        total=settings.max_steps,
        initial=run.start_step,
        disable=not (main and progress),
        desc="train",
        unit="step",
    )
    first = last = None
    tokens_total, start = 0, time.perf_counter()
    run.model.train()
    with log_path.open("a", encoding="utf-8") as log:
        for step in range(run.start_step, settings.max_steps):
            step_start = time.perf_counter()
            loss, tokens = run.optimizer_step(step)
            first = loss if first is None else first
            last, tokens_total = loss, tokens_total + tokens
            record = {
                "step": step + 1,
                "loss": round(loss, 5),
                "lr": run.scheduler.get_last_lr()[0],
                "tokens": tokens,
                "seconds": round(time.perf_counter() - step_start, 4),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
            if main:
                log.write(json.dumps(record) + "\n")
                log.flush()
            bar.set_postfix(loss=f"{loss:.4f}")
            bar.update(1)
            if (step + 1) % settings.save_every == 0 or step + 1 == settings.max_steps:
                run.save_checkpoint(step + 1)
    bar.close()
    seconds = time.perf_counter() - start
    done = settings.max_steps - run.start_step
    adapter = run.save_adapter(settings.max_steps)
    report = TrainReport(
        start_step=run.start_step,
        steps=done,
        first_loss=first,
        last_loss=last,
        seconds=seconds,
        seconds_per_step=seconds / done if done else 0.0,
        tokens_per_s=tokens_total / seconds if seconds > 0 else 0.0,
        peak_rss_mb=peak_rss_mb(),
        examples=len(run.data.items),
        truncated=run.data.truncated,
        skipped=run.data.skipped,
        adapter_dir=str(adapter),
    )
    if main:
        (run.output / "train_report.json").write_text(json.dumps(asdict(report), indent=2))
        plot_loss(log_path, run.output / "loss.png")
    return report

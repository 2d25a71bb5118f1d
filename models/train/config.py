"""Training configuration (the ``[train]`` section of ``ellora.toml``), ChatKokkos defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DataFormat = Literal["auto", "chatkokkos", "hpc-instruct", "jsonl"]
# the steps engine-data variations are made of (models/train/engine_variants.py)
FOLD_STEPS = ("sum", "product", "max", "min", "count", "any", "all", "xor")
VARIANT_STEPS = ("rename", "float", "int", "vector", "size", "local", *FOLD_STEPS)
VariantStep = Literal.__getitem__(VARIANT_STEPS)


class LoraSettings(BaseModel):
    """The LoRA adapter: ChatKokkos used r=16, alpha=16, dropout 0.05 on q/k/v/o_proj."""

    r: int = Field(16, gt=0, description="adapter rank")
    alpha: int = Field(16, gt=0, description="scaling numerator (scale = alpha / r)")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="dropout on the adapter input")
    target_modules: list[str] = Field(
        ["q_proj", "k_proj", "v_proj", "o_proj"], description="module names that get adapters"
    )


class EngineDataSettings(BaseModel):
    """``ellora train dataset --from-engine``: verified ports of E4S library loops."""

    work_dir: str = Field("ellora-engine-data", description="downloads, sources, caches")
    variants_per_kernel: int = Field(2, ge=0, description="variations besides each kernel")
    fold_variants: int = Field(
        2, ge=0, description="more variations of a kernel that returns a sum: the same loop "
        "folding with another operator (product, max, min, count, any, all, xor)")
    verify_first: list[VariantStep] = Field(
        [], description="variation steps (e.g. product, max, count: see fold_variants) whose "
        "candidates are verified before the others, so that a time budget reaches them")
    verify_share: dict[str, float] = Field(
        {"openmp": 1.0, "kokkos": 0.35, "mpi": 0.35},
        description="share of candidates whose ports are built and tested, per target")
    forms: dict[str, float] = Field(
        {"pareval": 1.0, "translate": 0.5, "agent": 0.6, "refusal": 0.5, "explain": 0.15},
        description="expected number of copies of a record in each example form (0.5: "
        "half of the records; 2: each twice, rendered afresh); FORM:TARGET (e.g. "
        "translate:kokkos) overrides FORM for one target")
    balance_patterns: float = Field(
        0.0, ge=0.0, le=1.0,
        description="training split only: write each verified port of a rarer pattern "
        "(reduction, argmin, scan, search, ...) again, with fresh renderings, until its "
        "pattern has about this share of the most common pattern's ports per target "
        "(at most max_pattern_repeats times); 0 writes every port once")
    max_pattern_repeats: int = Field(4, ge=1, description="most times one port is written")
    specialize_share: float = Field(
        0.5, ge=0.0, le=1.0,
        description="share of the pareval and translate examples of a port that returns an "
        "accumulator shown with it declared in the body instead of passed in (on both sides)")
    reduction_notes: bool = Field(
        False, description="code answers quote, above each OpenMP reduction clause, the update "
        "that decides its operator (off: 700 steps on such data did not help, docs/OWN_MODEL.md)")
    max_answer_chars: int = Field(2400, gt=0, description="longer answers are left out")
    max_example_chars: int = Field(3600, gt=0,
                                   description="longer examples (all text) are left out")
    system_share: float = Field(0.7, ge=0.0, le=1.0,
                                description="share of examples that carry the system message")
    near_duplicate: float = Field(0.8, gt=0.0, le=1.0,
                                  description="Jaccard of normalized 5-shingles: a duplicate")
    leak_jaccard: float = Field(0.25, gt=0.0, le=1.0,
                                description="this close to eval code (Jaccard): left out")
    leak_containment: float = Field(0.45, gt=0.0, le=1.0,
                                    description="this share of a kernel inside eval code: out")
    validation_share: float = Field(0.05, ge=0.0, lt=0.5)
    test_share: float = Field(0.05, ge=0.0, lt=0.5)
    max_candidates: int | None = Field(None, gt=0, description="stop after this many kernels")
    time_budget_s: float | None = Field(None, gt=0, description="stop verifying after this")
    seed: int = Field(0)


class TrainSettings(BaseModel):
    """Supervised fine-tuning with a LoRA adapter; the loss is taken on answer tokens only."""

    base_model: str | None = Field(
        None, description="Hugging Face model directory or .gguf file (default: Gemma 3 270M)"
    )
    data: list[str] = Field([], description="training files (ChatKokkos JSON, JSONL, ...)")
    data_format: DataFormat = Field("auto", description="auto | chatkokkos | hpc-instruct | jsonl")
    prompt_format: str = Field("chatkokkos", description="chat | a named template")
    output_dir: str = Field("ellora-lora", description="checkpoints, adapter and logs go here")
    lora: LoraSettings = Field(default_factory=LoraSettings)
    learning_rate: float = Field(3e-4, gt=0.0)
    warmup_steps: int = Field(100, ge=0, description="linear warm-up optimizer steps")
    lr_schedule: Literal["linear", "cosine", "constant"] = Field("linear")
    weight_decay: float = Field(0.0, ge=0.0)
    max_grad_norm: float | None = Field(None, gt=0.0, description="clip gradients (off: None)")
    max_steps: int = Field(400, gt=0, description="optimizer steps")
    batch_size: int = Field(4, gt=0, description="sequences per device per micro-batch")
    grad_accum: int = Field(32, gt=0, description="micro-batches per optimizer step")
    max_len: int = Field(512, gt=8, description="tokens per sequence (longer ones are cut)")
    save_every: int = Field(100, gt=0, description="checkpoint every this many steps")
    keep_checkpoints: int = Field(2, gt=0, description="how many checkpoints to keep")
    seed: int = Field(42)
    device: str = Field("auto", description="auto | cpu | cuda (accelerate places ranks)")
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = Field(
        "auto", description="auto = bf16 on GPUs that have it, none on the CPU"
    )
    gradient_checkpointing: bool = Field(False, description="trade compute for memory")
    num_threads: int | None = Field(None, description="torch CPU threads (default: torch's)")
    engine: EngineDataSettings = Field(default_factory=EngineDataSettings)

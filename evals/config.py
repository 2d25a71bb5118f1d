"""Configuration of the evals (``[evals]`` in ellora.toml, ``ELLORA_EVALS__...``, ``--set
evals.x=y``), nested in the root settings as ``Settings.evals``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SlurmSettings(BaseModel):
    """Parsl's SlurmProvider: each block is one Slurm job running workers on its nodes."""

    partition: str | None = Field(None, description="Slurm partition (-p)")
    account: str | None = Field(None, description="Slurm account (-A)")
    qos: str | None = Field(None, description="quality of service (--qos)")
    nodes_per_block: int = Field(1, ge=1, description="nodes per Slurm job")
    init_blocks: int = Field(1, ge=0, description="jobs submitted at start")
    max_blocks: int = Field(4, ge=1, description="most jobs at once")
    walltime: str = Field("01:00:00", description="time limit per job, HH:MM:SS")
    worker_init: str = Field("", description="shell lines run before workers start (modules, "
                                             "venv activation)")
    scheduler_options: str = Field("", description="extra '#SBATCH ...' lines")
    exclusive: bool = Field(True, description="request whole nodes")


class ParslSettings(BaseModel):
    """Where build/validate/time tasks execute."""

    executor: Literal["threads", "htex-local", "slurm"] = Field(
        "threads", description="threads: a local thread pool; htex-local: local worker "
                               "processes; slurm: workers in Slurm jobs")
    workers: int = Field(2, ge=1, description="concurrent tasks (per node for slurm)")
    slurm: SlurmSettings = Field(default_factory=SlurmSettings)


class EvalSettings(BaseModel):
    """How samples are generated, built, validated and timed."""

    output_dir: str | None = Field(None, description="runs go here (default: state_dir/evals)")
    threads: list[int] = Field([1, 2], description="thread counts for OpenMP and Kokkos")
    ranks: list[int] = Field([1, 2], description="rank counts for MPI")
    hybrid: list[str] = Field(["1x2", "2x1"], description="ranks x threads for MPI+OpenMP")
    race_check: list[str] = Field(["4"], description="extra resource counts validation also "
                                                     "runs at (not timed): more threads or "
                                                     "ranks than cores expose data races")
    validation_reruns: int = Field(0, ge=0, description="extra validation runs of every passing "
                                   "ParEval sample (at the timed and race-check counts in "
                                   "turn): its own check uses 1,024 elements and two trials, "
                                   "so racy code passes by luck; any failed rerun fails it")
    timing_repeats: int = Field(5, ge=1, description="timed kernel calls after one warm-up "
                                                     "(median)")
    timing_rounds: int = Field(3, ge=1, description="timing runs per configuration, "
                                                    "reference interleaved (median)")
    exclusive_timing: bool = Field(True, description="no builds on this node while timing")
    build_wall_s: float = Field(180.0, gt=0, description="wall-clock limit per build")
    run_wall_s: float = Field(60.0, gt=0, description="wall-clock limit per run")
    output_bytes: int = Field(1_000_000, gt=0, description="stdout/stderr cap per command")
    generation_batch: int = Field(8, ge=1, description="requests in flight to the model server")
    max_tokens: int = Field(1024, gt=0, description="new tokens per sample (model alone)")
    seed: int = Field(1234, description="sample i is generated with seed + i")
    run_cuda: Literal["auto", "always", "never"] = Field(
        "auto", description="run CUDA binaries (auto: when nvidia-smi and /dev/nvidia0 exist)")
    parsl: ParslSettings = Field(default_factory=ParslSettings)

    def resources(self, model: str) -> list[str]:
        """Resource keys measured for a programming model ("2", or "RxT" for MPI+OpenMP)."""
        if model in ("openmp", "kokkos"):
            return [str(t) for t in self.threads]
        if model == "mpi":
            return [str(r) for r in self.ranks]
        if model == "mpi+openmp":
            return list(self.hybrid)
        return ["1"]

    def check_resources(self, model: str) -> list[str]:
        """Resource counts validation runs at: the timed ones plus the race check."""
        timed = self.resources(model)
        if model in ("serial", "cuda"):
            return timed
        extra = [f"1x{r}" if model == "mpi+openmp" and "x" not in r else r
                 for r in self.race_check]
        return timed + [r for r in extra if r not in timed]

"""``ellora train``: LoRA fine-tuning (PEFT + transformers + accelerate), adapter merging,
replay verification, test-set generation and HPC-Coder-style code data sets.

Only configuration is imported here; torch and friends load inside the functions that need them.
"""

from ellora.models.train.config import LoraSettings, TrainSettings

__all__ = ["LoraSettings", "TrainSettings"]
